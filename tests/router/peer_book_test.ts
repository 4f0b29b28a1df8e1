/**
 * The replica sync's peer book and wire format without NATS: what a peer's heartbeats and
 * updates do to the load book and the core, sequence gaps, timeouts, bye, restarts, refusals,
 * and malformed messages.
 */
import { deepEqual, equal, match, ok, throws } from "node:assert/strict";
import { twoEndpointCore } from "./_core.ts";
import { LoadBook } from "../../src/router/load_book.ts";
import { newDecision } from "../../src/core/request.ts";
import {
  decodeMessage,
  encode,
  fleetFingerprint,
  SYNC_PROTOCOL,
  type SyncMessage,
  SyncMessageError,
} from "../../src/router/sync/messages.ts";
import { PeerBook, type Refusal } from "../../src/router/sync/peer_book.ts";
import { resolveRouterConfig, RouterConfigError } from "../../src/router/config.ts";

const FLEET = fleetFingerprint(["http://a", "http://b"]);

function setup() {
  const core = twoEndpointCore();
  const book = new LoadBook(core, 2, 64, 0.5, 100);
  const refused: Refusal[] = [];
  let freed = 0;
  const peers = new PeerBook(
    book,
    { id: "me", epoch: "e0", fleet: FLEET },
    2,
    () => freed++,
    (why) => refused.push(why),
  );
  return { core, book, peers, refused, freed: () => freed };
}

const from = (id = "p1", epoch = "e1") => ({ v: SYNC_PROTOCOL, id, epoch, fleet: FLEET, at: 0 });

Deno.test("peer book: a heartbeat sets the peer's load, updates in sequence move it, the core sees the sum", () => {
  const { core, book, peers } = setup();
  peers.apply(
    { t: "heartbeat", ...from(), seq: 1, load: [[100, 2, 20, 0, 0, 0], [0, 1, 5, 0, 0, 0]] },
    0,
    0,
  );
  deepEqual(book.peers[0], { queued: 100, seqs: 2, kv: 20, pre: 0, pending: 0, pendingSeqs: 0 });
  equal(core.state.activeSeqs[0], 2);
  equal(core.state.queuedPrefill[0], 100);
  const mine = book.dispatch(core.route({ promptTokens: 50, outputTokens: 4 }, 0, 0), 0);
  const e = mine.decision.decode;
  equal(core.state.activeSeqs[e], (e === 0 ? 2 : 1) + 1, "own + peer");
  peers.apply({ t: "update", ...from(), seq: 2, d: [[0, -100, -1, -10, 0, 0, 0]], p: [] }, 1, 1);
  deepEqual(book.peers[0], { queued: 0, seqs: 1, kv: 10, pre: 0, pending: 0, pendingSeqs: 0 });
  equal(peers.peers.get("p1")!.synced, true);
});

Deno.test("peer book: a peer's pending sequences reach the core, added to this replica's own", () => {
  const { core, book, peers } = setup();
  peers.apply(
    { t: "heartbeat", ...from(), seq: 1, load: [[0, 0, 0, 0, 0, 0], [0, 2, 30, 0, 30, 2]] },
    0,
    0,
  );
  equal(book.peers[1].pendingSeqs, 2);
  equal(core.state.pendingSeqs[1], 2);
  equal(core.state.pendingKv[1], 30);
  // Our own disaggregated request pending on endpoint 1, on top of the peer's.
  const d = newDecision();
  Object.assign(d, { prefill: 0, decode: 1, disaggregated: true, requestKvBlocks: 10 });
  const mine = book.dispatch(d, 0);
  equal(core.state.pendingSeqs[1], 3, "own 1 + peer 2");
  // One of the peer's prefills finished.
  peers.apply({ t: "update", ...from(), seq: 2, d: [[1, 0, 0, 0, 0, -15, -1]], p: [] }, 1, 1);
  equal(book.peers[1].pendingSeqs, 1);
  equal(core.state.pendingSeqs[1], 2);
  book.prefillDone(mine, []);
  equal(core.state.pendingSeqs[1], 1, "only the peer's remains");
  peers.apply({ t: "bye", ...from() }, 2, 2);
  equal(core.state.pendingSeqs[1], 0);
  equal(core.state.pendingKv[1], 0);
});

