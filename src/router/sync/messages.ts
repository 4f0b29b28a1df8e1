/**
 * The replica sync wire format (JSON over NATS core subjects, no JetStream): what one router
 * replica tells the others about its own load and its prefix mirror. Every message names its
 * sender (`id`, the replica id; `epoch`, random per process start, so a restarted replica is
 * a new peer) and the fleet it routes for (`fleet`, a fingerprint of the endpoint URLs in
 * order: replicas index endpoints the same way only when their lists match).
 *
 * All but the reply go to one subject, `pdroute.sync.<cluster>.msg` (one subject: one order).
 *
 * - `update`: per-endpoint net deltas of the sender's own
 *   load since its last message (dispatch, prefill done / first token, finish, release on
 *   error, migration, coalesced over `flushMs`) and the prefix blocks it recorded.
 * - `heartbeat`: the sender's whole own load (a snapshot that replaces what a peer had).
 * - `hello`: the sender (re)joined; peers answer with a heartbeat at once.
 * - `bye`: the sender is shutting down; peers drop it at once.
 * - `snapshot`: the sender's prefix mirror, sent when it (re)joins, and as the answer to a
 *   request on `pdroute.sync.<cluster>.prefixes` (a (re)joining replica asks; first answer
 *   wins; blocks are merged, so any peer's mirror will do).
 *
 * `seq` numbers the sender's update and heartbeat messages: a receiver applies an update only
 * when it directly follows what it applied, else it waits for the next heartbeat.
 */
import { z } from "zod";

/**
 * The sync protocol every message carries as `v`. 1 (no `v` field): five-element load vectors;
 * 2: `pendingSeqs` added as the sixth. A replica refuses a message of another version, naming
 * both (`SyncMessageError`, reason "version"): upgrade the replicas of one cluster together.
 */
export const SYNC_PROTOCOL = 2 as const;

/**
 * One endpoint's load as a replica accounts it: queued tokens, seqs, KV, prefilling, pending KV
 * blocks, pending seqs.
 */
export type LoadVector = [
  queued: number,
  seqs: number,
  kv: number,
  pre: number,
  pending: number,
  pendingSeqs: number,
];

/** An update row: an endpoint and the net change of its `LoadVector`, element by element. */
export type LoadDelta = [
  endpoint: number,
  dQueued: number,
  dSeqs: number,
  dKv: number,
  dPre: number,
  dPending: number,
  dPendingSeqs: number,
];

/** Elements of a `LoadVector` (an update row has one more: the endpoint first). */
export const LOAD_VECTOR_LENGTH = 6;

const count = z.number().finite();
const loadVector = z.tuple([count, count, count, count, count, count]);
const index = z.number().int().min(0);
const block = z.number().int().min(0).max(0xffffffff);
const sender = {
  v: z.literal(SYNC_PROTOCOL),
  id: z.string().min(1).max(128),
  epoch: z.string().min(1).max(64),
  fleet: z.string().min(1).max(64),
  /** Sender's wall clock (ms since the epoch) when sent: the receiver's lag estimate. */
  at: z.number().finite(),
};

export const syncMessageSchema = z.discriminatedUnion("t", [
  z.object({
    t: z.literal("update"),
    ...sender,
    seq: z.number().int().min(1),
    /** [endpoint, dQueued, dSeqs, dKv, dPre, dPending, dPendingSeqs] (`LoadDelta`) */
    d: z.array(z.tuple([index, count, count, count, count, count, count])),
    /** [endpoint, blocks recorded there] */
    p: z.array(z.tuple([index, z.array(block)])),
  }).strict(),
  z.object({
    t: z.literal("heartbeat"),
    ...sender,
    seq: z.number().int().min(0),
    load: z.array(loadVector),
  }).strict(),
  z.object({ t: z.literal("hello"), ...sender }).strict(),
  z.object({ t: z.literal("bye"), ...sender }).strict(),
  z.object({
    t: z.literal("snapshot"),
    ...sender,
    /** [endpoint, blocks from least to most recently used] */
    p: z.array(z.tuple([index, z.array(block)])),
  }).strict(),
]);

export type SyncMessage = z.infer<typeof syncMessageSchema>;
export type UpdateMessage = Extract<SyncMessage, { t: "update" }>;
export type HeartbeatMessage = Extract<SyncMessage, { t: "heartbeat" }>;
export type SnapshotMessage = Extract<SyncMessage, { t: "snapshot" }>;

export class SyncMessageError extends Error {
  override name = "SyncMessageError";
  constructor(message: string, readonly reason: "malformed" | "version" = "malformed") {
    super(message);
  }
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

export function encode(m: SyncMessage): Uint8Array {
  return encoder.encode(JSON.stringify(m));
}

/** Decodes and validates one message; throws `SyncMessageError` naming what is wrong. */
export function decodeMessage(bytes: Uint8Array): SyncMessage {
  let json: unknown;
  const text = decoder.decode(bytes);
  const what = "sync message";
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new SyncMessageError(
      `a ${what} is not JSON (${(e as Error).message}): '${text.slice(0, 80)}'`,
    );
  }
  if (typeof json === "object" && json !== null && !Array.isArray(json)) {
    const { v, id } = json as { v?: unknown; id?: unknown };
    if (v !== SYNC_PROTOCOL) {
      throw new SyncMessageError(
        `a ${what} from replica '${String(id)}' speaks sync protocol ${
          v === undefined ? "1 (no version field)" : JSON.stringify(v)
        }, this replica speaks ${SYNC_PROTOCOL}: run the same pdroute version on every replica`,
        "version",
      );
    }
  }
  const parsed = syncMessageSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SyncMessageError(
      `a ${what} is malformed at '${issue.path.join(".")}': ${issue.message}: ` +
        `'${text.slice(0, 80)}'`,
    );
  }
  return parsed.data;
}

/** A short fingerprint of the endpoint list (FNV-1a over the URLs in order). */
export function fleetFingerprint(urls: readonly string[]): string {
  let h = 0x811c9dc5;
  for (const ch of urls.join("\n")) {
    h ^= ch.codePointAt(0)!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return `${urls.length}-${h.toString(16).padStart(8, "0")}`;
}

/** The subjects of one cluster. */
export function subjects(cluster: string) {
  const base = `pdroute.sync.${cluster}`;
  return { messages: `${base}.msg`, prefixes: `${base}.prefixes` } as const;
}
