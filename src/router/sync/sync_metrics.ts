/**
 * The replica sync's Prometheus metrics, registered in the router's registry:
 * `pdroute_sync_messages_sent_total{kind}`, `pdroute_sync_messages_received_total{kind}`,
 * `pdroute_sync_refused_total{reason}` (malformed, version_mismatch, fleet_mismatch, duplicate_id, bad_endpoint,
 * gap, not_connected: what was not applied or not sent), `pdroute_sync_peers`,
 * `pdroute_sync_connected` (1 while NATS is reachable), `pdroute_sync_lag_seconds` (sender
 * wall clock to receiver's, so it includes clock skew between hosts), and
 * `pdroute_sync_peer_timeouts_total`.
 */
import client from "prom-client";

export class SyncMetrics {
  readonly sent: client.Counter<"kind">;
  readonly received: client.Counter<"kind">;
  readonly refused: client.Counter<"reason">;
  readonly lag: client.Histogram<string>;
  readonly timeouts: client.Counter<string>;

  constructor(
    registry: client.Registry,
    state: { peers(): number; connected(): boolean },
  ) {
    const registers = [registry];
    this.sent = new client.Counter({
      name: "pdroute_sync_messages_sent_total",
      help: "Replica sync messages published, by kind (update, heartbeat, hello, bye, snapshot).",
      labelNames: ["kind"],
      registers,
    });
    this.received = new client.Counter({
      name: "pdroute_sync_messages_received_total",
      help: "Replica sync messages received from peers, by kind.",
      labelNames: ["kind"],
      registers,
    });
    this.refused = new client.Counter({
      name: "pdroute_sync_refused_total",
      help: "Sync messages not applied (received) or not sent (not_connected), by reason.",
      labelNames: ["reason"],
      registers,
    });
    this.lag = new client.Histogram({
      name: "pdroute_sync_lag_seconds",
      help: "Sender's clock at publish to this replica's at receipt (includes clock skew).",
      buckets: [1e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
      registers,
    });
    this.timeouts = new client.Counter({
      name: "pdroute_sync_peer_timeouts_total",
      help: "Peers dropped (with their load) after going silent for the peer timeout.",
      registers,
    });
    new client.Gauge({
      name: "pdroute_sync_peers",
      help: "Other replicas heard from within the peer timeout.",
      registers,
      collect() {
        this.set(state.peers());
      },
    });
    new client.Gauge({
      name: "pdroute_sync_connected",
      help: "1 while connected to the NATS server, 0 while routing on own state only.",
      registers,
      collect() {
        this.set(state.connected() ? 1 : 0);
      },
    });
  }
}
