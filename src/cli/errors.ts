/**
 * `CliError`: a problem with the user's input (a flag, a file, a config) that the CLI reports
 * as one clear line and a non-zero exit code, without a stack trace.
 */
export class CliError extends Error {
  override name = "CliError";
  constructor(message: string, readonly exitCode = 2) {
    super(message);
  }
}
