/**
 * Migration planning (docs/POLICY.md, "Migration"), TS reference.
 *
 * Repeatedly: take the hottest decode endpoint (highest predicted step time) that holds at
 * least one registered sequence, the coolest other decode-only endpoint, and the sequence on the
 * hot one whose move has the largest predicted net benefit. Move it only if benefit - cost > gap and the
 * budget for the window ending now is not spent. Planned moves are applied to the core's own
 * accounting at once, so the next pick sees them.
 */
import { Cfg, Ctr, Move, PolicyKind, Role } from "../abi.ts";
import type { CoreState } from "../state.ts";
import { linkClass, pmax, stepTimeMs, transferMs } from "./model.ts";

function decodeCapable(s: CoreState, e: number): boolean {
  return s.healthy[e] !== 0 && (s.role[e] & Role.DECODE) !== 0;
}

/**
 * A migration target must decode only. A shared-pool endpoint (role both) is where the router
 * also sends prompts, and the benefit model prices decode steps only: moving decode work onto
 * it slowed its prefills (simulated shared pool: TTFT p95 +20% vs no migration).
 */
function decodeOnly(s: CoreState, e: number): boolean {
  return s.healthy[e] !== 0 && s.role[e] === Role.DECODE;
}

/** Drops ring entries that left the window (now - window, now]. */
function expireWindow(s: CoreState, now: number): void {
  const cap = s.migrationTimes.length;
  const window = s.config[Cfg.MIGRATION_WINDOW_MS];
  while (s.counters[Ctr.MIGRATION_RING_COUNT] > 0) {
    const head = s.counters[Ctr.MIGRATION_RING_HEAD];
    if (s.migrationTimes[head] > now - window) break;
    s.counters[Ctr.MIGRATION_RING_HEAD] = (head + 1) % cap;
    s.counters[Ctr.MIGRATION_RING_COUNT]--;
  }
}

function recordInWindow(s: CoreState, now: number): void {
  const cap = s.migrationTimes.length;
  const count = s.counters[Ctr.MIGRATION_RING_COUNT];
  s.migrationTimes[(s.counters[Ctr.MIGRATION_RING_HEAD] + count) % cap] = now;
  s.counters[Ctr.MIGRATION_RING_COUNT] = count + 1;
}

/** Whether sequence `q` is already among the first `count` planned moves. */
function alreadyMoved(s: CoreState, q: number, count: number): boolean {
  for (let i = 0; i < count; i++) if (s.moves[i * Move.STRIDE + Move.SEQUENCE] === q) return true;
  return false;
}

/** Returns the number of planned moves, written to the moves region. */
export function planMigrations(s: CoreState, now: number, draw: number): number {
  const cfg = s.config;
  if (cfg[Cfg.POLICY] === PolicyKind.ROUND_ROBIN) return 0;
  const n = s.counters[Ctr.ENDPOINT_COUNT];
  const seqHigh = s.counters[Ctr.SEQ_HIGH_WATER];
  const maxMoves = Math.min(cfg[Cfg.MIGRATION_MAX_MOVES], s.limits.moves);
  const budget = cfg[Cfg.MIGRATION_BUDGET];
  const limitFrac = cfg[Cfg.DECODE_KV_USAGE_LIMIT];
  const blockTokens = cfg[Cfg.KV_BLOCK_TOKENS];
  expireWindow(s, now);
  if (n === 0) return 0;
  const start = (draw >>> 0) % n;
  // Registered sequences per endpoint (scratch: `candidates`); only these can move.
  const movable = s.candidates;
  for (let e = 0; e < n; e++) movable[e] = 0;
  for (let q = 0; q < seqHigh; q++) {
    const e = s.seqEndpoint[q];
    if (e >= 0 && e < n) movable[e]++;
  }
  let moves = 0;
  while (moves < maxMoves && s.counters[Ctr.MIGRATION_RING_COUNT] < budget) {
    // Hottest and coolest decode endpoints; exact ties go to the first in rotated order.
    let src = -1, hot = -Infinity, dst = -1, cool = Infinity;
    for (let i = 0; i < n; i++) {
      const e = (start + i) % n;
      if (!decodeCapable(s, e) || movable[e] === 0) continue;
      const t = stepTimeMs(s, e, s.activeKv[e], s.activeSeqs[e], now);
      if (t > hot) {
        hot = t;
        src = e;
      }
    }
    if (src < 0) break;
    for (let i = 0; i < n; i++) {
      const e = (start + i) % n;
      if (e === src || !decodeOnly(s, e)) continue;
      const t = stepTimeMs(s, e, s.activeKv[e], s.activeSeqs[e], now);
      if (t < cool) {
        cool = t;
        dst = e;
      }
    }
    if (dst < 0) break;

    const kvA = s.activeKv[src], kvB = s.activeKv[dst];
    const nA = s.activeSeqs[src], nB = s.activeSeqs[dst];
    const room = s.kvCapacity[dst] * limitFrac + s.hostKvFree[dst];
    const link = linkClass(s, src, dst);
    let best = -1, bestNet = -Infinity, bestBenefit = 0, bestCost = 0;
    for (let q = 0; q < seqHigh; q++) {
      // A sequence moves at most once per plan: a second hop would pay a second transfer.
      if (s.seqEndpoint[q] !== src || alreadyMoved(s, q, moves)) continue;
      const k = s.seqKv[q];
      if (kvB + k > room) continue;
      const r = s.seqRemaining[q];
      const stepA2 = stepTimeMs(s, src, kvA - k, nA - 1, now);
      const stepB2 = stepTimeMs(s, dst, kvB + k, nB + 1, now);
      const benefit = r * ((hot - stepB2) + (nA - 1) * (hot - stepA2) - nB * (stepB2 - cool));
      const cost = transferMs(cfg, link, k * blockTokens) + cfg[Cfg.MIGRATION_OVERHEAD_MS];
      const net = benefit - cost;
      if (net > bestNet) {
        bestNet = net;
        best = q;
        bestBenefit = benefit;
        bestCost = cost;
      }
    }
    if (best < 0 || !(bestNet > cfg[Cfg.MIGRATION_GAP_MS])) break;

    const k = s.seqKv[best];
    const at = moves * Move.STRIDE;
    s.moves[at + Move.SEQUENCE] = best;
    s.moves[at + Move.FROM] = src;
    s.moves[at + Move.TO] = dst;
    s.moves[at + Move.BENEFIT_MS] = bestBenefit;
    s.moves[at + Move.COST_MS] = bestCost;
    s.moves[at + Move.KV_BLOCKS] = k;
    s.seqEndpoint[best] = dst;
    // Clamped so a host whose sequence and endpoint accounting disagree cannot go negative.
    s.activeKv[src] = pmax(0, kvA - k);
    s.activeKv[dst] = kvB + k;
    s.activeSeqs[src] = nA - 1;
    s.activeSeqs[dst] = nB + 1;
    movable[src]--;
    movable[dst]++;
    recordInWindow(s, now);
    moves++;
  }
  return moves;
}
