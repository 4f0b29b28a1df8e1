/**
 * Streams text lines to a file through a 64 KiB buffer, synchronously, so a simulation can
 * write millions of records without holding them in memory or yielding to the event loop.
 */
export class LineWriter {
  readonly #file: Deno.FsFile;
  readonly #encoder = new TextEncoder();
  #buffer: string[] = [];
  #size = 0;

  constructor(readonly path: string) {
    this.#file = Deno.openSync(path, { write: true, create: true, truncate: true });
  }

  write(line: string): void {
    this.#buffer.push(line);
    this.#size += line.length + 1;
    if (this.#size >= 65536) this.flush();
  }

  flush(): void {
    if (this.#buffer.length === 0) return;
    const bytes = this.#encoder.encode(this.#buffer.join("\n") + "\n");
    for (let off = 0; off < bytes.length;) off += this.#file.writeSync(bytes.subarray(off));
    this.#buffer = [];
    this.#size = 0;
  }

  close(): void {
    this.flush();
    this.#file.close();
  }
}

/** A CSV field: numbers as is, strings quoted only when they need it. */
export function csvField(value: string | number | boolean): string {
  if (typeof value !== "string") return String(value);
  return /[",\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}
