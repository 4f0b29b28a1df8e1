/**
 * `ScoringCore`: the policy's public face, whichever implementation decides.
 *
 * It owns a `CoreState` (JS arrays for the reference, views into WASM memory for the wasm
 * core) and a `Decider` (the two implementations of `route` and `planMigrations`). Everything
 * the host writes goes through validated writers shared by both, so the two can only differ
 * in how they decide, which is what the conformance suite compares.
 */
import { Cfg, Ctr, Move, Status } from "./abi.ts";
import {
  encodeConfig,
  type PolicyConfig,
  type PolicyConfigInput,
  resolvePolicyConfig,
} from "./config.ts";
import {
  addLoad,
  endpointCount,
  type EndpointLoad,
  type EndpointSpec,
  setEndpoint,
  setEndpointCount,
  setLoad,
} from "./endpoints.ts";
import { PolicyInputError } from "./errors.ts";
import { policyInfo } from "./policies.ts";
import { peerDecider } from "./policy/stages.ts";
import {
  addPrefixBlocks,
  PrefixTier,
  type PrefixTierCode,
  removeEndpointBlocks,
  removePrefixBlocks,
} from "./prefix_index.ts";
import {
  type DecisionSlot,
  readDecision,
  type RouteDecision,
  type RouteRequest,
  writeRequest,
} from "./request.ts";
import { SequenceSlots } from "./sequences.ts";
import type { CoreState } from "./state.ts";
import { requireTime } from "./validate.ts";

export type CoreKind = "reference" | "wasm";

/** The two operations the implementations provide; both read and write only `CoreState`. */
export interface Decider {
  readonly kind: CoreKind;
  /** Decides for the request in the request region; returns a status code. */
  route(nowMs: number, draw: number): number;
  /** Plans migrations into the moves region; returns how many. */
  planMigrations(nowMs: number, draw: number): number;
}

export interface Migration {
  readonly sequence: number;
  readonly from: number;
  readonly to: number;
  readonly benefitMs: number;
  readonly costMs: number;
  readonly kvBlocks: number;
}

function requireDraw(context: string, draw: number): void {
  if (!Number.isInteger(draw) || draw < 0 || draw > 0xffffffff) {
    throw new PolicyInputError(
      `${context}: 'draw' must be an integer from 0 to 4294967295 (a random draw from the ` +
        `host): current value is ${draw}`,
    );
  }
}

export class ScoringCore {
  readonly sequences: SequenceSlots;
  #config!: PolicyConfig;
  /** The decider of the configured policy: the core's own, or a TS peer on its state. */
  #active!: Decider;
  #lastPlanMs = -Infinity;

  constructor(
    readonly state: CoreState,
    private readonly decider: Decider,
    config: PolicyConfigInput = {},
  ) {
    this.sequences = new SequenceSlots(state);
    this.configure(config);
  }

  /** Which implementation holds the state (and decides, for the two built-in policies). */
  get kind(): CoreKind {
    return this.decider.kind;
  }

  /** Which implementation decides for the configured policy (peers are TS only). */
  get decidedBy(): CoreKind {
    return this.#active.kind;
  }

