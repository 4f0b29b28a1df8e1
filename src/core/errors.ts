/** Errors for bad input to the policy core: they name the field and the offending value. */

export class PolicyInputError extends Error {
  override name = "PolicyInputError";
}

/** Renders a value for an error message: NaN, -0, arrays and objects stay recognisable. */
export function describeValue(value: unknown): string {
  if (typeof value === "number") return Object.is(value, -0) ? "-0" : String(value);
  if (typeof value === "string") return JSON.stringify(value);
  if (value === undefined) return "undefined";
  try {
    const text = JSON.stringify(value);
    return text.length > 80 ? text.slice(0, 77) + "..." : text;
  } catch {
    return String(value);
  }
}
