/**
 * Host-side writers for endpoint state (static description and live load), validated so that
 * neither implementation ever sees NaN, negative or out-of-range input.
 */
import { Ctr, Role, type RoleCode } from "./abi.ts";
import { PolicyInputError } from "./errors.ts";
import { updatePools } from "./pools.ts";
import type { CoreState } from "./state.ts";
import {
  isFiniteAtLeast,
  isIntegerIn,
  isTime,
  requireFinite,
  requireInteger,
  requireTime,
} from "./validate.ts";

export type EndpointRole = "prefill" | "decode" | "both";

/** What an endpoint is: fixed for its life unless the fleet changes. */
export interface EndpointSpec {
  readonly role: EndpointRole;
  /** Physical host; endpoints on different hosts exchange KV over the network. */
  readonly hostId?: number;
  /** NUMA node of the GPU's host attachment. */
  readonly numaNode?: number;
  /** NVLink domain id (endpoints in one domain exchange KV over NVLink); -1 for none. */
  readonly nvlinkDomain?: number;
  /** Prefill throughput of this endpoint for this model. */
  readonly prefillTokensPerMs: number;
  /** Decode step time with an empty batch (weights read once per step). */
  readonly decodeBaseMs: number;
  /** Extra decode step time per KV block resident in the batch (reading it). */
  readonly decodeMsPerKvBlock: number;
  /**
   * Extra decode step time per sequence in the batch, whatever its length (scheduling,
   * sampling, per-request attention launch; 0 or absent: folded into the per-block term).
   */
  readonly decodeMsPerSeq?: number;
  /** KV blocks that fit in GPU memory. */
  readonly kvCapacityBlocks: number;
  /** Extra step time per KV block held in the host slab (grows with NUMA distance). */
  readonly slabMsPerBlock?: number;
  /** Hourly price, for cost-aware scoring and cost reports (0: unknown). */
  readonly costPerHour?: number;
  /**
   * Sequences the engine runs at once (vLLM's `max_num_seqs`; 0 or absent: unknown). A
   * request beyond it waits for a seat.
   */
  readonly maxNumSeqs?: number;
  /** Tokens one step may process (vLLM's `max_num_batched_tokens`; 0 or absent: unlimited). */
  readonly maxBatchedTokens?: number;
}

/** What an endpoint is doing now. Every field is optional in an update. */
export interface EndpointLoad {
  readonly healthy?: boolean;
  readonly queuedPrefillTokens?: number;
  readonly activeSeqs?: number;
  readonly activeKvBlocks?: number;
  readonly hostKvFreeBlocks?: number;
  /**
   * Measured TTFT over the TTFT the model predicted for the same requests (smoothed; 0: none).
   * It scales the modelled prefill time while fresh (docs/POLICY.md, "Predicted times").
   */
  readonly ttftObservedRatio?: number;
  readonly ttftObservedAtMs?: number;
  /** Measured TPOT over the predicted decode step (smoothed; 0: none); scales the step. */
  readonly tpotObservedRatio?: number;
  readonly tpotObservedAtMs?: number;
  /** Requests the router sent here to prefill for another endpoint and not yet done. */
  readonly prefillSeqs?: number;
  /**
   * Of `activeKvBlocks`, the blocks of requests still prefilling elsewhere: their KV arrives
   * when the prefill is done (docs/POLICY.md, "Eligibility").
   */
  readonly pendingKvBlocks?: number;
  /** Of `activeSeqs`, the requests still prefilling elsewhere (not yet in the decode batch). */
  readonly pendingSeqs?: number;
  /**
   * Of `activeSeqs`, the sequences no router this core coordinates with placed (clients sent
   * straight to the engine, other routers: scraped running + waiting minus the router's own and
   * its replicas'). Their clients refill the seats they free, so SLO admission does not count
   * on their finishing (docs/POLICY.md, "Eligibility"). Hosts that see none pass 0.
   */
  readonly externalSeqs?: number;
  /**
   * The engine's own counts, as last scraped (vLLM `num_requests_waiting`,
   * `num_requests_running`, `kv_cache_usage_perc` as a 0..1 fraction), and when; stale after
   * `telemetryMaxAgeMs`. Peer policies that read engine metrics (llm-d) score with these.
   */
  readonly waitingRequests?: number;
  readonly runningRequests?: number;
  readonly kvUsage?: number;
  readonly metricsAtMs?: number;
}

/** Observed/predicted ratios above this are a host bug or a broken engine, not a measurement. */
export const MAX_OBSERVED_RATIO = 1000;

const ROLE_CODES: Readonly<Record<EndpointRole, RoleCode>> = {
  prefill: Role.PREFILL,
  decode: Role.DECODE,
  both: Role.BOTH,
};

