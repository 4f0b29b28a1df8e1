/**
 * The npm package (packages/core) where it claims to run: built from the current sources,
 * packed by `npm pack`, installed offline from the tarball into an empty folder (see
 * _pack.ts), then
 * - its example run by plain Node, by Deno and in headless Chromium (a page served on
 *   loopback; skipped, saying so, when no Chromium is installed), printing the same lines;
 * - a Node script (_node_check.mjs) comparing the packaged WASM core with the packaged TS
 *   reference decision by decision, and measuring what a decision allocates;
 * - a TypeScript user's file type-checked against the package's declarations alone.
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { join, resolve } from "node:path";
import { ABI_VERSION } from "../../src/core/abi.ts";
import type { RouteDecision } from "../../src/core/request.ts";
import { findChromium, withChromium } from "../report/_browser.ts";
import {
  cleanUp,
  type Installed,
  PACKAGE_DIR,
  packAndInstall,
  run,
  runOk,
  serveFolder,
} from "./_pack.ts";

const chromiumPath = findChromium();
if (chromiumPath === null) {
  console.warn(
    "package browser check SKIPPED: no Chromium (apt-get install chromium, or set PDROUTE_CHROMIUM)",
  );
}

let installing: Promise<Installed> | null = null;
/** One build, pack and install for every test here. */
function installed(): Promise<Installed> {
  installing ??= packAndInstall();
  return installing;
}
globalThis.addEventListener("unload", () => {
  installing?.then(cleanUp).catch(() => {});
});

/** What example.mjs prints for each request. */
type ExampleLine =
  & { readonly request: number }
  & Pick<
    RouteDecision,
    "status" | "prefill" | "decode" | "disaggregated" | "ttftMs" | "tpotMs" | "uncachedTokens"
  >;

function lines(text: string): string[] {
  return text.trim().split("\n").filter((l) => l.trim() !== "");
}

/** The user's copy of the example: the one in the tarball, next to their package.json. */
async function exampleIn(dir: string): Promise<string> {
  const shipped = join(dir, "node_modules/@pdroute/core/example.mjs");
  equal(
    await Deno.readTextFile(shipped),
    await Deno.readTextFile(join(PACKAGE_DIR, "example.mjs")),
    "the tarball ships packages/core/example.mjs",
  );
  await Deno.copyFile(shipped, join(dir, "example.mjs"));
  return "example.mjs";
}

async function nodeExample(): Promise<string[]> {
  const { dir } = await installed();
  return lines((await runOk("node", [await exampleIn(dir)], dir)).stdout);
}

Deno.test("npm pack: the ESM bundle, its types and the wasm; no dependency, no install script", async () => {
  const { tarball } = await installed();
  const listing = lines((await runOk("tar", ["-tzf", tarball], resolve("."))).stdout);
  deepEqual(listing.sort(), [
    "package/CHANGELOG.md",
    "package/README.md",
    "package/dist/index.d.ts",
    "package/dist/index.js",
    "package/dist/pdroute_core.wasm",
    "package/example.mjs",
    "package/package.json",
  ]);
  const manifest = JSON.parse(
    (await runOk("tar", ["-xzOf", tarball, "package/package.json"], resolve("."))).stdout,
  );
  equal(manifest.name, "@pdroute/core");
  equal(manifest.type, "module");
  equal(Number(manifest.version.split(".")[0]), ABI_VERSION, "major version = ABI version");
  for (const field of ["dependencies", "peerDependencies", "optionalDependencies"]) {
    equal(manifest[field], undefined, `${field}: the bundle carries what it needs`);
  }
  deepEqual(Object.keys(manifest.scripts ?? {}), ["prepack"], "nothing runs at install");
  ok(
    manifest.scripts.prepack.includes(`deno@${Deno.version.deno} task build:package`),
    "prepack builds with the Deno the project pins",
  );
  deepEqual(manifest.exports["."], { types: "./dist/index.d.ts", default: "./dist/index.js" });
  const changelog = await Deno.readTextFile(join(PACKAGE_DIR, "CHANGELOG.md"));
  ok(changelog.includes(`## ${manifest.version}`), "CHANGELOG has this version");
});

