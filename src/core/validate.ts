/**
 * Input checks shared by the host-side state writers. The `require*` checks throw
 * `PolicyInputError`; the `is*` predicates are the same tests without a message, for the
 * writers a host calls per request, which check first and build their error context (a string
 * naming the endpoint or slot, ~50 ns to build) only when something is wrong.
 */
import { describeValue, PolicyInputError } from "./errors.ts";

/** True when `requireFinite(_, _, value, min)` passes. */
export function isFiniteAtLeast(value: number, min = 0): boolean {
  return typeof value === "number" && Number.isFinite(value) && value >= min;
}

/** True when `requireInteger(_, _, value, min, maxExclusive)` passes. */
export function isIntegerIn(value: number, min: number, maxExclusive: number): boolean {
  return Number.isInteger(value) && value >= min && value < maxExclusive;
}

/** True when `requireTime(_, _, value)` passes. */
export function isTime(value: number): boolean {
  return typeof value === "number" && Number.isFinite(value);
}

export function requireFinite(context: string, field: string, value: number, min = 0): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < min) {
    throw new PolicyInputError(
      `${context}: '${field}' must be a finite number >= ${min}: current value is ${
        describeValue(value)
      }`,
    );
  }
  return value;
}

export function requireInteger(
  context: string,
  field: string,
  value: number,
  min: number,
  maxExclusive: number,
): number {
  if (!Number.isInteger(value) || value < min || value >= maxExclusive) {
    throw new PolicyInputError(
      `${context}: '${field}' must be an integer from ${min} to ${maxExclusive - 1}: ` +
        `current value is ${describeValue(value)}`,
    );
  }
  return value;
}

export function requireTime(context: string, field: string, value: number): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new PolicyInputError(
      `${context}: '${field}' must be a finite time in ms: current value is ${
        describeValue(value)
      }`,
    );
  }
  return value;
}
