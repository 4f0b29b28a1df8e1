/**
 * `RunInputError`: a run directory the report cannot use (a missing file, a corrupt summary, a
 * malformed CSV row). The message names the file, and for content the line, column and value;
 * the CLI prints it as one line and exits 2.
 */
export class RunInputError extends Error {
  override name = "RunInputError";
}

/** The report cannot be built on this machine (its chart library is not installed). */
export class ReportSetupError extends Error {
  override name = "ReportSetupError";
}

/** "no such file" or the system's reason, for "cannot read X: <why>". */
export function readFailure(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return "no such file";
  if (error instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (error instanceof Deno.errors.IsADirectory) return "it is a directory";
  return (error as Error).message;
}
