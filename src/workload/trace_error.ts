/** A malformed trace: the message names the file, the line and the field. */
export class TraceError extends Error {
  override name = "TraceError";
}

export function fieldError(
  file: string,
  line: number,
  field: string,
  problem: string,
  value: unknown,
): TraceError {
  return new TraceError(
    `${file}:${line}: field '${field}' ${problem}: current value is ${
      JSON.stringify(value) ?? String(value)
    }`,
  );
}

/** A non-negative integer token count from a trace field. */
export function tokenCount(
  file: string,
  line: number,
  field: string,
  value: unknown,
  min = 0,
): number {
  const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isInteger(n) || n < min) {
    throw fieldError(file, line, field, `must be an integer >= ${min}`, value);
  }
  return n;
}

/** Fails early, by name, when a trace file cannot be opened. */
export function requireReadable(path: string): void {
  try {
    if (!Deno.statSync(path).isFile) throw new Error("not a regular file");
  } catch (e) {
    throw new TraceError(`cannot read trace '${path}': ${(e as Error).message}`);
  }
}

/** A trace that ends before its first request: says why, naming the file. */
export function noRequests(file: string, bytes: number, rows: string): TraceError {
  return new TraceError(
    bytes === 0 ? `${file}: the file is empty: no requests` : `${file}: ${rows}: no requests`,
  );
}

/** The trace options cut the trace before its first request. */
export function limitsLeaveNone(
  file: string,
  o: { durationMs?: number; maxRequests?: number },
  firstArrivalMs: number,
): TraceError {
  const why = o.maxRequests !== undefined && o.maxRequests < 1
    ? `maxRequests ${o.maxRequests} leaves no request`
    : `a duration of ${o.durationMs} ms leaves no request: the first arrival is at ` +
      `${Math.round(firstArrivalMs)} ms`;
  return new TraceError(`${file}: ${why}`);
}
