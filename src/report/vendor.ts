/**
 * The charting library the page inlines: Observable Plot's browser bundle and the d3 bundle it
 * runs on, read from the npm packages that `deno install` put in node_modules (pinned in
 * deno.json, locked in deno.lock), so the page needs no network.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ReportSetupError } from "./errors.ts";

export interface BrowserLibrary {
  readonly name: string;
  readonly version: string;
  readonly code: string;
}

/** Load order matters: Plot's UMD bundle expects the global `d3`. */
export const LIBRARIES = [
  { name: "d3", file: "dist/d3.min.js" },
  { name: "@observablehq/plot", file: "dist/plot.umd.min.js" },
] as const;

function nodeModulesCandidates(): string[] {
  const out: string[] = [];
  const here = new URL("../../node_modules/", import.meta.url);
  if (here.protocol === "file:") out.push(fileURLToPath(here));
  out.push(join(Deno.cwd(), "node_modules"));
  return out;
}

async function readFirst(paths: string[]): Promise<string | null> {
  for (const path of paths) {
    try {
      return await Deno.readTextFile(path);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  return null;
}

let cached: Promise<BrowserLibrary[]> | null = null;

export function browserLibraries(): Promise<BrowserLibrary[]> {
  return cached ??= Promise.all(LIBRARIES.map(async ({ name, file }) => {
    const roots = nodeModulesCandidates().map((root) => join(root, name));
    const code = await readFirst(roots.map((root) => join(root, file)));
    const pkg = await readFirst(roots.map((root) => join(root, "package.json")));
    if (code === null || pkg === null) {
      cached = null;
      throw new ReportSetupError(
        `cannot find the chart library '${name}/${file}' in node_modules: run 'deno install --frozen'`,
      );
    }
    // Inline <script> ends at the first "</script": keep the bundle from ending it early.
    return {
      name,
      version: String(JSON.parse(pkg).version),
      code: code.replace(/<\/script/gi, "<\\/script"),
    };
  }));
}

export async function clientScript(): Promise<string> {
  return await Deno.readTextFile(new URL("./client/render.js", import.meta.url));
}
