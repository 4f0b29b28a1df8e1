/**
 * The emulator's options: which engine it models (the simulator's model, GPU and engine
 * options), how fast it runs, what it calls itself, and the fault knobs. Validated with zod;
 * errors name the field and the value.
 */
import { z } from "zod";
import { formatSchemaError, mergeObjects } from "../core/config.ts";
import { modelSpecSchema } from "../engine_model/models.ts";
import { gpuSpecSchema } from "../engine_model/hardware.ts";
import { DEFAULT_ENGINE_OPTIONS, engineOptionsSchema } from "../engine_model/setup.ts";

const fraction = z.number().min(0).max(1);

export const faultSchema = z.object({
  /** Wall ms added before each completion request is looked at. */
  extraLatencyMs: z.number().min(0),
  /** Fraction of completion requests answered with HTTP 500. */
  errorRate: fraction,
  /** Fraction of requests accepted and never answered (the client must time out). */
  stallRate: fraction,
  /** Fraction of responses cut off halfway (no [DONE] / incomplete JSON, connection closed). */
  truncateRate: fraction,
  /** After this many completion requests the engine dies: streams cut, port closed (0: never). */
  dieAfter: z.number().int().min(0),
  /** /metrics: "error" answers 500, "garbage" answers 200 with text that is not Prometheus. */
  brokenMetrics: z.enum(["none", "error", "garbage"]),
}).strict();

export type Faults = z.infer<typeof faultSchema>;

const tcpEndpoint = z.string().regex(/^tcp:\/\/[^:/]+:(\d{1,5}|\*)$/, "must be tcp://HOST:PORT");

/** KV events as vLLM's `--kv-events-config` publishes them (src/emulator/kv_events.ts). */
export const kvEventsSchema = z.object({
  /** `tcp://HOST:PORT` of the PUB socket (port 0: any free port); null: no events. */
  endpoint: tcpEndpoint.nullable(),
  /** `tcp://HOST:PORT` of the ROUTER replay socket (vLLM's replay_endpoint); null: none. */
  replayEndpoint: tcpEndpoint.nullable(),
  /** "array": positional events (vLLM before 2026); "map": events with a `type` key. */
  encoding: z.enum(["array", "map"]),
  /** Tokens per KV block (vLLM's --block-size). */
  blockSize: z.number().int().min(1).max(1024),
  topic: z.string(),
}).strict();

export type KvEventsOptions = z.infer<typeof kvEventsSchema>;

export const emulatorOptionsSchema = z.object({
  host: z.string().min(1),
  /** 0 picks a free port. */
  port: z.number().int().min(0).max(65535),
  /** The name clients must send as `model` (vLLM's --served-model-name). */
  servedModelName: z.string().min(1),
  /** Model and GPU presets (or full specs) of the modelled engine. */
  model: z.union([z.string(), modelSpecSchema]),
  gpu: z.union([z.string(), gpuSpecSchema]),
  tensorParallel: z.number().int().min(1).max(64),
  engine: engineOptionsSchema,
  /** Engine time runs this many times faster than wall time (tests use > 1). */
  speed: z.number().gt(0).max(1000),
  /** Output tokens when a request sets no max_tokens (the emulator has no EOS). */
  defaultMaxTokens: z.number().int().min(1),
  /** Longest prompt + output accepted (vLLM's max_model_len). */
  maxModelLen: z.number().int().min(16),
  /** The KV link prefill -> decode (NixlConnector over PCIe by default). */
  kvLink: z.object({ gbps: z.number().gt(0), latencyMs: z.number().min(0) }).strict(),
  /** Wall ms a finished prefill's KV is held for its decode instance to pull (vLLM: 480 s). */
  kvHoldTimeoutMs: z.number().gt(0),
  /** Report `vllm:gpu_cache_usage_perc` (older vLLM) instead of `vllm:kv_cache_usage_perc`. */
  legacyMetricNames: z.boolean(),
  /** Seed of the fault draws. */
  seed: z.number().int().min(0).max(0xffffffff),
  faults: faultSchema,
  /** A model directory (tokenizer.json, tokenizer_config.json): real token ids; null: chars/4. */
  tokenizer: z.string().min(1).nullable(),
  kvEvents: kvEventsSchema,
}).strict();

export type EmulatorOptions = z.infer<typeof emulatorOptionsSchema>;

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };
export type EmulatorOptionsInput = DeepPartial<EmulatorOptions>;

export const NO_FAULTS: Faults = {
  extraLatencyMs: 0,
  errorRate: 0,
  stallRate: 0,
  truncateRate: 0,
  dieAfter: 0,
  brokenMetrics: "none",
};

export const DEFAULT_EMULATOR_OPTIONS: EmulatorOptions = {
  host: "127.0.0.1",
  port: 8100,
  servedModelName: "emulated",
  model: "llama-3-8b",
  gpu: "h100",
  tensorParallel: 1,
  engine: DEFAULT_ENGINE_OPTIONS,
  speed: 1,
  defaultMaxTokens: 16,
  maxModelLen: 32768,
  kvLink: { gbps: 25, latencyMs: 0.02 },
  kvHoldTimeoutMs: 480_000,
  legacyMetricNames: false,
  seed: 1,
  faults: NO_FAULTS,
  tokenizer: null,
  kvEvents: { endpoint: null, replayEndpoint: null, encoding: "map", blockSize: 16, topic: "" },
};

export class EmulatorOptionsError extends Error {
  override name = "EmulatorOptionsError";
}

export function resolveEmulatorOptions(input: EmulatorOptionsInput = {}): EmulatorOptions {
  const merged = mergeObjects(DEFAULT_EMULATOR_OPTIONS, input);
  const parsed = emulatorOptionsSchema.safeParse(merged);
  if (!parsed.success) {
    throw new EmulatorOptionsError(formatSchemaError("emulator options", parsed.error, merged));
  }
  const o = parsed.data;
  if (o.kvEvents.endpoint !== null && o.tokenizer === null) {
    throw new EmulatorOptionsError(
      `Invalid emulator options: kvEvents.endpoint (${o.kvEvents.endpoint}) needs a tokenizer ` +
        "(--tokenizer DIR): KV events carry the prompt's token ids",
    );
  }
  if (o.kvEvents.endpoint === null && o.kvEvents.replayEndpoint !== null) {
    throw new EmulatorOptionsError(
      `Invalid emulator options: kvEvents.replayEndpoint (${o.kvEvents.replayEndpoint}) ` +
        "needs kvEvents.endpoint (--kv-events)",
    );
  }
  return o;
}
