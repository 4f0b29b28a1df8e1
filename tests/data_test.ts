/**
 * The data shipped in data/ (data/README.md): every file is there, decompresses to the content
 * its checksum names, the traces answer to their short names with the documented row counts,
 * and nothing the project ships reads ../shared (users' clones do not have it).
 */
import { equal, ok } from "node:assert/strict";
import { readText } from "../src/io/text_file.ts";
import { resolveWorkload } from "../src/workload/resolve.ts";
import { dataFile, SHIPPED_TRACES, traceFormat } from "../src/workload/shipped_traces.ts";

const README = await Deno.readTextFile("data/README.md");

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("data/: each shipped file decompresses to the checksum data/README.md records", async () => {
  const rows = [...README.matchAll(/^\| `([^`]+)`\s*\| `([0-9a-f]{64})` \|$/gm)];
  equal(rows.length, 5, "five checksums in data/README.md");
  for (const [, file, sum] of rows) {
    equal(await sha256(await readText(dataFile(`${file}.gz`))), sum, file);
  }
});

Deno.test("data/: the short names replay the shipped traces with their documented row counts", async () => {
  const documented: Record<string, number> = {};
  for (
    const m of README.matchAll(
      /^\| `([a-z-]+)`\s*\| `traces\/[^|]+\|[^|]+\|[^|]+\|\s*([\d,]+) \|$/gm,
    )
  ) {
    documented[m[1]] = Number(m[2].replaceAll(",", ""));
  }
  equal(Object.keys(documented).sort().join(), Object.keys(SHIPPED_TRACES).sort().join());
  for (const [name, rows] of Object.entries(documented)) {
    const workload = resolveWorkload(
      { kind: "trace", format: traceFormat(name), path: name, options: { rateScale: 1 } },
      1,
    );
    const source = workload.open();
    let count = 0;
    for (let batch = await source.next(); batch.length > 0; batch = await source.next()) {
      count += batch.length;
    }
    equal(count, rows, name);
  }
});

Deno.test("nothing the project ships reads ../shared", async () => {
  const offenders: string[] = [];
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(dir)) {
      const path = `${dir}/${e.name}`;
      if (e.isDirectory) await walk(path);
      else if (/\.(ts|js|mjs|md|json)$/.test(e.name)) {
        if ((await Deno.readTextFile(path)).includes("../shared")) offenders.push(path);
      }
    }
  };
  for (const dir of ["src", "bench", "docs", "examples", "tests"]) await walk(dir);
  for (const file of ["README.md", "ARCHITECTURE.md", "deno.json", ".ci/run"]) {
    if ((await Deno.readTextFile(file)).includes("../shared")) offenders.push(file);
  }
  // This file names the string it looks for; the fixtures' README says where slices came from.
  const allowed = ["tests/data_test.ts"];
  ok(offenders.every((f) => allowed.includes(f)), `read ../shared: ${offenders.join(", ")}`);
});