  /** Whether the configured policy plans migrations (it migrates and its budget is above 0). */
  get migrates(): boolean {
    return policyInfo(this.#config.policy).migrates && this.migrationBudget > 0;
  }

  get config(): PolicyConfig {
    return this.#config;
  }

  /** Replaces the policy configuration (defaults fill what `input` omits). */
  configure(input: PolicyConfigInput): void {
    const config = resolvePolicyConfig(input);
    if (
      config.policy === "predictive" && config.migration.budget > this.state.limits.migrationBudget
    ) {
      throw new PolicyInputError(
        `Invalid policy config: 'migration.budget' must be at most the core's capacity ` +
          `'migrationBudget' (${this.state.limits.migrationBudget}): current value is ` +
          `${config.migration.budget}`,
      );
    }
    const info = policyInfo(config.policy);
    this.#active = info.bothCores
      ? this.decider
      : peerDecider(this.state, info.peer!(config, this.state));
    encodeConfig(config, this.state.config);
    this.#config = config;
  }

  get endpointCount(): number {
    return endpointCount(this.state);
  }

  setEndpointCount(n: number): void {
    setEndpointCount(this.state, n);
  }

  setEndpoint(i: number, spec: EndpointSpec): void {
    setEndpoint(this.state, i, spec);
  }

  setLoad(i: number, load: EndpointLoad): void {
    setLoad(this.state, i, load);
  }

  addLoad(
    i: number,
    queuedPrefillTokens: number,
    activeSeqs: number,
    activeKvBlocks: number,
    prefillSeqs = 0,
    pendingKvBlocks = 0,
    pendingSeqs = 0,
  ): void {
    addLoad(
      this.state,
      i,
      queuedPrefillTokens,
      activeSeqs,
      activeKvBlocks,
      prefillSeqs,
      pendingKvBlocks,
      pendingSeqs,
    );
  }

  /** See `addPrefixBlocks` in prefix_index.ts: returns how many pairs did not fit. */
  addPrefixBlocks(
    endpoint: number,
    blockIds: ArrayLike<number>,
    tier: PrefixTierCode = PrefixTier.DEVICE,
  ): number {
    return addPrefixBlocks(this.state, endpoint, blockIds, tier);
  }

  removePrefixBlocks(endpoint: number, blockIds: ArrayLike<number>): void {
    removePrefixBlocks(this.state, endpoint, blockIds);
  }

  removeEndpointBlocks(endpoint: number): void {
    removeEndpointBlocks(this.state, endpoint);
  }

  /**
   * Picks prefill and decode endpoints for `req`. `draw` is a uniform u32 from the host.
   * With `into` (from `newDecision()`), the decision is written into it and it is returned:
   * nothing is allocated per decision. Without, each call returns a new object.
   */
  route(req: RouteRequest, nowMs: number, draw: number, into?: DecisionSlot): RouteDecision {
    requireTime("Cannot route request", "nowMs", nowMs);
    requireDraw("Cannot route request", draw);
    writeRequest(this.state, req);
    const status = this.#active.route(nowMs, draw);
    if (status === Status.BAD_STATE) {
      throw new Error("scoring core rejected its own state (BAD_STATE): this is a bug");
    }
    return readDecision(this.state, into);
  }

  /**
   * Plans migrations at `nowMs` (non-decreasing between calls: the budget window is measured
   * in the caller's clock). Planned moves are already applied to the core's accounting.
   */
  planMigrations(nowMs: number, draw: number): Migration[] {
    const ctx = "Cannot plan migrations";
    requireTime(ctx, "nowMs", nowMs);
    requireDraw(ctx, draw);
    if (nowMs < this.#lastPlanMs) {
      throw new PolicyInputError(
        `${ctx}: 'nowMs' must not go backwards (last plan at ${this.#lastPlanMs}): ` +
          `current value is ${nowMs}`,
      );
    }
    this.#lastPlanMs = nowMs;
    const count = this.#active.planMigrations(nowMs, draw);
    if (count < 0) throw new Error(`scoring core failed to plan migrations (status ${-count})`);
    const m = this.state.moves;
    const out: Migration[] = [];
    for (let i = 0; i < count; i++) {
      const at = i * Move.STRIDE;
      out.push({
        sequence: m[at + Move.SEQUENCE],
        from: m[at + Move.FROM],
        to: m[at + Move.TO],
        benefitMs: m[at + Move.BENEFIT_MS],
        costMs: m[at + Move.COST_MS],
        kvBlocks: m[at + Move.KV_BLOCKS],
      });
    }
    return out;
  }

  /** Migrations recorded in the budget window ending at the last plan. */
  get migrationsInWindow(): number {
    return this.state.counters[Ctr.MIGRATION_RING_COUNT];
  }

  get migrationBudget(): number {
    return this.state.config[Cfg.MIGRATION_BUDGET];
  }
}
