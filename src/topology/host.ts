/**
 * The real machine behind `ProbeEnv`: subprocesses with a hard timeout and the file system
 * (optionally under a root prefix, so a recorded sysfs tree can stand in for /sys).
 */
import type { CommandResult, CommandRunner, ProbeEnv, TopologyFs } from "./env.ts";
import { ToolOutputError } from "./errors.ts";

/** After the timeout the child gets SIGKILL; a child stuck in the kernel is abandoned after this. */
const KILL_GRACE_MS = 1000;

export function denoCommandRunner(timeoutMs: number): CommandRunner {
  return async (command, args) => {
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(command, {
        args: [...args],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return { kind: "missing" };
      return { kind: "error", message: error instanceof Error ? error.message : String(error) };
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeoutMs);
    });
    const output = child.output();
    const first = await Promise.race([output, expired]);
    clearTimeout(timer);
    if (first === "timeout") {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
      // nvidia-smi can hang inside the driver where even SIGKILL waits: do not wait forever.
      const grace = new Promise<void>((resolve) => setTimeout(resolve, KILL_GRACE_MS));
      await Promise.race([output.catch(() => undefined), grace]);
      child.unref();
      return { kind: "timeout", timeoutMs } satisfies CommandResult;
    }
    const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
    if (first.code !== 0) {
      // nvidia-smi reports some failures ("No devices were found") on stdout.
      return {
        kind: "failed",
        code: first.code,
        stderr: decode(first.stderr) || decode(first.stdout),
      };
    }
    return { kind: "ok", stdout: decode(first.stdout) };
  };
}

function isAbsent(error: unknown): boolean {
  return error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory;
}

export function denoFs(root = ""): TopologyFs {
  return {
    async readText(path) {
      try {
        return await Deno.readTextFile(root + path);
      } catch (error) {
        if (isAbsent(error)) return null;
        throw new ToolOutputError(path, null, "the file", path, `cannot be read (${error})`);
      }
    },
    async list(path) {
      try {
        const names: string[] = [];
        for await (const entry of Deno.readDir(root + path)) names.push(entry.name);
        return names;
      } catch (error) {
        if (isAbsent(error)) return null;
        throw new ToolOutputError(path, null, "the directory", path, `cannot be read (${error})`);
      }
    },
  };
}

export function systemProbeEnv(options: { timeoutMs: number }): ProbeEnv {
  return {
    run: denoCommandRunner(options.timeoutMs),
    fs: denoFs(),
    env: (name) => Deno.env.get(name),
    hostname: Deno.hostname(),
    now: new Date(),
  };
}
