/** Runs `fn` with console.log/error captured: how the CLI tests read what a command printed. */
export async function captured<T>(
  fn: () => Promise<T>,
): Promise<{ result: T; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const { log, error } = console;
  console.log = (...args: unknown[]) => out.push(args.join(" "));
  console.error = (...args: unknown[]) => err.push(args.join(" "));
  try {
    const result = await fn();
    return { result, out: out.join("\n"), err: err.join("\n") };
  } finally {
    Object.assign(console, { log, error });
  }
}
