/**
 * Text files that may be gzip-compressed: a name ending in `.gz` is decompressed on the fly,
 * so the shipped data (data/, compressed) and plain files read the same way.
 */
import { createReadStream } from "node:fs";
import type { Readable } from "node:stream";
import { createGunzip } from "node:zlib";

export function isGzip(path: string): boolean {
  return path.endsWith(".gz");
}

/** A byte stream of the file's (decompressed) content; read errors surface on it. */
export function openText(path: string): Readable {
  const file = createReadStream(path);
  if (!isGzip(path)) return file;
  const gunzip = createGunzip();
  // pipe() does not forward read errors: pass them on, or they would escape uncaught.
  file.on("error", (e) => gunzip.destroy(e));
  return file.pipe(gunzip);
}

/** The whole (decompressed) file as text. */
export async function readText(path: string): Promise<string> {
  if (!isGzip(path)) return await Deno.readTextFile(path);
  const file = await Deno.open(path);
  return await new Response(file.readable.pipeThrough(new DecompressionStream("gzip"))).text();
}