Deno.test("peer book: a sequence gap stops deltas until the next heartbeat replaces the load", () => {
  const { book, peers, refused } = setup();
  peers.apply(
    { t: "heartbeat", ...from(), seq: 1, load: [[0, 1, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0]] },
    0,
    0,
  );
  peers.apply({ t: "update", ...from(), seq: 3, d: [[0, 0, 5, 0, 0, 0, 0]], p: [] }, 1, 1);
  deepEqual(refused, ["gap"]);
  equal(book.peers[0].seqs, 1, "the update after a gap is not applied");
  equal(peers.peers.get("p1")!.synced, false);
  peers.apply({ t: "update", ...from(), seq: 4, d: [[0, 0, 5, 0, 0, 0, 0]], p: [] }, 2, 2);
  equal(book.peers[0].seqs, 1, "nor the next one, until a heartbeat");
  peers.apply(
    { t: "heartbeat", ...from(), seq: 5, load: [[0, 11, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0]] },
    3,
    3,
  );
  equal(book.peers[0].seqs, 11);
  peers.apply({ t: "update", ...from(), seq: 6, d: [[0, 0, -1, 0, 0, 0, 0]], p: [] }, 4, 4);
  equal(book.peers[0].seqs, 10, "in sequence again");
});

Deno.test("peer book: a silent peer times out, a bye drops at once, a restarted peer starts over", () => {
  const { core, book, peers, freed } = setup();
  peers.apply(
    { t: "heartbeat", ...from(), seq: 1, load: [[0, 3, 9, 0, 0, 0], [0, 0, 0, 0, 0, 0]] },
    0,
    0,
  );
  peers.apply(
    { t: "heartbeat", ...from("p2"), seq: 1, load: [[0, 1, 1, 0, 0, 0], [0, 0, 0, 0, 0, 0]] },
    900,
    900,
  );
  equal(core.state.activeSeqs[0], 4);
  equal(peers.expire(1000, 500), 1, "p1 was last heard at 0");
  equal(book.peers[0].seqs, 1);
  equal(core.state.activeSeqs[0], 1, "p1's load left the core");
  ok(freed() > 0);
  peers.apply({ t: "bye", ...from("p2") }, 1001, 1001);
  equal(peers.peers.size, 0);
  equal(core.state.activeSeqs[0], 0);
  equal(peers.departed, 1);
  equal(peers.timedOut, 1);
  // A restart (new epoch) replaces what the old process had, even without a timeout.
  peers.apply(
    { t: "heartbeat", ...from("p3"), seq: 7, load: [[0, 5, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0]] },
    0,
    0,
  );
  peers.apply(
    { t: "update", ...from("p3", "e2"), seq: 1, d: [[0, 0, 1, 0, 0, 0, 0]], p: [] },
    1,
    1,
  );
  equal(book.peers[0].seqs, 0, "the new process's deltas wait for its heartbeat");
});

Deno.test("peer book: other fleets, our own id and out-of-range endpoints are refused", () => {
  const { book, peers, refused } = setup();
  peers.apply(
    {
      t: "heartbeat",
      v: SYNC_PROTOCOL,
      id: "x",
      epoch: "e",
      fleet: "3-deadbeef",
      at: 0,
      seq: 1,
      load: [],
    },
    0,
    0,
  );
  peers.apply(
    { t: "hello", v: SYNC_PROTOCOL, id: "me", epoch: "other", fleet: FLEET, at: 0 },
    0,
    0,
  );
  peers.apply({ t: "heartbeat", ...from(), seq: 1, load: [[0, 1, 0, 0, 0, 0]] }, 0, 0);
  peers.apply({ t: "update", ...from(), seq: 2, d: [[7, 0, 1, 0, 0, 0, 0]], p: [] }, 0, 0);
  deepEqual(refused, ["fleet_mismatch", "duplicate_id", "bad_endpoint", "bad_endpoint"]);
  deepEqual([...peers.mismatched], ["x"]);
  equal(book.peers[0].seqs, 0);
});

