/**
 * Watching an SSE stream go by without parsing it: the router relays engine bytes untouched
 * and only needs to know how many events passed (for TPOT) and whether `data: [DONE]` came
 * (a stream that ends without it was cut off). A byte-level state machine that carries its
 * state across chunks, so a line split between two reads is still seen whole.
 */

const PREFIX = [0x64, 0x61, 0x74, 0x61, 0x3a]; // "data:"
const DONE = [0x5b, 0x44, 0x4f, 0x4e, 0x45, 0x5d]; // "[DONE]"
const NL = 0x0a, SPACE = 0x20;
/** States: 0..4 matching "data:", 5 after it (space allowed), 6..11 matching "[DONE]", -1 rest of line. */
const AFTER_PREFIX = 5, IN_DONE = 6, SKIP = -1;

export class SseScan {
  /** Data events other than [DONE]. */
  events = 0;
  done = false;
  #state = 0;

  push(b: Uint8Array): void {
    let s = this.#state;
    for (let i = 0; i < b.length; i++) {
      const c = b[i];
      if (c === NL) {
        if (s >= AFTER_PREFIX) this.#endData(s);
        s = 0;
      } else if (s === SKIP) {
        continue;
      } else if (s < AFTER_PREFIX) {
        s = c === PREFIX[s] ? s + 1 : SKIP;
      } else if (s === AFTER_PREFIX) {
        if (c === SPACE) s = AFTER_PREFIX + 0.5; // one optional space
        else s = c === DONE[0] ? IN_DONE + 1 : this.#other();
      } else if (s === AFTER_PREFIX + 0.5) {
        s = c === DONE[0] ? IN_DONE + 1 : this.#other();
      } else if (s < IN_DONE + DONE.length) {
        s = c === DONE[s - IN_DONE] ? s + 1 : this.#other();
      } else {
        s = this.#other(); // text after "[DONE]"
      }
    }
    this.#state = s;
  }

  /** A data line that is not [DONE]: count it, skip the rest of the line. */
  #other(): number {
    this.events++;
    return SKIP;
  }

  #endData(s: number): void {
    if (s === IN_DONE + DONE.length) this.done = true;
    else if (s === AFTER_PREFIX || s === AFTER_PREFIX + 0.5) this.events++; // empty data line
    else this.events++; // a data line cut short by the newline
  }
}
