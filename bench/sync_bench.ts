/**
 * The replica sync's per-message CPU cost without the network (deno bench): encoding a typical
 * update (two endpoints' deltas and one request's prefix blocks), and on the receiving side
 * decoding, validating and applying it to the peer book. With `serve --workers`, a request
 * causes at most three own-load changes (dispatch, prefill done, release), coalesced over
 * `flushMs` into one update per flush per replica; bench/ROUTER_RESULTS.md puts these numbers
 * next to the per-request cost of the router.
 */
import { createReferenceCore } from "../src/core/reference/mod.ts";
import { LoadBook } from "../src/router/load_book.ts";
import {
  decodeMessage,
  encode,
  SYNC_PROTOCOL,
  type SyncMessage,
} from "../src/router/sync/messages.ts";
import { PeerBook } from "../src/router/sync/peer_book.ts";

const core = createReferenceCore({ disaggregation: "never" }, { endpoints: 2 });
core.setEndpointCount(2);
for (const i of [0, 1]) {
  core.setEndpoint(i, {
    role: "both",
    prefillTokensPerMs: 10,
    decodeBaseMs: 10,
    decodeMsPerKvBlock: 0,
    kvCapacityBlocks: 100_000,
  });
}
const book = new LoadBook(core, 2, 4096, 0.5, 100);
const sender = { v: SYNC_PROTOCOL, id: "p", epoch: "e", fleet: "2-00000000", at: 0 };
const peers = new PeerBook(book, { ...sender, id: "me" }, 2, () => {}, () => {});
peers.apply(
  { t: "heartbeat", ...sender, seq: 0, load: [[0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0]] },
  0,
  0,
);

let seq = 0;
const update = (): SyncMessage => ({
  t: "update",
  ...sender,
  seq: ++seq,
  d: [[0, 500, 1, 40, 0, 0, 0], [1, -500, -1, -40, 0, 0, 0]],
  p: [[0, [seq, seq + 1, seq + 2, seq + 3]]],
});

Deno.bench("sync: encode one update", () => {
  encode(update());
});

const bytes = encode(update());
Deno.bench("sync: decode + validate one update", () => {
  decodeMessage(bytes);
});

Deno.bench("sync: decode + validate + apply one update", () => {
  const m = update();
  peers.apply(decodeMessage(encode(m)), 0, 0);
});
