/**
 * Recorded machines (tests/fixtures/topology/<case>/) as a `ProbeEnv`: nvidia-smi answers from
 * the case's files (absent file = nvidia-smi not installed), sysfs from its sysfs.json, and the
 * environment from its env.json. Overrides replace single answers to model failures.
 */
import type { CommandResult, ProbeEnv, TopologyFs } from "../../src/topology/env.ts";

export const FIXTURES = new URL("../fixtures/topology/", import.meta.url);

export function fixtureText(path: string): string {
  return Deno.readTextFileSync(new URL(path, FIXTURES));
}

function optionalText(path: string): string | null {
  try {
    return fixtureText(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

export type Tool = "query" | "topo" | "list";

const TOOL_FILES: Record<Tool, string> = {
  query: "query-gpu.csv",
  topo: "topo-m.txt",
  list: "list.txt",
};

function toolOf(args: readonly string[]): Tool {
  if (args[0]?.startsWith("--query-gpu=")) return "query";
  if (args[0] === "topo" && args[1] === "-m") return "topo";
  if (args[0] === "-L") return "list";
  throw new Error(`unexpected nvidia-smi call: ${args.join(" ")}`);
}

/** An in-memory sysfs: `files` maps absolute paths to contents. */
export function memoryFs(files: Readonly<Record<string, string>>): TopologyFs {
  return {
    readText: (path) => Promise.resolve(files[path] ?? null),
    list(path) {
      const prefix = path.endsWith("/") ? path : `${path}/`;
      const names = new Set(
        Object.keys(files).filter((f) => f.startsWith(prefix)).map((f) =>
          f.slice(prefix.length).split("/")[0]
        ),
      );
      return Promise.resolve(names.size === 0 ? null : [...names]);
    },
  };
}

export function sysfsFiles(name: string): Record<string, string> {
  return JSON.parse(fixtureText(`${name}/sysfs.json`));
}

export interface FixtureOptions {
  readonly commands?: Partial<Record<Tool, CommandResult | string>>;
  readonly env?: Readonly<Record<string, string>>;
  readonly fs?: TopologyFs;
}

export interface FixtureEnv extends ProbeEnv {
  /** The nvidia-smi calls made, in order. */
  readonly calls: Tool[];
}

export function fixtureEnv(name: string, options: FixtureOptions = {}): FixtureEnv {
  const calls: Tool[] = [];
  const recordedEnv = JSON.parse(optionalText(`${name}/env.json`) ?? "{}");
  const env = { ...recordedEnv, ...options.env };
  return {
    calls,
    run(command, args) {
      if (command !== "nvidia-smi") throw new Error(`unexpected command ${command}`);
      const tool = toolOf(args);
      calls.push(tool);
      const override = options.commands?.[tool];
      const text = typeof override === "string"
        ? override
        : override === undefined
        ? optionalText(`${name}/${TOOL_FILES[tool]}`)
        : null;
      const result: CommandResult = override !== undefined && typeof override !== "string"
        ? override
        : text === null
        ? { kind: "missing" }
        : { kind: "ok", stdout: text };
      return Promise.resolve(result);
    },
    fs: options.fs ?? memoryFs(sysfsFiles(name)),
    env: (key) => env[key],
    hostname: name,
    now: new Date("2025-01-01T00:00:00Z"),
  };
}

/** Asserts `fn` throws an Error whose message contains every fragment; returns the error. */
export async function rejects(
  fn: () => unknown,
  type: abstract new (...args: never[]) => Error,
  ...fragments: string[]
): Promise<Error> {
  try {
    await fn();
  } catch (error) {
    if (!(error instanceof type)) throw error;
    for (const f of fragments) {
      if (!error.message.includes(f)) {
        throw new Error(`message lacks ${JSON.stringify(f)}: ${error.message}`);
      }
    }
    return error;
  }
  throw new Error(`expected ${type.name} containing ${fragments.join(" | ")}`);
}
