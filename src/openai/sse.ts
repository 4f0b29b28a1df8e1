/**
 * Server-sent events as OpenAI-compatible servers write them: `data: <json>\n\n` per event,
 * `data: [DONE]\n\n` at the end. `SseDecoder` turns arbitrary byte chunks into complete
 * events' data (events may be split across chunks or several may share one).
 */

export const DONE = "[DONE]";

export function sseData(payload: unknown): string {
  return `data: ${JSON.stringify(payload)}\n\n`;
}

export const SSE_DONE = `data: ${DONE}\n\n`;

export class SseDecoder {
  readonly #decoder = new TextDecoder();
  #pending = "";

  /** The data of every event completed by `chunk` (multi-line data joined by "\n"). */
  push(chunk: Uint8Array): string[] {
    this.#pending += this.#decoder.decode(chunk, { stream: true });
    const out: string[] = [];
    for (;;) {
      const end = this.#pending.search(/\r?\n\r?\n/);
      if (end < 0) break;
      const block = this.#pending.slice(0, end);
      const sep = this.#pending.slice(end).match(/^\r?\n\r?\n/)![0].length;
      this.#pending = this.#pending.slice(end + sep);
      const data: string[] = [];
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith("data:")) data.push(line.slice(line[5] === " " ? 6 : 5));
      }
      if (data.length > 0) out.push(data.join("\n"));
    }
    return out;
  }

  /** Bytes received after the last complete event (non-empty means a cut-off stream). */
  get leftover(): string {
    return this.#pending;
  }
}
