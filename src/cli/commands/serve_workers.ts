/**
 * `pdroute serve --workers N`: N router processes on one port (SO_REUSEPORT: the kernel
 * spreads new connections over them), each a replica sharing load and prefixes with the others
 * through the replica sync (`--sync`, required). This process only supervises: it starts the
 * workers with the same flags (plus `--reuse-port` and a replica id `<id>-w<k>`), starts a
 * worker again when one exits unexpectedly, and passes SIGINT/SIGTERM on.
 */
import { fileURLToPath } from "node:url";
import type { RouterConfig } from "../../router/config.ts";
import { defaultReplicaId } from "../../router/sync/replica_sync.ts";
import { CliError } from "../errors.ts";
import { untilSignal } from "../signals.ts";

/** Deno.args without the options the supervisor sets per worker. */
export function workerArgs(args: readonly string[], replicaId: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--workers" || a === "--replica-id") {
      i++;
      continue;
    }
    if (a.startsWith("--workers=") || a.startsWith("--replica-id=") || a === "--reuse-port") {
      continue;
    }
    out.push(a);
  }
  return [...out, "--reuse-port", "--replica-id", replicaId];
}

export function checkWorkersConfig(workers: number, config: RouterConfig): void {
  if (!config.sync) {
    throw new CliError(
      `--workers ${workers} needs --sync nats://HOST:PORT (or "sync" in --config): the ` +
        "workers share their load through it",
    );
  }
  if (config.port === 0) {
    throw new CliError(`--workers ${workers} needs a fixed --port: current value is 0`);
  }
}

/** A worker that exits sooner than this after starting is not started again. */
const MIN_UPTIME_MS = 5000;

export async function runWorkers(workers: number, config: RouterConfig): Promise<void> {
  const base = config.sync?.replicaId ?? defaultReplicaId();
  const main = fileURLToPath(Deno.mainModule);
  let stopping = false;
  const failed = Promise.withResolvers<string>();
  const children = new Map<number, Deno.ChildProcess>();
  const spawn = (k: number) => {
    const started = performance.now();
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        "--unstable-no-legacy-abort",
        "--unstable-net", // Deno.serve's reusePort
        main,
        ...workerArgs(Deno.args, `${base}-w${k}`),
      ],
      stdin: "null",
    }).spawn();
    children.set(k, child);
    child.status.then((s) => {
      if (stopping) return;
      const how = `worker ${k} (pid ${child.pid}) exited with ${s.signal ?? s.code}`;
      if (performance.now() - started < MIN_UPTIME_MS) {
        failed.resolve(`${how} within ${MIN_UPTIME_MS / 1000} s of starting`);
        return;
      }
      console.error(`pdroute serve: ${how}; starting it again`);
      setTimeout(() => !stopping && spawn(k), 1000);
    });
  };
  for (let k = 0; k < workers; k++) spawn(k);
  console.log(
    `pdroute serve: ${workers} workers on http://${config.host}:${config.port} ` +
      `(replicas ${base}-w0..w${workers - 1}, sync ${config.sync!.url})`,
  );
  const why = await Promise.race([untilSignal().then(() => null), failed.promise]);
  stopping = true;
  for (const c of children.values()) {
    try {
      c.kill("SIGTERM");
    } catch {
      // already gone
    }
  }
  await Promise.all([...children.values()].map((c) => c.status));
  if (why !== null) throw new CliError(`${why}; stopped the others`, 1);
}
