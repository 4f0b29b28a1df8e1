/**
 * The router's precise KV awareness settings (`kv` in the router config; `serve --kv-events`,
 * `--kv-events-replay`, `--tokenizer`, `--kv-block-size`): where each engine publishes its KV
 * events (vLLM's `--kv-events-config` endpoint and replay_endpoint) and the tokenizer that
 * gives the router the engines' token ids. See src/router/kv_precise.ts.
 */
import { z } from "zod";

const tcp = z.string().regex(/^tcp:\/\/[^:/]+:\d{1,5}$/, "must be tcp://HOST:PORT");

export const kvConfigSchema = z.object({
  /** A model directory (tokenizer.json, tokenizer_config.json); null: precise mode off. */
  tokenizer: z.string().min(1).nullable(),
  /** Tokens per KV block of the engines (vLLM's --block-size; 16 by default). */
  blockSize: z.number().int().min(1).max(1024),
  /** A replay request that has not completed within this gives up (the index goes stale). */
  replayTimeoutMs: z.number().gt(0),
  events: z.array(
    z.object({
      /** The engine: its URL as in `endpoints`, or its index there. */
      engine: z.union([z.string().min(1), z.number().int().min(0)]),
      /** The engine's KV event publisher (connect address of vLLM's `endpoint`). */
      endpoint: tcp,
      /** The engine's replay socket (vLLM's `replay_endpoint`); none: gaps make the index stale. */
      replayEndpoint: tcp.optional(),
      /** ZMQ topic prefix to subscribe to ("" = every topic). */
      topic: z.string().optional(),
    }).strict(),
  ),
}).strict();

export type KvConfig = z.infer<typeof kvConfigSchema>;

export const DEFAULT_KV_CONFIG: KvConfig = {
  tokenizer: null,
  blockSize: 16,
  replayTimeoutMs: 2000,
  events: [],
};