Deno.test("peer book: peers' prefix blocks reach the core's index; scrapes subtract peers' load", () => {
  const { core, book, peers } = setup();
  peers.apply({ t: "update", ...from(), seq: 1, d: [], p: [[1, [11, 12, 13]]] }, 0, 0);
  deepEqual(book.prefixes.blocks(1), [11, 12, 13]);
  const d = core.route({ promptTokens: 2048, outputTokens: 4, prefixBlocks: [11, 12, 13] }, 0, 0);
  equal(d.decode, 1, "the endpoint holding the prefix wins");
  ok(d.uncachedTokens < 2048, `cached blocks count: ${d.uncachedTokens}`);
  peers.apply(
    { t: "heartbeat", ...from(), seq: 2, load: [[0, 4, 40, 0, 0, 0], [0, 0, 0, 0, 0, 0]] },
    0,
    0,
  );
  book.scraped(0, 5, 50, 0, 100, 0);
  deepEqual(book.external[0], { queued: 0, seqs: 1, kv: 10, pre: 0, pending: 0, pendingSeqs: 0 });
  equal(core.state.activeSeqs[0], 5, "peer 4 + external 1: nothing counted twice");
  equal(core.state.externalSeqs[0], 1, "SLO admission does not count on the external one");
});

Deno.test("sync messages: malformed input gets an error naming the problem", () => {
  const m: SyncMessage = { t: "hello", ...from() };
  deepEqual(decodeMessage(encode(m)), m);
  const bytes = (s: string) => new TextEncoder().encode(s);
  throws(() => decodeMessage(bytes("{nope")), (e) => e instanceof SyncMessageError);
  throws(() => decodeMessage(bytes('{"t":"update","v":2,"id":"a"}')), /malformed at/);
  throws(
    () => decodeMessage(bytes(JSON.stringify({ ...m, t: "update", seq: 1, d: [[0, "x"]], p: [] }))),
    /malformed at 'd\.0/,
  );
  // A replica from before pendingSeqs (protocol 1: no version field, five-element vectors) is
  // refused by name, with the reason the metrics count.
  const { v: _v, ...unversioned } = m;
  throws(
    () => decodeMessage(bytes(JSON.stringify({ ...unversioned, t: "heartbeat", load: [] }))),
    (e) =>
      e instanceof SyncMessageError && e.reason === "version" &&
      /replica 'p1' speaks sync protocol 1 \(no version field\), this replica speaks 2/.test(
        e.message,
      ),
  );
  throws(() => decodeMessage(bytes(JSON.stringify({ ...m, v: 3 }))), /speaks sync protocol 3/);
  // This version's shape is still checked: five-element vectors, six-element update rows.
  const old = { ...m, seq: 1 };
  throws(
    () => decodeMessage(bytes(JSON.stringify({ ...old, t: "heartbeat", load: [[0, 0, 0, 0, 0]] }))),
    /malformed at 'load\.0/,
  );
  throws(
    () =>
      decodeMessage(bytes(JSON.stringify({ ...old, t: "update", d: [[0, 0, 0, 0, 0, 0]], p: [] }))),
    /malformed at 'd\.0/,
  );
  const current: SyncMessage = { ...old, t: "update", d: [[0, 1, 2, 3, 4, 5, 6]], p: [] };
  deepEqual(decodeMessage(encode(current)), current);
});

Deno.test("sync config: a bad URL or timeouts that cannot work are refused by name", () => {
  const base = { endpoints: [{ url: "http://127.0.0.1:1", role: "both" }] };
  const c = resolveRouterConfig(base, { sync: { url: "nats://127.0.0.1:4222" } });
  equal(c.sync?.heartbeatMs, 500);
  equal(c.sync?.cluster, "default");
  throws(
    () => resolveRouterConfig(base, { sync: { url: "http://127.0.0.1:4222" } }),
    (e) =>
      e instanceof RouterConfigError && /sync\.url/.test(e.message) && /nats:\/\//.test(e.message),
  );
  throws(
    () =>
      resolveRouterConfig(base, {
        sync: { url: "nats://h:1", heartbeatMs: 1000, peerTimeoutMs: 500 },
      }),
    (e) => e instanceof RouterConfigError && /peerTimeoutMs/.test(e.message),
  );
  match(fleetFingerprint(["a"]), /^1-[0-9a-f]{8}$/);
});
