/**
 * What the probe needs from the machine, as interfaces, so tests can probe recorded fixtures
 * without a GPU (tests/topology/_fixtures.ts) and `host.ts` can supply the real thing.
 */

export type CommandResult =
  | { readonly kind: "ok"; readonly stdout: string }
  /** The executable is not on PATH. */
  | { readonly kind: "missing" }
  | { readonly kind: "failed"; readonly code: number; readonly stderr: string }
  | { readonly kind: "timeout"; readonly timeoutMs: number }
  /** It could not be started for another reason (permissions, ...). */
  | { readonly kind: "error"; readonly message: string };

export type CommandRunner = (command: string, args: readonly string[]) => Promise<CommandResult>;

export interface TopologyFs {
  /** The file's text, or null when it does not exist. */
  readText(path: string): Promise<string | null>;
  /** Entry names of a directory, or null when it does not exist. */
  list(path: string): Promise<string[] | null>;
}

export interface ProbeEnv {
  readonly run: CommandRunner;
  readonly fs: TopologyFs;
  /** Environment variables (CUDA_VISIBLE_DEVICES, CUDA_DEVICE_ORDER). */
  readonly env: (name: string) => string | undefined;
  readonly hostname: string;
  readonly now: Date;
}
