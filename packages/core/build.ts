/**
 * Builds the npm package's `dist/` from this repository's sources: `index.js` (one ES module,
 * zod bundled in, so the package has no runtime dependencies), `index.d.ts` (one declaration
 * file, zod's few types inlined, so it type-checks without zod installed) and
 * `pdroute_core.wasm` (copied from `deno task build:wasm`'s output).
 *
 *   deno task build:package            # writes packages/core/dist
 *   deno run -A packages/core/build.ts OUT_DIR
 */
import * as esbuild from "esbuild";
import { rollup } from "rollup";
import { dts } from "rollup-plugin-dts";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ABI_VERSION } from "../../src/core/abi.ts";
import { checkExports } from "../../src/wasm/exports.ts";

const PACKAGE_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(PACKAGE_DIR, "../..");
const ENTRY = join(PACKAGE_DIR, "mod.ts");
const WASM = join(ROOT, "artifacts/wasm/pdroute_core.wasm");

/** The files `build` writes into its output folder. */
export const DIST_FILES = ["index.js", "index.d.ts", "pdroute_core.wasm"] as const;

const ZOD_IMPORT = /^import \{ z \} from "zod";$/m;

/**
 * zod's entry re-exports its namespace (`export { z }`), which esbuild cannot tree-shake: all
 * of zod (its 60 locales too, 750 KB) would land in the bundle. Imported as a namespace from
 * its classic API module instead, only what the schemas use is kept (about 150 KB).
 */
const zodNamespace: esbuild.Plugin = {
  name: "zod-namespace",
  setup(build) {
    let classic: string | null = null;
    build.onLoad({ filter: /\/src\/.*\.ts$/ }, async (args) => {
      const text = await Deno.readTextFile(args.path);
      if (!ZOD_IMPORT.test(text)) {
        if (/^import \{[^}]*\} from "zod";$/m.test(text)) {
          console.warn(
            `${args.path}: a zod import other than 'import { z } from "zod"' bundles all of zod`,
          );
        }
        return { contents: text, loader: "ts" };
      }
      if (classic === null) {
        const zod = await build.resolve("zod", { kind: "import-statement", resolveDir: ROOT });
        if (zod.errors.length > 0) throw new Error(`cannot resolve zod: ${zod.errors[0].text}`);
        classic = join(dirname(zod.path), "v4/classic/external.js");
        await Deno.stat(classic);
      }
      const contents = text.replace(ZOD_IMPORT, `import * as z from ${JSON.stringify(classic)};`);
      return { contents, loader: "ts" };
    });
  },
};

/** zod's licence, for the end of the bundle that carries its code. */
async function zodNotice(): Promise<string> {
  const dir = join(ROOT, "node_modules/zod");
  const { version } = JSON.parse(await Deno.readTextFile(join(dir, "package.json")));
  const licence = await Deno.readTextFile(join(dir, "LICENSE"));
  return `/*! Bundled: zod ${version} (https://zod.dev)\n\n${
    licence.trim().replaceAll("*/", "* /")
  }\n*/`;
}

async function bundleJs(outDir: string, banner: string): Promise<void> {
  const footer = await zodNotice();
  try {
    const result = await esbuild.build({
      plugins: [zodNamespace],
      entryPoints: [ENTRY],
      outfile: join(outDir, "index.js"),
      bundle: true,
      format: "esm",
      platform: "neutral",
      target: "es2022",
      mainFields: ["module", "main"],
      banner: { js: banner },
      footer: { js: footer },
      legalComments: "eof",
      charset: "utf8",
      logLevel: "warning",
      absWorkingDir: ROOT,
    });
    if (result.errors.length > 0) throw new Error(`esbuild failed: ${result.errors[0].text}`);
  } finally {
    await esbuild.stop();
  }
}

async function bundleTypes(outDir: string, banner: string): Promise<void> {
  const bundle = await rollup({
    input: ENTRY,
    plugins: [dts({
      // Inline the types the API takes from zod (config schemas), so users need no zod.
      respectExternal: true,
      tsconfig: join(PACKAGE_DIR, "tsconfig.json"),
    })],
    onwarn(warning) {
      throw new Error(`rollup-plugin-dts: ${warning.message}`);
    },
  });
  try {
    await bundle.write({ file: join(outDir, "index.d.ts"), format: "es", banner });
  } finally {
    await bundle.close();
  }
  const text = await Deno.readTextFile(join(outDir, "index.d.ts"));
  const external = text.match(/^(?:import|export)[^;]*?from\s+['"]([^'"]+)['"]/m);
  if (external) {
    throw new Error(`index.d.ts still imports '${external[1]}': users would need it installed`);
  }
}

/**
 * The package's major version is the ABI version: a core built for another ABI, or a
 * package.json left behind after an ABI bump, stops the build here.
 */
async function checkVersions(version: string): Promise<void> {
  const major = Number(version.split(".")[0]);
  if (major !== ABI_VERSION) {
    throw new Error(
      `packages/core/package.json has version ${version}, but ABI_VERSION is ${ABI_VERSION}: ` +
        `set it to ${ABI_VERSION}.0.0 and add that version to packages/core/CHANGELOG.md`,
    );
  }
  const changelog = await Deno.readTextFile(join(PACKAGE_DIR, "CHANGELOG.md"));
  if (!changelog.includes(`## ${version}`)) {
    throw new Error(`packages/core/CHANGELOG.md has no '## ${version}' section`);
  }
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = await Deno.readFile(WASM);
  } catch {
    throw new Error(`${WASM} is missing: run 'deno task build:wasm' first`);
  }
  checkExports(new WebAssembly.Instance(await WebAssembly.compile(bytes), {}).exports);
}

/** Builds dist into `outDir` (created if missing). */
export async function buildPackage(outDir = join(PACKAGE_DIR, "dist")): Promise<void> {
  const manifest = JSON.parse(await Deno.readTextFile(join(PACKAGE_DIR, "package.json")));
  await checkVersions(manifest.version);
  await Deno.mkdir(outDir, { recursive: true });
  const banner = `// ${manifest.name} ${manifest.version}, built from pdroute's sources ` +
    `(packages/core/build.ts); zod is bundled in (its licence ends index.js).`;
  await bundleJs(outDir, banner);
  await bundleTypes(outDir, banner);
  await Deno.copyFile(WASM, join(outDir, "pdroute_core.wasm"));
}

if (import.meta.main) {
  const out = Deno.args[0] ?? join(PACKAGE_DIR, "dist");
  await buildPackage(out);
  for (const file of DIST_FILES) {
    console.log(`${join(out, file)}: ${(await Deno.stat(join(out, file))).size} bytes`);
  }
}