Deno.test("node example.mjs, from the tarball installed offline, prints one decision a line", async () => {
  const out = (await nodeExample()).map((l) => JSON.parse(l) as ExampleLine);
  equal(out.length, 4);
  out.forEach((d, i) => {
    const where = JSON.stringify(d);
    equal(d.request, i, where);
    equal(d.status, "ok", where);
    ok([2, 3].includes(d.decode), `decodes on a decode endpoint: ${where}`);
    ok(d.disaggregated ? [0, 1].includes(d.prefill) : d.prefill === d.decode, where);
    ok(d.ttftMs > 0 && d.tpotMs > 0, where);
  });
  // What the example's comments say of each request.
  equal(out[0].disaggregated, false, "the short prompt prefills where it decodes");
  equal(out[1].prefill, 1, "the long prompt avoids prefill 0's queue");
  equal(out[1].disaggregated, true);
  equal(out[2].prefill, 1, "the cached prompt follows its cache");
  equal(out[2].uncachedTokens, 2048 - 3 * 512);
});

Deno.test("the README's ten-line example runs in Node from the installed package", async () => {
  const { dir } = await installed();
  const readme = await Deno.readTextFile(join(PACKAGE_DIR, "README.md"));
  const code = readme.match(/## Ten lines\n\n```js\n([\s\S]*?)```/)?.[1];
  ok(code, "README.md has the example");
  equal(code.split("\n").filter((l) => l.trim() !== "").length, 10);
  await Deno.writeTextFile(join(dir, "ten.mjs"), code);
  const [line, ...rest] = lines((await runOk("node", ["ten.mjs"], dir)).stdout);
  deepEqual(rest, []);
  const [prefill, decode, disaggregated, ttft] = line.split(" ");
  ok([0, 1, 2].includes(Number(prefill)) && [1, 2].includes(Number(decode)), line);
  ok(["true", "false"].includes(disaggregated) && Number(ttft) > 0, line);
});

Deno.test("Deno runs the installed package's example and prints what Node prints", async () => {
  const { dir } = await installed();
  const expected = await nodeExample();
  const out = await runOk(Deno.execPath(), ["run", "--allow-read", "example.mjs"], dir);
  deepEqual(lines(out.stdout), expected);
});

Deno.test({
  name: "headless Chromium loads the package from a loopback server and prints what Node prints",
  ignore: chromiumPath === null,
  // playwright keeps its connection's timers and pipes until the process exits.
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const { dir } = await installed();
    const expected = await nodeExample();
    await Deno.writeTextFile(
      join(dir, "index.html"),
      `<!doctype html>
<meta charset="utf-8">
<title>@pdroute/core in a browser</title>
<script type="importmap">
{ "imports": { "@pdroute/core": "./node_modules/@pdroute/core/dist/index.js" } }
</script>
<script type="module">
try {
  await import("./example.mjs");
  document.documentElement.dataset.done = "ok";
} catch (e) {
  console.error(String(e?.stack ?? e));
  document.documentElement.dataset.done = "error";
}
</script>
`,
    );
    const server = serveFolder(dir);
    try {
      const origin = `http://127.0.0.1:${server.addr.port}`;
      const seen = await withChromium(async (context) => {
        const page = await context.newPage();
        const logged: string[] = [], errors: string[] = [], elsewhere: string[] = [];
        page.on("console", (m) => (m.type() === "error" ? errors : logged).push(m.text()));
        page.on("pageerror", (e) => errors.push(`uncaught: ${e.message}`));
        await page.route("**/*", (route) => {
          const url = route.request().url();
          if (url.startsWith(origin + "/")) return route.continue();
          elsewhere.push(url);
          return route.abort();
        });
        await page.goto(`${origin}/index.html`, { waitUntil: "load", timeout: 30_000 });
        await page.waitForSelector("html[data-done]", { timeout: 30_000 });
        const done = await page.getAttribute("html", "data-done");
        return { done, logged, errors, elsewhere };
      }, chromiumPath);
      deepEqual(seen.errors, []);
      equal(seen.done, "ok");
      deepEqual(seen.elsewhere, [], "the page loads nothing but the package");
      deepEqual(seen.logged, expected);
    } finally {
      await server.shutdown();
    }
  },
});

