/**
 * The simulated fleet: which GPUs exist, their pool and role, where they sit, their engines'
 * capacities, and what the router is told about each (its `EndpointSpec`, derived from the
 * same time model that drives the engine, so the policy's predictions and the simulated truth
 * share their physics but not their information).
 */
import { LinkClass } from "../core/abi.ts";
import type { EndpointRole, EndpointSpec } from "../core/endpoints.ts";
import type { SimConfig } from "./config.ts";
import { SimConfigError } from "./config.ts";
import type { EngineConfig } from "./engine/engine.ts";
import { type Efficiency, EFFICIENCY_PRESETS } from "./model/efficiency.ts";
import { GPU_PRESETS, type GpuSpec } from "./model/hardware.ts";
import { MODEL_PRESETS, type ModelSpec } from "./model/models.ts";
import { TimeModel } from "./model/time_model.ts";
import { PREFIX_BLOCK_TOKENS } from "./workload/synthetic.ts";

export type Pool = "shared" | "prefill" | "decode";

/** Where an engine sits: what the policy's link classes and NUMA bias see. */
export interface GpuPlacement {
  readonly hostId: number;
  readonly numaNode: number;
  readonly nvlinkDomain: number;
  /** Multiplier on host-slab access cost (NUMA distance / local distance; 1 when local). */
  readonly slabDistanceFactor: number;
}

export const DEFAULT_PLACEMENT: GpuPlacement = {
  hostId: 0,
  numaNode: 0,
  nvlinkDomain: -1,
  slabDistanceFactor: 1,
};

export interface FleetMember {
  /** Endpoint index in the router and the engine list. */
  readonly index: number;
  /** GPU index (of the first GPU of the instance), as named on the command line. */
  readonly gpu: number;
  readonly pool: Pool;
  readonly role: EndpointRole;
  readonly placement: GpuPlacement;
}

export interface Fleet {
  readonly model: ModelSpec;
  readonly gpu: GpuSpec;
  readonly time: TimeModel;
  readonly engine: EngineConfig;
  readonly members: readonly FleetMember[];
  /** KV tokens per KV block (the policy's accounting unit). */
  readonly kvBlockTokens: number;
}

/** KV block size shared by the engines' accounting and the policy. */
export const KV_BLOCK_TOKENS = 16;

function preset<T>(kind: string, table: Readonly<Record<string, T>>, value: string | T): T {
  if (typeof value !== "string") return value;
  const found = table[value.toLowerCase()];
  if (!found) {
    throw new SimConfigError(
      `Invalid simulation config: unknown ${kind} '${value}'; known: ${
        Object.keys(table).join(", ")
      }`,
    );
  }
  return found;
}

/** Expands a count or an index list; counts take the next free indexes from `next`. */
function gpuList(field: string, value: number | number[], next: { index: number }): number[] {
  if (Array.isArray(value)) {
    if (new Set(value).size !== value.length) {
      throw new SimConfigError(
        `Invalid simulation config: '${field}' lists a GPU twice: current value is ${
          JSON.stringify(value)
        }`,
      );
    }
    return value;
  }
  const list = Array.from({ length: value }, (_, i) => next.index + i);
  next.index += value;
  return list;
}

