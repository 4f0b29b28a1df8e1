/**
 * Loading the compiled core in any JS host, without a bundler's help: bytes, a fetched
 * response, an http(s) URL (browsers, Deno, Node) or a file URL (Node and Deno, via node:fs).
 * The module is compiled, not instantiated: each core gets its own instance.
 */

/** What `loadCoreModule` accepts. */
export type CoreModuleSource =
  | WebAssembly.Module
  | ArrayBuffer
  | ArrayBufferView<ArrayBuffer>
  | Response
  | URL
  | string;

// Kept out of a literal import so that browser bundlers do not try to resolve it.
const NODE_FS = "node:fs/promises";

async function readFileUrl(url: URL): Promise<Uint8Array<ArrayBuffer>> {
  const fs: { readFile(path: URL): Promise<Uint8Array> } = await import(
    /* webpackIgnore: true */ /* @vite-ignore */ NODE_FS
  );
  return new Uint8Array(await fs.readFile(url));
}

async function fromResponse(response: Response, what: string): Promise<WebAssembly.Module> {
  if (!response.ok) {
    throw new Error(`pdroute core: cannot load ${what}: HTTP ${response.status}`);
  }
  return await WebAssembly.compile(await response.arrayBuffer());
}

/** Compiles the core from `source` (a module is returned as it is). */
export async function loadCoreModule(source: CoreModuleSource): Promise<WebAssembly.Module> {
  if (source instanceof WebAssembly.Module) return source;
  if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) {
    return await WebAssembly.compile(source);
  }
  if (typeof Response === "function" && source instanceof Response) {
    return await fromResponse(source, source.url || "the response");
  }
  const base = (globalThis as { location?: { href: string } }).location?.href;
  let url: URL;
  try {
    url = new URL(source as URL | string, base);
  } catch {
    throw new TypeError(
      `pdroute core: cannot load the module from ${
        JSON.stringify(String(source))
      }: expected a WebAssembly.Module, bytes, a Response or an absolute URL`,
    );
  }
  if (url.protocol === "file:") return await WebAssembly.compile(await readFileUrl(url));
  return await fromResponse(await fetch(url), url.href);
}
