/** Input checks shared by the host-side state writers. All throw `PolicyInputError`. */
import { describeValue, PolicyInputError } from "./errors.ts";

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