export function buildFleet(config: SimConfig, placements?: (gpu: number) => GpuPlacement): Fleet {
  const model = preset("model", MODEL_PRESETS, config.model);
  const gpu = preset("GPU", GPU_PRESETS, config.gpu);
  const gpuKey = typeof config.gpu === "string" ? config.gpu.toLowerCase() : "h100";
  const efficiency: Efficiency = config.efficiency ?? EFFICIENCY_PRESETS[gpuKey] ??
    EFFICIENCY_PRESETS.h100;
  const tp = config.tensorParallel;
  // Reading slab-resident KV goes over the host link (PCIe) every step.
  const slabMsPerToken = new TimeModel(model, gpu, tp, efficiency).kvBytesPerToken /
    (config.links.pcie.gbps * 1e6);
  const time = new TimeModel(model, gpu, tp, efficiency, slabMsPerToken);
  const gpuKvTokens = time.kvCapacityTokens(config.engine.gpuMemoryUtilization);
  if (gpuKvTokens < 1024) {
    throw new SimConfigError(
      `Invalid simulation config: ${model.name} does not fit on ${tp} x ${gpu.name} at memory ` +
        `utilization ${config.engine.gpuMemoryUtilization}: KV room would be ${gpuKvTokens} tokens; ` +
        `raise 'tensorParallel' or pick a bigger GPU`,
    );
  }
  const engine: EngineConfig = {
    maxNumSeqs: config.engine.maxNumSeqs,
    maxBatchedTokens: config.engine.chunkedPrefill ? config.engine.maxBatchedTokens : Infinity,
    gpuKvTokens,
    slabKvTokens: Math.floor(config.engine.hostKvSlabGb * 1e9 / time.kvBytesPerToken),
    prefixCacheBlocks: Math.floor(
      config.engine.prefixCacheFraction * gpuKvTokens / PREFIX_BLOCK_TOKENS,
    ),
    prefixBlockTokens: PREFIX_BLOCK_TOKENS,
  };

  const next = { index: 0 };
  const pools: [Pool, EndpointRole, number[]][] = config.layout === "shared"
    ? [["shared", "both", gpuList("gpus", config.gpus, next)]]
    : [
      ["prefill", "prefill", gpuList("prefillGpus", config.prefillGpus, next)],
      ["decode", "decode", gpuList("decodeGpus", config.decodeGpus, next)],
    ];
  const all = pools.flatMap(([, , list]) => list);
  if (new Set(all).size !== all.length) {
    throw new SimConfigError(
      `Invalid simulation config: 'prefillGpus' and 'decodeGpus' overlap: current value is ${
        JSON.stringify(all)
      }`,
    );
  }
  const decodeCount = pools.filter(([pool]) => pool !== "prefill").reduce(
    (n, [, , l]) => n + l.length,
    0,
  );
  if (decodeCount === 0) {
    throw new SimConfigError(
      `Invalid simulation config: no GPU can decode ('${
        config.layout === "shared" ? "gpus" : "decodeGpus"
      }' is empty)`,
    );
  }
  if (config.layout === "dual" && pools[0][2].length === 0) {
    throw new SimConfigError(
      "Invalid simulation config: layout 'dual' needs at least one prefill GPU ('prefillGpus')",
    );
  }
  const members: FleetMember[] = [];
  for (const [pool, role, list] of pools) {
    for (const g of list) {
      members.push({
        index: members.length,
        gpu: g,
        pool,
        role,
        placement: placements ? placements(g) : DEFAULT_PLACEMENT,
      });
    }
  }
  return { model, gpu, time, engine, members, kvBlockTokens: KV_BLOCK_TOKENS };
}

/** Sequence length assumed when folding per-sequence decode cost into the per-block rate. */
const TYPICAL_SEQUENCE_TOKENS = 2048;

/**
 * What the router is told about an engine: rates linearised from the time model. The decode
 * step model is base + perBlock x resident blocks; the engine's per-sequence cost is folded in
 * at a typical sequence length (the policy has no per-sequence term).
 */
export function endpointSpec(fleet: Fleet, member: FleetMember): EndpointSpec {
  const t = fleet.time;
  const referenceChunk = 2048;
  const perTokenRead = t.kvBytesPerToken / t.bytesPerMs;
  return {
    role: member.role,
    hostId: member.placement.hostId,
    numaNode: member.placement.numaNode,
    nvlinkDomain: member.placement.nvlinkDomain,
    prefillTokensPerMs: referenceChunk / t.prefillMs(referenceChunk),
    decodeBaseMs: t.decodeOverheadMs + t.weightBytes / t.bytesPerMs,
    decodeMsPerKvBlock: fleet.kvBlockTokens *
      (perTokenRead + t.decodeMsPerSeq / TYPICAL_SEQUENCE_TOKENS),
    kvCapacityBlocks: Math.floor(fleet.engine.gpuKvTokens / fleet.kvBlockTokens),
    slabMsPerBlock: fleet.kvBlockTokens * t.slabMsPerToken * member.placement.slabDistanceFactor,
    costPerHour: fleet.gpu.costPerHour * t.tensorParallel,
  };
}

/** The link class KV crosses between two engines (same rules as the policy's). */
export function linkBetween(a: FleetMember, b: FleetMember): number {
  if (a.index === b.index) return LinkClass.SAME;
  const pa = a.placement, pb = b.placement;
  if (pa.nvlinkDomain >= 0 && pa.nvlinkDomain === pb.nvlinkDomain) return LinkClass.NVLINK;
  if (pa.hostId !== pb.hostId) return LinkClass.NETWORK;
  if (pa.numaNode === pb.numaNode) return LinkClass.PCIE;
  return LinkClass.CROSS_NUMA;
}

/** Time to move `tokens` of KV between two engines over their link. */
export function transferMs(
  config: SimConfig,
  fleet: Fleet,
  a: FleetMember,
  b: FleetMember,
  tokens: number,
): number {
  const link = linkBetween(a, b);
  if (link === LinkClass.SAME) return 0;
  const spec = link === LinkClass.NVLINK
    ? config.links.nvlink
    : link === LinkClass.PCIE
    ? config.links.pcie
    : link === LinkClass.CROSS_NUMA
    ? config.links.crossNuma
    : config.links.network;
  return tokens * fleet.time.kvBytesPerToken / (spec.gbps * 1e6) + spec.latencyMs;
}
