// Migration planning: twin of src/core/reference/migrate.ts (see its header).

import {
  CFG_DECODE_KV_USAGE_LIMIT,
  CFG_KV_BLOCK_TOKENS,
  CFG_MIGRATION_BUDGET,
  CFG_MIGRATION_GAP_MS,
  CFG_MIGRATION_MAX_MOVES,
  CFG_MIGRATION_OVERHEAD_MS,
  CFG_MIGRATION_WINDOW_MS,
  CFG_POLICY,
  CTR_ENDPOINT_COUNT,
  CTR_MIGRATION_RING_COUNT,
  CTR_MIGRATION_RING_HEAD,
  CTR_SEQ_HIGH_WATER,
  MOVE_BENEFIT_MS,
  MOVE_COST_MS,
  MOVE_FROM,
  MOVE_KV_BLOCKS,
  MOVE_SEQUENCE,
  MOVE_STRIDE,
  MOVE_TO,
  POLICYKIND_ROUND_ROBIN,
  ROLE_DECODE,
} from "./abi";
import {
  base,
  capMigrationBudget,
  capMoves,
  REGION_ACTIVE_KV,
  REGION_ACTIVE_SEQS,
  REGION_CANDIDATES,
  REGION_CONFIG,
  REGION_COUNTERS,
  REGION_HEALTHY,
  REGION_HOST_KV_FREE,
  REGION_KV_CAPACITY,
  REGION_MIGRATION_TIMES,
  REGION_MOVES,
  REGION_ROLE,
  REGION_SEQ_ENDPOINT,
  REGION_SEQ_KV,
  REGION_SEQ_REMAINING,
} from "./layout";
import { f64At, i32At, setF64, setI32 } from "./mem";
import { linkClass, pmax, stepTimeMs, transferMs } from "./model";

function decodeCapable(e: i32): bool {
  return i32At(base(REGION_HEALTHY), e) != 0 && (i32At(base(REGION_ROLE), e) & ROLE_DECODE) != 0;
}

// Twin of decodeOnly: migration targets decode only (see the reference for why).
function decodeOnly(e: i32): bool {
  return i32At(base(REGION_HEALTHY), e) != 0 && i32At(base(REGION_ROLE), e) == ROLE_DECODE;
}

function expireWindow(now: f64): void {
  const counters = base(REGION_COUNTERS);
  const times = base(REGION_MIGRATION_TIMES);
  const window = f64At(base(REGION_CONFIG), CFG_MIGRATION_WINDOW_MS);
  while (i32At(counters, CTR_MIGRATION_RING_COUNT) > 0) {
    const head = i32At(counters, CTR_MIGRATION_RING_HEAD);
    if (f64At(times, head) > now - window) break;
    setI32(counters, CTR_MIGRATION_RING_HEAD, (head + 1) % capMigrationBudget);
    setI32(counters, CTR_MIGRATION_RING_COUNT, i32At(counters, CTR_MIGRATION_RING_COUNT) - 1);
  }
}

function recordInWindow(now: f64): void {
  const counters = base(REGION_COUNTERS);
  const count = i32At(counters, CTR_MIGRATION_RING_COUNT);
  const slot = (i32At(counters, CTR_MIGRATION_RING_HEAD) + count) % capMigrationBudget;
  setF64(base(REGION_MIGRATION_TIMES), slot, now);
  setI32(counters, CTR_MIGRATION_RING_COUNT, count + 1);
}

function alreadyMoved(q: i32, count: i32): bool {
  const moves = base(REGION_MOVES);
  for (let i = 0; i < count; i++) if (<i32>f64At(moves, i * MOVE_STRIDE + MOVE_SEQUENCE) == q) return true;
  return false;
}

