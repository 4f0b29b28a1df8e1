/** The TS reference implementation of the policy: pure, no I/O, no clock, no Math.random. */
import type { CoreCapacity } from "../abi.ts";
import { Cfg, PolicyKind } from "../abi.ts";
import { resolveCapacity } from "../capacity.ts";
import type { PolicyConfigInput } from "../config.ts";
import { type Decider, ScoringCore } from "../scoring_core.ts";
import { allocateState, type CoreState } from "../state.ts";
import { planMigrations } from "./migrate.ts";
import { routePredictive } from "./route_predictive.ts";
import { routeRoundRobin } from "./route_round_robin.ts";

class ReferenceDecider implements Decider {
  readonly kind = "reference" as const;
  constructor(private readonly state: CoreState) {}

  route(nowMs: number, draw: number): number {
    return this.state.config[Cfg.POLICY] === PolicyKind.ROUND_ROBIN
      ? routeRoundRobin(this.state, nowMs)
      : routePredictive(this.state, nowMs, draw);
  }

  planMigrations(nowMs: number, draw: number): number {
    return planMigrations(this.state, nowMs, draw);
  }
}

export function createReferenceCore(
  config: PolicyConfigInput = {},
  capacity: Partial<CoreCapacity> = {},
): ScoringCore {
  const state = allocateState(resolveCapacity(capacity));
  return new ScoringCore(state, new ReferenceDecider(state), config);
}
