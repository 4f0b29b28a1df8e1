/**
 * From a model, a GPU and engine options to a ready engine description: the time model and
 * the batching engine's capacities, and what a router is told about such an engine (its
 * `EndpointSpec`). One derivation serves the simulator's fleet, the engine emulator and the
 * live router, so all three agree on the physics of an engine.
 */
import { z } from "zod";
import type { EndpointRole, EndpointSpec } from "../core/endpoints.ts";
import { type Efficiency, EFFICIENCY_PRESETS } from "./efficiency.ts";
import type { EngineConfig } from "./engine.ts";
import { GPU_PRESETS, type GpuSpec } from "./hardware.ts";
import { MODEL_PRESETS, type ModelSpec } from "./models.ts";
import { PREFIX_CACHE_POOLS, type PrefixCachePool } from "./prefix_pool.ts";
import { TimeModel } from "./time_model.ts";

/** vLLM-style engine options (the simulator's `engine` config section). */
export const engineOptionsSchema = z.object({
  maxNumSeqs: z.number().int().min(1),
  /** Token budget per step; chunked prefill splits longer prompts across steps. */
  maxBatchedTokens: z.number().int().min(16),
  chunkedPrefill: z.boolean(),
  gpuMemoryUtilization: z.number().gt(0).max(1),
  /** Pinned host memory per engine for KV overflow, GB (0: none). */
  hostKvSlabGb: z.number().min(0),
  /**
   * Fraction of KV capacity the prefix cache may keep (0 disables prefix caching): its fixed
   * size with a reserved pool; with a shared one, only what an approximate router assumes an
   * engine's cache holds (the cache itself is every free KV block, vLLM's behaviour).
   */
  prefixCacheFraction: z.number().min(0).max(1),
  /**
   * "shared": the prefix cache lives in the GPU KV pool with the running sequences, as vLLM's
   * does: it holds the free KV blocks (LRU) plus those of resident sequences, so it shrinks
   * under load. "reserved": a fixed LRU of `prefixCacheFraction` of the KV beside them.
   */
  prefixCachePool: z.enum(PREFIX_CACHE_POOLS as [PrefixCachePool, ...PrefixCachePool[]]),
}).strict();

export type EngineOptions = z.infer<typeof engineOptionsSchema>;

export const DEFAULT_ENGINE_OPTIONS: EngineOptions = {
  maxNumSeqs: 256,
  maxBatchedTokens: 8192,
  chunkedPrefill: true,
  gpuMemoryUtilization: 0.9,
  hostKvSlabGb: 0,
  prefixCacheFraction: 0.3,
  prefixCachePool: "shared",
};

/** KV block size shared by the engines' accounting and the policy (vLLM's default). */
export const KV_BLOCK_TOKENS = 16;

/** A preset name that does not exist, or a model that does not fit its GPU. */
export class EngineModelError extends Error {
  override name = "EngineModelError";
}

export interface EngineSetupInput {
  /** A preset name (llama-3-8b, ...) or a full model spec. */
  readonly model: string | ModelSpec;
  /** A preset name (a100, h100, h200, b200) or a full GPU spec. */
  readonly gpu: string | GpuSpec;
  /** Overrides the GPU preset's calibrated efficiency. */
  readonly efficiency?: Efficiency;
  readonly tensorParallel: number;
  readonly engine: EngineOptions;
  /** Prefix-cache block size in tokens (the prefix hash granularity). */
  readonly prefixBlockTokens: number;
  /** Host link bandwidth, GB/s: reading host-slab KV crosses it every step. */
  readonly slabLinkGbps: number;
}

export interface EngineSetup {
  readonly model: ModelSpec;
  readonly gpu: GpuSpec;
  readonly time: TimeModel;
  readonly engine: EngineConfig;
}

export function preset<T>(kind: string, table: Readonly<Record<string, T>>, value: string | T): T {
  if (typeof value !== "string") return value;
  const found = table[value.toLowerCase()];
  if (!found) {
    throw new EngineModelError(
      `unknown ${kind} '${value}'; known: ${Object.keys(table).join(", ")}`,
    );
  }
  return found;
}

