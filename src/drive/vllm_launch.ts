/**
 * Launching real vLLM engines for a driven run: one `vllm serve MODEL --port P` per GPU with
 * `CUDA_VISIBLE_DEVICES=<gpu>` (numeric index), the NixlConnector P/D config
 * (`--kv-transfer-config '{"kv_connector":"NixlConnector","kv_role":"kv_both"}'`, so every
 * engine can be a prefill or a decode instance) and a distinct `VLLM_NIXL_SIDE_CHANNEL_PORT`
 * per engine (several on one host would otherwise collide). Each engine logs to its own file.
 * `launchEngines` waits until every `/health` answers 200; `stop` sends SIGTERM, then SIGKILL
 * after a grace period.
 */

export const KV_TRANSFER_CONFIG = JSON.stringify({
  kv_connector: "NixlConnector",
  kv_role: "kv_both",
});

export class LaunchError extends Error {
  override name = "LaunchError";
}

export interface LaunchOptions {
  /** Model path or Hugging Face name passed to `vllm serve`. */
  readonly model: string;
  readonly gpus: readonly number[];
  /** Port of the first engine; the others follow. */
  readonly basePort: number;
  /** First NIXL side-channel port; the others follow. */
  readonly sideChannelBasePort: number;
  readonly host: string;
  /** The vllm executable (name looked up on PATH, or a path). */
  readonly vllm: string;
  /** Extra arguments for every `vllm serve`. */
  readonly extraArgs: readonly string[];
  readonly healthTimeoutMs: number;
  /** Directory for the engines' logs. */
  readonly logDir: string;
  readonly env?: Readonly<Record<string, string>>;
}

export interface LaunchedEngine {
  readonly gpu: number;
  readonly url: string;
  readonly port: number;
  readonly log: string;
  readonly args: readonly string[];
}

export interface Launched {
  readonly engines: readonly LaunchedEngine[];
  stop(): Promise<void>;
}

/** The executable's path if `name` is runnable (a path, or found on PATH), else null. */
export function findExecutable(name: string, path = Deno.env.get("PATH") ?? ""): string | null {
  const candidates = name.includes("/") ? [name] : path.split(":").filter((d) => d !== "").map(
    (d) => `${d}/${name}`,
  );
  for (const c of candidates) {
    try {
      const info = Deno.statSync(c);
      if (info.isFile && info.mode !== null && (info.mode & 0o111) !== 0) return c;
    } catch {
      // not here
    }
  }
  return null;
}

/** The argument list of one engine (after the executable). */
export function serveArgs(o: LaunchOptions, port: number): string[] {
  return [
    "serve",
    o.model,
    "--host",
    o.host,
    "--port",
    String(port),
    "--kv-transfer-config",
    KV_TRANSFER_CONFIG,
    ...o.extraArgs,
  ];
}

async function tail(path: string, lines = 15): Promise<string> {
  try {
    return (await Deno.readTextFile(path)).trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

export async function launchEngines(o: LaunchOptions): Promise<Launched> {
  const exe = findExecutable(o.vllm);
  if (exe === null) {
    throw new LaunchError(
      `vLLM is not installed: '${o.vllm}' was not found on PATH. Install vLLM ` +
        `(pip install vllm) on a machine with GPUs, or drive engines that are already running ` +
        `(--target URL or --engines URLs; 'pdroute emulate' starts emulated ones).`,
    );
  }
  if (o.gpus.length === 0) throw new LaunchError("no GPUs to launch engines on");
  Deno.mkdirSync(o.logDir, { recursive: true });
  const children: { child: Deno.ChildProcess; engine: LaunchedEngine }[] = [];
  const stop = async () => {
    for (const { child } of children) {
      try {
        child.kill("SIGTERM");
      } catch {
        // already gone
      }
    }
    await Promise.all(children.map(async ({ child }) => {
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch {
          // already gone
        }
      }, 30_000);
      await child.status;
      clearTimeout(timer);
    }));
  };
  try {
    o.gpus.forEach((gpu, i) => {
      const port = o.basePort + i;
      const args = serveArgs(o, port);
      const log = `${o.logDir}/vllm-gpu${gpu}.log`;
      Deno.writeTextFileSync(log, `$ CUDA_VISIBLE_DEVICES=${gpu} ${exe} ${args.join(" ")}\n`);
      const child = new Deno.Command(exe, {
        args,
        env: {
          ...o.env,
          CUDA_VISIBLE_DEVICES: String(gpu),
          VLLM_NIXL_SIDE_CHANNEL_PORT: String(o.sideChannelBasePort + i),
        },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      // Both streams append to one log (O_APPEND keeps their writes whole).
      for (const stream of [child.stdout, child.stderr]) {
        void stream.pipeTo(Deno.openSync(log, { append: true }).writable).catch(() => {});
      }
      children.push({ child, engine: { gpu, url: `http://${o.host}:${port}`, port, log, args } });
    });
    await Promise.all(children.map(({ child, engine }) => waitHealthy(child, engine, o)));
  } catch (e) {
    await stop();
    throw e;
  }
  return { engines: children.map((c) => c.engine), stop };
}

async function waitHealthy(
  child: Deno.ChildProcess,
  e: LaunchedEngine,
  o: LaunchOptions,
): Promise<void> {
  const deadline = performance.now() + o.healthTimeoutMs;
  let exited: Deno.CommandStatus | null = null;
  void child.status.then((s) => exited = s);
  while (performance.now() < deadline) {
    if (exited) {
      throw new LaunchError(
        `vllm on GPU ${e.gpu} (port ${e.port}) exited with code ${
          (exited as Deno.CommandStatus).code
        } before it was healthy; last lines of ${e.log}:\n${await tail(e.log)}`,
      );
    }
    try {
      const res = await fetch(`${e.url}/health`, { signal: AbortSignal.timeout(2000) });
      await res.body?.cancel();
      if (res.status === 200) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new LaunchError(
    `vllm on GPU ${e.gpu} (port ${e.port}) was not healthy within ${o.healthTimeoutMs} ms; ` +
      `last lines of ${e.log}:\n${await tail(e.log)}`,
  );
}