export function roleCode(role: EndpointRole, context = "Invalid endpoint"): RoleCode {
  const code = Object.hasOwn(ROLE_CODES, role) ? ROLE_CODES[role] : undefined;
  if (code === undefined) {
    throw new PolicyInputError(
      `${context}: 'role' must be one of prefill, decode, both: current value is ${
        JSON.stringify(role)
      }`,
    );
  }
  return code;
}

export function endpointCount(s: CoreState): number {
  return s.counters[Ctr.ENDPOINT_COUNT];
}

/** Grows or shrinks the active endpoint range [0, n). New endpoints start inactive. */
export function setEndpointCount(s: CoreState, n: number): void {
  requireInteger("Cannot resize endpoints", "count", n, 0, s.limits.endpoints + 1);
  const old = s.counters[Ctr.ENDPOINT_COUNT];
  for (let i = n; i < old; i++) {
    updatePools(s, i, s.role[i], Role.NONE);
    clearEndpoint(s, i);
  }
  for (let i = old; i < n; i++) clearEndpoint(s, i);
  s.counters[Ctr.ENDPOINT_COUNT] = n;
}

/** Resets endpoint `i` to an inactive one, leaving the role pools to the caller. */
function clearEndpoint(s: CoreState, i: number): void {
  s.role[i] = Role.NONE;
  s.healthy[i] = 0;
  s.host[i] = 0;
  s.numa[i] = 0;
  s.domain[i] = -1;
  s.prefillMsPerToken[i] = 0;
  s.decodeBaseMs[i] = 0;
  s.decodeMsPerBlock[i] = 0;
  s.decodeMsPerSeq[i] = 0;
  s.kvCapacity[i] = 0;
  s.slabMsPerBlock[i] = 0;
  s.costPerHour[i] = 0;
  s.queuedPrefill[i] = 0;
  s.activeSeqs[i] = 0;
  s.activeKv[i] = 0;
  s.hostKvFree[i] = 0;
  s.ttftObs[i] = 0;
  s.ttftObsAt[i] = 0;
  s.tpotObs[i] = 0;
  s.tpotObsAt[i] = 0;
  s.maxSeqs[i] = 0;
  s.prefillSeqs[i] = 0;
  s.waitingObs[i] = 0;
  s.runningObs[i] = 0;
  s.kvUsageObs[i] = 0;
  s.metricsAt[i] = 0;
  s.maxBatchedTokens[i] = 0;
  s.pendingKv[i] = 0;
  s.pendingSeqs[i] = 0;
  s.externalSeqs[i] = 0;
}

export function requireEndpoint(s: CoreState, context: string, i: number): number {
  return requireInteger(context, "endpoint", i, 0, s.counters[Ctr.ENDPOINT_COUNT]);
}

/** Describes endpoint `i` and marks it healthy with no load. */
export function setEndpoint(s: CoreState, i: number, spec: EndpointSpec): void {
  const ctx = `Cannot set endpoint ${i}`;
  requireEndpoint(s, ctx, i);
  const role = roleCode(spec.role, ctx);
  const host = requireInteger(ctx, "hostId", spec.hostId ?? 0, 0, s.limits.hosts);
  const numa = requireInteger(ctx, "numaNode", spec.numaNode ?? 0, 0, s.limits.numaPerHost);
  const domain = requireInteger(ctx, "nvlinkDomain", spec.nvlinkDomain ?? -1, -1, s.limits.domains);
  const rate = requireFinite(ctx, "prefillTokensPerMs", spec.prefillTokensPerMs, Number.MIN_VALUE);
  const base = requireFinite(ctx, "decodeBaseMs", spec.decodeBaseMs);
  const perBlock = requireFinite(ctx, "decodeMsPerKvBlock", spec.decodeMsPerKvBlock);
  const perSeq = requireFinite(ctx, "decodeMsPerSeq", spec.decodeMsPerSeq ?? 0);
  const capacity = requireFinite(ctx, "kvCapacityBlocks", spec.kvCapacityBlocks, 1);
  const slab = requireFinite(ctx, "slabMsPerBlock", spec.slabMsPerBlock ?? 0);
  const price = requireFinite(ctx, "costPerHour", spec.costPerHour ?? 0);
  const seats = requireInteger(ctx, "maxNumSeqs", spec.maxNumSeqs ?? 0, 0, 1 << 24);
  const budget = spec.maxBatchedTokens ?? 0;
  if (budget !== Infinity) requireFinite(ctx, "maxBatchedTokens", budget);
  updatePools(s, i, s.role[i], role);
  clearEndpoint(s, i);
  s.role[i] = role;
  s.healthy[i] = 1;
  s.host[i] = host;
  s.numa[i] = numa;
  s.domain[i] = domain;
  s.prefillMsPerToken[i] = 1 / rate;
  s.decodeBaseMs[i] = base;
  s.decodeMsPerBlock[i] = perBlock;
  s.decodeMsPerSeq[i] = perSeq;
  s.kvCapacity[i] = capacity;
  s.slabMsPerBlock[i] = slab;
  s.costPerHour[i] = price;
  s.maxSeqs[i] = seats;
  s.maxBatchedTokens[i] = budget === Infinity ? 0 : budget;
}

