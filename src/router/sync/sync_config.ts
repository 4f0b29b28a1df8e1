/**
 * The replica sync's configuration (`sync` in the router config; `serve --sync`,
 * `--replica-id`). Absent: the router routes on its own state alone.
 */
import { z } from "zod";

export const NATS_URL = /^nats:\/\/([^/:\s]+):(\d{1,5})\/?$/;

export const syncConfigSchema = z.object({
  /** nats://HOST:PORT of the NATS server the replicas share. */
  url: z.string().regex(NATS_URL, "must be nats://HOST:PORT"),
  /** This replica's name in peers' books and status (default: r-<random>, printed at start). */
  replicaId: z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, "letters, digits, _ . : - only")
    .optional(),
  /** Subject token shared by the replicas of one router (several routers can share a server). */
  cluster: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "letters, digits, _ - only").default(
    "default",
  ),
  /** Own load changes are coalesced for at most this long before they are published. */
  flushMs: z.number().min(0).max(1000).default(5),
  /** Each replica sends its whole load this often (and peers know it is alive). */
  heartbeatMs: z.number().gt(0).max(60_000).default(500),
  /** A peer silent this long is dropped with its load. */
  peerTimeoutMs: z.number().gt(0).max(600_000).default(2000),
  /** Wait between attempts to reach NATS while it is away. */
  reconnectWaitMs: z.number().gt(0).max(60_000).default(500),
}).strict().refine((s) => s.peerTimeoutMs > s.heartbeatMs, {
  message: "peerTimeoutMs must exceed heartbeatMs (else every peer times out between beats)",
  path: ["peerTimeoutMs"],
});

export type SyncConfig = z.infer<typeof syncConfigSchema>;

/** nats://host:port -> the client's "host:port". */
export function natsServer(url: string): string {
  const m = NATS_URL.exec(url.trim())!;
  return `${m[1]}:${m[2]}`;
}
