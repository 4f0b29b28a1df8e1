/**
 * The npm package as a user gets it: built from the current sources into a staging copy of
 * packages/core (the worktree's own dist/ is left alone), packed by `npm pack`, and installed
 * by `npm install --offline` from the tarball alone into an empty folder, with an empty npm
 * cache, so that nothing can come from a registry.
 */
import { join, resolve } from "node:path";
import { buildPackage } from "../../packages/core/build.ts";

export const PACKAGE_DIR = resolve("packages/core");
/** The files of packages/core that go into the tarball besides dist/. */
const SHIPPED = ["package.json", "README.md", "CHANGELOG.md", "example.mjs"];

export interface Output {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function run(
  command: string,
  args: readonly string[],
  cwd: string,
): Promise<Output> {
  const { code, stdout, stderr } = await new Deno.Command(command, {
    args: [...args],
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code, stdout: text(stdout), stderr: text(stderr) };
}

/** Runs and requires exit 0, naming the command and its output otherwise. */
export async function runOk(
  command: string,
  args: readonly string[],
  cwd: string,
): Promise<Output> {
  const out = await run(command, args, cwd);
  if (out.code !== 0) {
    throw new Error(
      `${command} ${args.join(" ")} (in ${cwd}) exited ${out.code}:\n${out.stdout}\n${out.stderr}`,
    );
  }
  return out;
}

export interface Installed {
  /** The tarball `npm pack` wrote. */
  readonly tarball: string;
  /** The folder it was installed into (node_modules/@pdroute/core inside). */
  readonly dir: string;
  /** Every temporary folder, for `cleanUp`. */
  readonly temps: readonly string[];
}

/** Builds, packs and installs the package; see the module comment. */
export async function packAndInstall(): Promise<Installed> {
  const stage = await Deno.makeTempDir({ prefix: "pdroute-pkg-stage-" });
  const packed = await Deno.makeTempDir({ prefix: "pdroute-pkg-tgz-" });
  const dir = await Deno.makeTempDir({ prefix: "pdroute-pkg-user-" });
  const cache = await Deno.makeTempDir({ prefix: "pdroute-pkg-npm-cache-" });
  for (const file of SHIPPED) await Deno.copyFile(join(PACKAGE_DIR, file), join(stage, file));
  await buildPackage(join(stage, "dist"));
  // The build has just run; prepack would run it again through npx.
  const pack = await runOk(
    "npm",
    ["pack", "--ignore-scripts", "--json", "--pack-destination", packed],
    stage,
  );
  const [{ filename }] = JSON.parse(pack.stdout) as { filename: string }[];
  const tarball = join(packed, filename);
  await Deno.writeTextFile(
    join(dir, "package.json"),
    JSON.stringify({ name: "pdroute-core-user", private: true, type: "module" }),
  );
  await runOk(
    "npm",
    ["install", "--offline", "--no-audit", "--no-fund", "--cache", cache, tarball],
    dir,
  );
  return { tarball, dir, temps: [stage, packed, dir, cache] };
}

export function cleanUp(installed: Installed): void {
  for (const temp of installed.temps) {
    try {
      Deno.removeSync(temp, { recursive: true });
    } catch {
      // already gone
    }
  }
}

/** A minimal static file server for `root` on loopback (an ephemeral port). */
export function serveFolder(root: string): Deno.HttpServer<Deno.NetAddr> {
  const types: Record<string, string> = {
    html: "text/html; charset=utf-8",
    js: "text/javascript; charset=utf-8",
    mjs: "text/javascript; charset=utf-8",
    wasm: "application/wasm",
    json: "application/json",
  };
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const path = decodeURIComponent(new URL(req.url).pathname);
    const file = resolve(root, "." + path);
    if (!file.startsWith(resolve(root) + "/")) return new Response("outside", { status: 403 });
    try {
      const body = await Deno.readFile(file);
      const type = types[file.split(".").pop() ?? ""] ?? "application/octet-stream";
      return new Response(body, { headers: { "content-type": type } });
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
}