/** Overwrites the given load fields of endpoint `i`. */
export function setLoad(s: CoreState, i: number, load: EndpointLoad): void {
  // Validate everything before writing anything, so a bad update leaves no partial state.
  const q = load.queuedPrefillTokens, seqs = load.activeSeqs, kv = load.activeKvBlocks;
  const free = load.hostKvFreeBlocks, ttft = load.ttftObservedRatio, tpot = load.tpotObservedRatio;
  const ttftAt = load.ttftObservedAtMs, tpotAt = load.tpotObservedAtMs;
  const pre = load.prefillSeqs, waiting = load.waitingRequests, running = load.runningRequests;
  const usage = load.kvUsage, metricsAt = load.metricsAtMs, pending = load.pendingKvBlocks;
  const pendingSeqs = load.pendingSeqs, externalSeqs = load.externalSeqs;
  if (!loadIsValid(s, i, load)) rejectLoad(s, i, load);
  if (load.healthy !== undefined) s.healthy[i] = load.healthy ? 1 : 0;
  if (q !== undefined) s.queuedPrefill[i] = q;
  if (seqs !== undefined) s.activeSeqs[i] = seqs;
  if (kv !== undefined) s.activeKv[i] = kv;
  if (free !== undefined) s.hostKvFree[i] = free;
  if (ttft !== undefined) s.ttftObs[i] = ttft;
  if (ttftAt !== undefined) s.ttftObsAt[i] = ttftAt;
  if (tpot !== undefined) s.tpotObs[i] = tpot;
  if (tpotAt !== undefined) s.tpotObsAt[i] = tpotAt;
  if (pre !== undefined) s.prefillSeqs[i] = pre;
  if (waiting !== undefined) s.waitingObs[i] = waiting;
  if (running !== undefined) s.runningObs[i] = running;
  if (usage !== undefined) s.kvUsageObs[i] = usage;
  if (metricsAt !== undefined) s.metricsAt[i] = metricsAt;
  if (pending !== undefined) s.pendingKv[i] = pending;
  if (pendingSeqs !== undefined) s.pendingSeqs[i] = pendingSeqs;
  if (externalSeqs !== undefined) s.externalSeqs[i] = externalSeqs;
}

/** `setLoad`'s checks without messages (no more permissive than `rejectLoad`). */
function loadIsValid(s: CoreState, i: number, load: EndpointLoad): boolean {
  return isIntegerIn(i, 0, s.counters[Ctr.ENDPOINT_COUNT]) && s.role[i] !== Role.NONE &&
    optionalCount(load.queuedPrefillTokens) && optionalCount(load.activeSeqs) &&
    optionalCount(load.activeKvBlocks) && optionalCount(load.hostKvFreeBlocks) &&
    optionalRatio(load.ttftObservedRatio) && optionalRatio(load.tpotObservedRatio) &&
    optionalTime(load.ttftObservedAtMs) && optionalTime(load.tpotObservedAtMs) &&
    optionalCount(load.prefillSeqs) && optionalCount(load.waitingRequests) &&
    optionalCount(load.runningRequests) && optionalCount(load.kvUsage) &&
    optionalTime(load.metricsAtMs) && optionalCount(load.pendingKvBlocks) &&
    optionalCount(load.pendingSeqs) && optionalCount(load.externalSeqs) &&
    (load.healthy === undefined || typeof load.healthy === "boolean");
}

const optionalCount = (v: number | undefined) => v === undefined || isFiniteAtLeast(v);
const optionalTime = (v: number | undefined) => v === undefined || isTime(v);
const optionalRatio = (v: number | undefined) =>
  v === undefined || (isFiniteAtLeast(v) && v <= MAX_OBSERVED_RATIO);