export function setupEngine(input: EngineSetupInput): EngineSetup {
  const model = preset("model", MODEL_PRESETS, input.model);
  const gpu = preset("GPU", GPU_PRESETS, input.gpu);
  const gpuKey = typeof input.gpu === "string" ? input.gpu.toLowerCase() : "h100";
  const efficiency: Efficiency = input.efficiency ?? EFFICIENCY_PRESETS[gpuKey] ??
    EFFICIENCY_PRESETS.h100;
  const tp = input.tensorParallel;
  // Reading slab-resident KV goes over the host link (PCIe) every step.
  const slabMsPerToken = new TimeModel(model, gpu, tp, efficiency).kvBytesPerToken /
    (input.slabLinkGbps * 1e6);
  const time = new TimeModel(model, gpu, tp, efficiency, slabMsPerToken);
  const options = input.engine;
  const gpuKvTokens = time.kvCapacityTokens(options.gpuMemoryUtilization);
  if (gpuKvTokens < 1024) {
    throw new EngineModelError(
      `${model.name} does not fit on ${tp} x ${gpu.name} at memory utilization ` +
        `${options.gpuMemoryUtilization}: KV room would be ${gpuKvTokens} tokens; ` +
        `raise 'tensorParallel' or pick a bigger GPU`,
    );
  }
  const engine: EngineConfig = {
    maxNumSeqs: options.maxNumSeqs,
    maxBatchedTokens: options.chunkedPrefill ? options.maxBatchedTokens : Infinity,
    gpuKvTokens,
    slabKvTokens: Math.floor(options.hostKvSlabGb * 1e9 / time.kvBytesPerToken),
    prefixCacheBlocks: Math.floor(
      options.prefixCacheFraction * gpuKvTokens / input.prefixBlockTokens,
    ),
    prefixBlockTokens: input.prefixBlockTokens,
    prefixCachePool: options.prefixCachePool,
  };
  return { model, gpu, time, engine };
}

/** Where an engine sits, as far as the policy's link classes see it. */
export interface EndpointLocation {
  readonly hostId: number;
  readonly numaNode: number;
  readonly nvlinkDomain: number;
  /** Multiplier on host-slab access cost (NUMA distance / local distance; 1 when local). */
  readonly slabDistanceFactor: number;
}

/**
 * What a router is told about an engine: rates linearised from the time model. The decode
 * step model is base + perBlock x resident blocks + perSeq x running sequences, the time
 * model's own terms (weights and overhead; KV read; per-sequence work). `speed` > 1
 * describes an engine that many times faster (an emulator run with `--speed`).
 */
export function endpointSpecFor(
  setup: EngineSetup,
  role: EndpointRole,
  location: EndpointLocation,
  kvBlockTokens = KV_BLOCK_TOKENS,
  speed = 1,
): EndpointSpec {
  const t = setup.time;
  const referenceChunk = 2048;
  const perTokenRead = t.kvBytesPerToken / t.bytesPerMs;
  return {
    role,
    hostId: location.hostId,
    numaNode: location.numaNode,
    nvlinkDomain: location.nvlinkDomain,
    prefillTokensPerMs: referenceChunk / t.prefillMs(referenceChunk) * speed,
    decodeBaseMs: (t.decodeOverheadMs + t.weightBytes / t.bytesPerMs) / speed,
    decodeMsPerKvBlock: kvBlockTokens * perTokenRead / speed,
    decodeMsPerSeq: t.decodeMsPerSeq / speed,
    kvCapacityBlocks: Math.floor(setup.engine.gpuKvTokens / kvBlockTokens),
    slabMsPerBlock: kvBlockTokens * t.slabMsPerToken * location.slabDistanceFactor / speed,
    costPerHour: setup.gpu.costPerHour * t.tensorParallel,
    maxNumSeqs: setup.engine.maxNumSeqs,
    maxBatchedTokens: setup.engine.maxBatchedTokens,
  };
}
