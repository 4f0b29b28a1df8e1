/**
 * The simulated fleet: which GPUs exist, their pool and role, where they sit, their engines'
 * capacities, and what the router is told about each (its `EndpointSpec`, derived from the
 * same time model that drives the engine, so the policy's predictions and the simulated truth
 * share their physics but not their information).
 */
import { LinkClass } from "../core/abi.ts";
import type { EndpointRole, EndpointSpec } from "../core/endpoints.ts";
import type { EngineConfig } from "../engine_model/engine.ts";
import type { GpuSpec } from "../engine_model/hardware.ts";
import type { ModelSpec } from "../engine_model/models.ts";
import {
  type EndpointLocation,
  endpointSpecFor,
  EngineModelError,
  KV_BLOCK_TOKENS,
  setupEngine,
} from "../engine_model/setup.ts";
import type { TimeModel } from "../engine_model/time_model.ts";
import type { SimConfig } from "./config.ts";
import { SimConfigError } from "./config.ts";

export type Pool = "shared" | "prefill" | "decode";

/** Where an engine sits: what the policy's link classes and NUMA bias see. */
export type GpuPlacement = EndpointLocation;

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
  let setup;
  try {
    setup = setupEngine({
      model: config.model,
      gpu: config.gpu,
      efficiency: config.efficiency,
      tensorParallel: config.tensorParallel,
      engine: config.engine,
      prefixBlockTokens: config.engine.prefixBlockTokens,
      slabLinkGbps: config.links.pcie.gbps,
    });
  } catch (e) {
    if (e instanceof EngineModelError) {
      throw new SimConfigError(`Invalid simulation config: ${e.message}`);
    }
    throw e;
  }
  const { model, gpu, time, engine } = setup;

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

/** What the router is told about an engine (see `endpointSpecFor`). */
export function endpointSpec(fleet: Fleet, member: FleetMember): EndpointSpec {
  return endpointSpecFor(fleet, member.role, member.placement, fleet.kvBlockTokens);
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