/** Throws the error naming what is wrong with a `setLoad` call. */
function rejectLoad(s: CoreState, i: number, load: EndpointLoad): void {
  const ctx = `Cannot update endpoint ${i}`;
  requireEndpoint(s, ctx, i);
  if (s.role[i] === Role.NONE) {
    throw new PolicyInputError(`${ctx}: it has no role yet; call setEndpoint(${i}, spec) first`);
  }
  const q = load.queuedPrefillTokens, seqs = load.activeSeqs, kv = load.activeKvBlocks;
  const free = load.hostKvFreeBlocks, ttft = load.ttftObservedRatio, tpot = load.tpotObservedRatio;
  const ttftAt = load.ttftObservedAtMs, tpotAt = load.tpotObservedAtMs;
  const pre = load.prefillSeqs, waiting = load.waitingRequests, running = load.runningRequests;
  const usage = load.kvUsage, metricsAt = load.metricsAtMs;
  if (q !== undefined) requireFinite(ctx, "queuedPrefillTokens", q);
  if (seqs !== undefined) requireFinite(ctx, "activeSeqs", seqs);
  if (kv !== undefined) requireFinite(ctx, "activeKvBlocks", kv);
  if (free !== undefined) requireFinite(ctx, "hostKvFreeBlocks", free);
  if (ttft !== undefined) requireRatio(ctx, "ttftObservedRatio", ttft);
  if (tpot !== undefined) requireRatio(ctx, "tpotObservedRatio", tpot);
  if (ttftAt !== undefined) requireTime(ctx, "ttftObservedAtMs", ttftAt);
  if (tpotAt !== undefined) requireTime(ctx, "tpotObservedAtMs", tpotAt);
  if (pre !== undefined) requireFinite(ctx, "prefillSeqs", pre);
  if (waiting !== undefined) requireFinite(ctx, "waitingRequests", waiting);
  if (running !== undefined) requireFinite(ctx, "runningRequests", running);
  if (usage !== undefined) requireFinite(ctx, "kvUsage", usage);
  if (metricsAt !== undefined) requireTime(ctx, "metricsAtMs", metricsAt);
  if (load.pendingKvBlocks !== undefined) {
    requireFinite(ctx, "pendingKvBlocks", load.pendingKvBlocks);
  }
  if (load.pendingSeqs !== undefined) requireFinite(ctx, "pendingSeqs", load.pendingSeqs);
  if (load.externalSeqs !== undefined) requireFinite(ctx, "externalSeqs", load.externalSeqs);
  if (load.healthy !== undefined && typeof load.healthy !== "boolean") {
    throw new PolicyInputError(
      `${ctx}: 'healthy' must be a boolean: current value is ${load.healthy}`,
    );
  }
}

function requireRatio(ctx: string, field: string, value: number): void {
  requireFinite(ctx, field, value);
  if (value > MAX_OBSERVED_RATIO) {
    throw new PolicyInputError(
      `${ctx}: '${field}' must be at most ${MAX_OBSERVED_RATIO} (observed / predicted): ` +
        `current value is ${value}`,
    );
  }
}

/**
 * In-router accounting: adds deltas to an endpoint's queued prefill tokens, active sequences
 * and KV blocks, prefill-stage requests, and pending KV blocks and sequences (at dispatch,
 * prefill done, first token, finish). Results below zero are an accounting bug
 * in the caller and are rejected rather than clamped.
 */
export function addLoad(
  s: CoreState,
  i: number,
  queuedPrefillTokens: number,
  activeSeqs: number,
  activeKvBlocks: number,
  prefillSeqs = 0,
  pendingKvBlocks = 0,
  pendingSeqs = 0,
): void {
  const known = isIntegerIn(i, 0, s.counters[Ctr.ENDPOINT_COUNT]);
  const q = known ? s.queuedPrefill[i] + queuedPrefillTokens : NaN;
  const n = known ? s.activeSeqs[i] + activeSeqs : NaN;
  const kv = known ? s.activeKv[i] + activeKvBlocks : NaN;
  const pre = known ? s.prefillSeqs[i] + prefillSeqs : NaN;
  const pending = known ? s.pendingKv[i] + pendingKvBlocks : NaN;
  const pendingN = known ? s.pendingSeqs[i] + pendingSeqs : NaN;
  if (
    !known || !isFiniteAtLeast(q) || !isFiniteAtLeast(n) || !isFiniteAtLeast(kv) ||
    !isFiniteAtLeast(pre) || !isFiniteAtLeast(pending) || !isFiniteAtLeast(pendingN)
  ) {
    const ctx = `Cannot account load on endpoint ${i}`;
    requireEndpoint(s, ctx, i);
    requireFinite(ctx, "queuedPrefillTokens", q);
    requireFinite(ctx, "activeSeqs", n);
    requireFinite(ctx, "activeKvBlocks", kv);
    requireFinite(ctx, "prefillSeqs", pre);
    requireFinite(ctx, "pendingKvBlocks", pending);
    requireFinite(ctx, "pendingSeqs", pendingN);
  }
  s.queuedPrefill[i] = q;
  s.activeSeqs[i] = n;
  s.activeKv[i] = kv;
  s.prefillSeqs[i] = pre;
  s.pendingKv[i] = pending;
  s.pendingSeqs[i] = pendingN;
}
