/**
 * src/topology's place in the architecture: it may use src/core (types, defaults, errors) but
 * never src/sim or src/router (they consume it); only host.ts and load.ts touch the machine,
 * so everything else runs on recorded fixtures.
 */
import { ok } from "node:assert/strict";

const DIR = "src/topology";
const files = [...Deno.readDirSync(DIR)].map((e) => e.name).filter((n) => n.endsWith(".ts"));
const code = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
const imports = (text: string) =>
  [...text.matchAll(/(?:import|export)[^"']*?from\s+["']([^"']+)["']/g)].map((m) => m[1]);

Deno.test("src/topology imports neither src/sim nor src/router", () => {
  for (const name of files) {
    for (const spec of imports(Deno.readTextFileSync(`${DIR}/${name}`))) {
      const target = new URL(spec, `file:///${DIR}/${name}`).pathname.slice(1);
      ok(!/^src\/(sim|router)\//.test(target), `${name} imports ${spec}`);
    }
  }
});

Deno.test("only host.ts and load.ts in src/topology touch Deno", () => {
  for (const name of files.filter((n) => n !== "host.ts" && n !== "load.ts")) {
    ok(!code(Deno.readTextFileSync(`${DIR}/${name}`)).includes("Deno."), `${name} uses Deno`);
  }
});
