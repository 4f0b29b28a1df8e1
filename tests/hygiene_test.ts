/**
 * Repository hygiene, enforced in the normal test run: formatting, lint, strict type check,
 * and the two README commands pinning the same Deno version as .ci/run.
 */
import { equal, match } from "node:assert/strict";

async function deno(...args: string[]): Promise<{ code: number; output: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code, output: decode(stdout) + decode(stderr) };
}

Deno.test("deno fmt --check is clean", async () => {
  const { code, output } = await deno("fmt", "--check");
  equal(code, 0, output);
});

Deno.test("deno lint is clean", async () => {
  const { code, output } = await deno("lint");
  equal(code, 0, output);
});

Deno.test("deno check (strict) is clean for src, bench, tests and the package's sources", async () => {
  const { code, output } = await deno(
    "check",
    "src",
    "bench",
    "tests",
    "packages/core/mod.ts",
    "packages/core/build.ts",
  );
  equal(code, 0, output);
});

Deno.test("README's two commands and .ci/run pin the same Deno", async () => {
  const readme = await Deno.readTextFile("README.md");
  const ci = await Deno.readTextFile(".ci/run");
  const pinned = ci.match(/DENO_VERSION=(\d+\.\d+\.\d+)/)?.[1];
  match(readme, new RegExp(`npx -y deno@${pinned} task simulate`));
  match(readme, new RegExp(`npx -y deno@${pinned} task test`));
  equal(Deno.version.deno, pinned, "tests run under the pinned Deno");
});