export function planMigrations(now: f64, draw: u32): i32 {
  const cfg = base(REGION_CONFIG);
  if (<i32>f64At(cfg, CFG_POLICY) == POLICYKIND_ROUND_ROBIN) return 0;
  const counters = base(REGION_COUNTERS);
  const activeKv = base(REGION_ACTIVE_KV);
  const activeSeqs = base(REGION_ACTIVE_SEQS);
  const seqEndpoint = base(REGION_SEQ_ENDPOINT);
  const seqKv = base(REGION_SEQ_KV);
  const seqRemaining = base(REGION_SEQ_REMAINING);
  const moves = base(REGION_MOVES);
  const n = i32At(counters, CTR_ENDPOINT_COUNT);
  const seqHigh = i32At(counters, CTR_SEQ_HIGH_WATER);
  const maxMoves = min<f64>(f64At(cfg, CFG_MIGRATION_MAX_MOVES), <f64>capMoves);
  const budget = f64At(cfg, CFG_MIGRATION_BUDGET);
  const limitFrac = f64At(cfg, CFG_DECODE_KV_USAGE_LIMIT);
  const blockTokens = f64At(cfg, CFG_KV_BLOCK_TOKENS);
  expireWindow(now);
  if (n == 0) return 0;
  const start = <i32>(draw % <u32>n);
  // Registered sequences per endpoint (scratch: candidates); only these can move.
  const movable = base(REGION_CANDIDATES);
  for (let e = 0; e < n; e++) setI32(movable, e, 0);
  for (let q = 0; q < seqHigh; q++) {
    const e = i32At(seqEndpoint, q);
    if (e >= 0 && e < n) setI32(movable, e, i32At(movable, e) + 1);
  }
  let count = 0;
  while (<f64>count < maxMoves && <f64>i32At(counters, CTR_MIGRATION_RING_COUNT) < budget) {
    let src = -1;
    let hot = -Infinity;
    let dst = -1;
    let cool = Infinity;
    for (let i = 0; i < n; i++) {
      const e = (start + i) % n;
      if (!decodeCapable(e) || i32At(movable, e) == 0) continue;
      const t = stepTimeMs(e, f64At(activeKv, e), f64At(activeSeqs, e), now);
      if (t > hot) {
        hot = t;
        src = e;
      }
    }
    if (src < 0) break;
    for (let i = 0; i < n; i++) {
      const e = (start + i) % n;
      if (e == src || !decodeOnly(e)) continue;
      const t = stepTimeMs(e, f64At(activeKv, e), f64At(activeSeqs, e), now);
      if (t < cool) {
        cool = t;
        dst = e;
      }
    }
    if (dst < 0) break;

    const kvA = f64At(activeKv, src);
    const kvB = f64At(activeKv, dst);
    const nA = f64At(activeSeqs, src);
    const nB = f64At(activeSeqs, dst);
    const room = f64At(base(REGION_KV_CAPACITY), dst) * limitFrac +
      f64At(base(REGION_HOST_KV_FREE), dst);
    const link = linkClass(src, dst);
    let best = -1;
    let bestNet = -Infinity;
    let bestBenefit: f64 = 0;
    let bestCost: f64 = 0;
    for (let q = 0; q < seqHigh; q++) {
      if (i32At(seqEndpoint, q) != src || alreadyMoved(q, count)) continue;
      const k = f64At(seqKv, q);
      if (kvB + k > room) continue;
      const r = f64At(seqRemaining, q);
      const stepA2 = stepTimeMs(src, kvA - k, nA - 1, now);
      const stepB2 = stepTimeMs(dst, kvB + k, nB + 1, now);
      const benefit = r * ((hot - stepB2) + (nA - 1) * (hot - stepA2) - nB * (stepB2 - cool));
      const cost = transferMs(link, k * blockTokens) + f64At(cfg, CFG_MIGRATION_OVERHEAD_MS);
      const net = benefit - cost;
      if (net > bestNet) {
        bestNet = net;
        best = q;
        bestBenefit = benefit;
        bestCost = cost;
      }
    }
    if (best < 0 || !(bestNet > f64At(cfg, CFG_MIGRATION_GAP_MS))) break;

    const k = f64At(seqKv, best);
    const at = count * MOVE_STRIDE;
    setF64(moves, at + MOVE_SEQUENCE, <f64>best);
    setF64(moves, at + MOVE_FROM, <f64>src);
    setF64(moves, at + MOVE_TO, <f64>dst);
    setF64(moves, at + MOVE_BENEFIT_MS, bestBenefit);
    setF64(moves, at + MOVE_COST_MS, bestCost);
    setF64(moves, at + MOVE_KV_BLOCKS, k);
    setI32(seqEndpoint, best, dst);
    setF64(activeKv, src, pmax(0, kvA - k));
    setF64(activeKv, dst, kvB + k);
    setF64(activeSeqs, src, nA - 1);
    setF64(activeSeqs, dst, nB + 1);
    setI32(movable, src, i32At(movable, src) - 1);
    setI32(movable, dst, i32At(movable, dst) + 1);
    recordInWindow(now);
    count++;
  }
  return count;
}
