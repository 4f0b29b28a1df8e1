/**
 * The router's KV-event metrics (registered in its own /metrics registry). Label `engine` is
 * the engine's URL.
 */
import client from "prom-client";
import type { KvIndex } from "./kv_index.ts";

export type KvState = "fresh" | "stale";

export class KvMetrics {
  readonly events: client.Counter<"engine" | "type">;
  readonly batches: client.Counter<"engine">;
  readonly gaps: client.Counter<"engine">;
  readonly missed: client.Counter<"engine">;
  readonly replays: client.Counter<"engine" | "result">;
  readonly malformed: client.Counter<"engine" | "reason">;
  readonly disconnects: client.Counter<"engine">;
  readonly restarts: client.Counter<"engine">;
  readonly unknownTypes: client.Counter<"engine" | "name">;
  readonly tokenizeErrors: client.Counter<string>;

  constructor(
    registry: client.Registry,
    engines: readonly string[],
    state: { stale(i: number): boolean; connected(i: number): boolean; index(i: number): KvIndex },
  ) {
    const registers = [registry];
    const counter = <L extends string>(name: string, help: string, labelNames: L[]) =>
      new client.Counter<L>({ name, help, labelNames, registers });
    this.events = counter(
      "pdroute_kv_events_total",
      "KV events received, by type (BlockStored, BlockRemoved, AllBlocksCleared, unknown).",
      [
        "engine",
        "type",
      ],
    );
    this.batches = counter("pdroute_kv_events_batches_total", "KV event batches applied.", [
      "engine",
    ]);
    this.gaps = counter("pdroute_kv_events_gaps_total", "Gaps in the publisher's sequence.", [
      "engine",
    ]);
    this.missed = counter("pdroute_kv_events_missed_batches_total", "Batches lost in gaps.", [
      "engine",
    ]);
    this.replays = counter(
      "pdroute_kv_events_replays_total",
      "Replay requests to the publisher's replay endpoint, by result (ok, incomplete, failed).",
      ["engine", "result"],
    );
    this.malformed = counter(
      "pdroute_kv_events_decode_errors_total",
      "Messages that were not a KV event batch, by reason (frames, sequence, payload).",
      ["engine", "reason"],
    );
    this.disconnects = counter(
      "pdroute_kv_events_disconnects_total",
      "Times the publisher's connection dropped.",
      ["engine"],
    );
    this.restarts = counter(
      "pdroute_kv_events_restarts_total",
      "Sequence restarts (the engine restarted; its index was cleared).",
      ["engine"],
    );
    this.unknownTypes = counter(
      "pdroute_kv_events_unknown_types_total",
      "KV events of a type the router does not know (ignored), by type name.",
      ["engine", "name"],
    );
    this.tokenizeErrors = counter(
      "pdroute_kv_events_tokenize_errors_total",
      "Prompts the tokenizer could not encode (routed on approximate prefixes).",
      [],
    );
    new client.Gauge({
      name: "pdroute_kv_events_stale",
      help: "1 while the engine's KV index is stale (the approximate mirror is used).",
      labelNames: ["engine"],
      registers,
      collect() {
        engines.forEach((e, i) => this.set({ engine: e }, state.stale(i) ? 1 : 0));
      },
    });
    new client.Gauge({
      name: "pdroute_kv_events_connected",
      help: "1 while the router's subscriber is connected to the engine's publisher.",
      labelNames: ["engine"],
      registers,
      collect() {
        engines.forEach((e, i) => this.set({ engine: e }, state.connected(i) ? 1 : 0));
      },
    });
    new client.Gauge({
      name: "pdroute_kv_events_index_blocks",
      help: "Engine blocks in the router's KV index, by tier (gpu, cpu).",
      labelNames: ["engine", "tier"],
      registers,
      collect() {
        engines.forEach((e, i) => {
          const s = state.index(i).sizes();
          this.set({ engine: e, tier: "gpu" }, s.gpu);
          this.set({ engine: e, tier: "cpu" }, s.cpu);
        });
      },
    });
  }
}
