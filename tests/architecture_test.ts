/**
 * The layout is the architecture (ARCHITECTURE.md): these rules keep it honest.
 * - src/core is pure: it imports only src/core and zod, and never touches the clock,
 *   randomness, the network, the file system or WASM.
 * - only src/wasm touches WebAssembly.
 * - src/sim and src/router never import each other.
 * - the live pieces stay apart: the router does not import the emulator or the driver; the
 *   emulator (a test double) imports neither the router, the driver nor the simulator; the
 *   driver may start routers but imports neither the simulator nor the emulator.
 * - the live router and emulator keep files under 300 lines, and the router names no policy
 * - neutral modules shared by them (engine_model, workload, metrics, openai, io, kv) import none of
 *   sim, router, emulator, drive or cli.
 */
import { ok } from "node:assert/strict";

async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) out.push(...await sources(path));
    else if (/\.(ts|js)$/.test(entry.name)) out.push(path);
  }
  return out;
}

function imports(text: string): string[] {
  return [...text.matchAll(/(?:import|export)[^"']*?from\s+["']([^"']+)["']/g)].map((m) => m[1]);
}

function resolve(from: string, spec: string): string {
  if (!spec.startsWith(".")) return spec;
  return new URL(spec, `file:///${from}`).pathname.slice(1);
}

/** Source text without comments, so prose such as "no Math.random" does not count. */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
}

const files = await sources("src");

Deno.test("src/core is pure: no I/O, clock, randomness or WASM; imports only core and zod", async () => {
  for (const file of files.filter((f) => f.startsWith("src/core/"))) {
    const text = code(await Deno.readTextFile(file));
    for (const spec of imports(text)) {
      const target = resolve(file, spec);
      ok(target.startsWith("src/core/") || spec === "zod", `${file} imports ${spec}`);
    }
    for (
      const banned of [
        "Math.random",
        "Date.now",
        "performance.now",
        "Deno.",
        "fetch(",
        "WebAssembly",
      ]
    ) {
      ok(!text.includes(banned), `${file} uses ${banned}`);
    }
  }
});

Deno.test("only src/wasm touches WebAssembly", async () => {
  for (const file of files.filter((f) => !f.startsWith("src/wasm/"))) {
    ok(
      !code(await Deno.readTextFile(file)).includes("WebAssembly."),
      `${file} touches WebAssembly`,
    );
  }
});

Deno.test("src/sim and src/router never import each other", async () => {
  for (const file of files) {
    const own = file.startsWith("src/sim/")
      ? "sim"
      : file.startsWith("src/router/")
      ? "router"
      : null;
    if (!own) continue;
    const other = own === "sim" ? "src/router/" : "src/sim/";
    for (const spec of imports(await Deno.readTextFile(file))) {
      ok(!resolve(file, spec).startsWith(other), `${file} imports ${spec}`);
    }
  }
});

const FORBIDDEN: Readonly<Record<string, readonly string[]>> = {
  "src/router/": ["src/sim/", "src/emulator/", "src/drive/", "src/cli/"],
  "src/emulator/": ["src/sim/", "src/router/", "src/drive/", "src/cli/"],
  "src/drive/": ["src/sim/", "src/emulator/", "src/cli/"],
  "src/engine_model/": ["src/sim/", "src/router/", "src/emulator/", "src/drive/", "src/cli/"],
  "src/workload/": ["src/sim/", "src/router/", "src/emulator/", "src/drive/", "src/cli/"],
  "src/metrics/": ["src/sim/", "src/router/", "src/emulator/", "src/drive/", "src/cli/"],
  "src/openai/": ["src/sim/", "src/router/", "src/emulator/", "src/drive/", "src/cli/"],
  "src/io/": ["src/sim/", "src/router/", "src/emulator/", "src/drive/", "src/cli/"],
  "src/sweep/": ["src/router/", "src/emulator/", "src/drive/", "src/cli/"],
  "src/league/": ["src/router/", "src/emulator/", "src/drive/", "src/cli/"],
  "src/kv/": ["src/sim/", "src/router/", "src/emulator/", "src/drive/", "src/cli/"],
};

Deno.test("live router, emulator, driver and the neutral modules keep to their imports", async () => {
  for (const file of files) {
    const rule = Object.entries(FORBIDDEN).find(([dir]) => file.startsWith(dir));
    if (!rule) continue;
    for (const spec of imports(await Deno.readTextFile(file))) {
      const target = resolve(file, spec);
      for (const banned of rule[1]) ok(!target.startsWith(banned), `${file} imports ${spec}`);
    }
  }
});

Deno.test("the live router and emulator: one concern per small file; no policy named in the router", async () => {
  for (const file of files) {
    if (!file.startsWith("src/router/") && !file.startsWith("src/emulator/")) continue;
    const text = await Deno.readTextFile(file);
    const lines = text.split("\n").length;
    ok(lines <= 300, `${file} has ${lines} lines: split it along its concerns`);
    // What a policy does (migrates, reads metrics...) comes from src/core/policies.ts.
    if (file.startsWith("src/router/")) {
      ok(!/policy\s*[!=]==?\s*["']/.test(code(text)), `${file} compares a policy name`);
    }
  }
});