interface Allocation {
  readonly into: boolean;
  readonly fullDraws: boolean;
  readonly rounds: number;
  readonly collections: number;
  readonly bytesPerDecision: number;
}

Deno.test("Node: the packaged WASM core decides as the packaged reference; decisions into a caller's slot allocate nothing", async () => {
  const { dir } = await installed();
  await Deno.copyFile(resolve("tests/package/_node_check.mjs"), join(dir, "check.mjs"));
  const out = await runOk("node", [
    "--expose-gc",
    "--min-semi-space-size=256",
    "--max-semi-space-size=256",
    "check.mjs",
  ], dir);
  const result = JSON.parse(out.stdout);
  console.log(JSON.stringify(result.allocation));
  for (const d of result.differential) {
    equal(d.mismatches, 0, `${d.policy}/${d.disaggregation}: ${JSON.stringify(d.first)}`);
    equal(d.refused, 0, `${d.policy}/${d.disaggregation} routed every request`);
    if (d.disaggregation !== "never") {
      ok(d.remote > 0, `${d.policy}/${d.disaggregation} went remote`);
    }
  }
  const [into, , fresh] = result.allocation as Allocation[];
  equal(into.collections, 0, "no collection hid an allocation");
  equal(fresh.collections, 0, "no collection hid the control's allocation");
  // A constant ~0.5 MB per round (the loop's optimised code and feedback), not per decision.
  ok(into.bytesPerDecision < 2, `into a caller's slot: ${into.bytesPerDecision} bytes a decision`);
  ok(fresh.bytesPerDecision > 100, `the control sees allocation: ${fresh.bytesPerDecision}`);
});

Deno.test("TypeScript: the package's declarations type-check alone (no zod, skipLibCheck off)", async () => {
  const { dir } = await installed();
  const consumer = join(dir, "typed");
  await Deno.mkdir(consumer, { recursive: true });
  await Deno.writeTextFile(
    join(consumer, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        module: "nodenext",
        target: "es2022",
        lib: ["es2022", "dom"],
        types: [],
        skipLibCheck: false,
      },
      files: ["use.ts"],
    }),
  );
  await Deno.writeTextFile(
    join(consumer, "use.ts"),
    `import { createCore, newDecision, type PolicyConfigInput, type RouteDecision } from "@pdroute/core";

const policy: PolicyConfigInput = { policy: "predictive", migration: { budget: 2 } };
// @ts-expect-error: round robin has no migration budget
const wrong: PolicyConfigInput = { policy: "round-robin", migration: { budget: 2 } };
const core = await createCore({
  policy,
  endpoints: [{ role: "both", prefillTokensPerMs: 10, decodeBaseMs: 8, decodeMsPerKvBlock: 0.001, kvCapacityBlocks: 1000 }],
});
const d: RouteDecision = core.route({ promptTokens: 10, outputTokens: 5 }, 0, 1, newDecision());
const prefill: number = d.prefill;
// @ts-expect-error: the status is a string union
const status: number = d.status;
export { prefill, status, wrong };
`,
  );
  await Deno.writeTextFile(join(consumer, "package.json"), JSON.stringify({ type: "module" }));
  const tsc = resolve("node_modules/typescript/bin/tsc");
  const out = await run("node", [tsc, "-p", "."], consumer);
  equal(out.code, 0, out.stdout + out.stderr);
});
