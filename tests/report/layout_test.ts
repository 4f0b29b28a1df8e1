/**
 * src/report's place in the architecture: the CLI uses it, never the other way round; it reads
 * run directories and knows the simulator only for the summary type, so a driven run's
 * directory (src/router) reads the same. Only what the page needs goes into it.
 */
import { ok } from "node:assert/strict";

const DIR = "src/report";
const files = [...Deno.readDirSync(DIR)].map((e) => e.name).filter((n) => n.endsWith(".ts"));
const imports = (text: string) =>
  [...text.matchAll(/(?:import|export)[^"']*?from\s+["']([^"']+)["']/g)].map((m) => m[1]);

Deno.test("src/report imports neither src/cli nor src/router, and from src/sim only types", () => {
  for (const name of files) {
    const text = Deno.readTextFileSync(`${DIR}/${name}`);
    for (const spec of imports(text)) {
      const target = new URL(spec, `file:///${DIR}/${name}`).pathname.slice(1);
      ok(!/^src\/(cli|router)\//.test(target), `${name} imports ${spec}`);
      if (target.startsWith("src/sim/")) {
        ok(
          new RegExp(`import type [^;]+from "${spec.replaceAll(".", "\\.")}"`).test(text),
          `${name} imports ${spec} for more than its types`,
        );
      }
    }
  }
});
