/**
 * The engine's prefix cache under KV pressure, shared pool against reserved: a finished
 * request's blocks stay cached in both, but when a long sequence then takes most of the KV,
 * the shared pool gives up the free cached blocks it needs (reported to the listener as
 * evictions, a prefix's tail first) while the reserved cache keeps them all.
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { Engine, type EngineConfig, type EngineListener } from "../../src/engine_model/engine.ts";
import { type Job, newJob } from "../../src/engine_model/job.ts";
import { EFFICIENCY_PRESETS } from "../../src/engine_model/efficiency.ts";
import { GPU_PRESETS } from "../../src/engine_model/hardware.ts";
import { MODEL_PRESETS } from "../../src/engine_model/models.ts";
import type { PrefixCachePool } from "../../src/engine_model/prefix_pool.ts";
import { TimeModel } from "../../src/engine_model/time_model.ts";
import type { SimRequest } from "../../src/workload/request.ts";

const time = new TimeModel(
  MODEL_PRESETS["llama-3-8b"],
  GPU_PRESETS.h100,
  1,
  EFFICIENCY_PRESETS.h100,
);

/** 20,000 KV tokens: 39 blocks of 512; the reserved cache holds 100 blocks whatever the load. */
function config(pool: PrefixCachePool): EngineConfig {
  return {
    maxNumSeqs: 64,
    maxBatchedTokens: 8192,
    gpuKvTokens: 20_000,
    slabKvTokens: 0,
    prefixCacheBlocks: 100,
    prefixBlockTokens: 512,
    prefixCachePool: pool,
  };
}

class Driver implements EngineListener {
  readonly engine: Engine;
  readonly added: number[] = [];
  readonly evicted: number[] = [];
  readonly done = new Set<number>();
  wakeAt = Infinity;
  now = 0;

  constructor(pool: PrefixCachePool, extra: Partial<EngineConfig> = {}) {
    this.engine = new Engine(0, time, { ...config(pool), ...extra }, this);
  }

  submit(req: SimRequest): Job {
    const job = newJob(req, "full");
    this.engine.enqueue(job, this.now);
    return job;
  }

  /** Runs until `id` finished. */
  runUntilDone(id: number): void {
    while (!this.done.has(id) && this.wakeAt !== Infinity) {
      this.now = this.wakeAt;
      this.wakeAt = Infinity;
      this.engine.onWake(this.now);
    }
  }

  schedule(_e: Engine, t: number) {
    this.wakeAt = t;
  }
  prefillStarted() {}
  firstToken() {}
  prefillDone() {}
  finished(_e: Engine, j: Job) {
    this.done.add(j.request.id);
  }
  removed() {}
  preempted() {}
  rejected() {}
  prefixChanged(_e: Engine, added: readonly number[], evicted: readonly number[]) {
    this.added.push(...added);
    this.evicted.push(...evicted);
  }
}

const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);
/** A: 16 blocks, done after its prefill; B: 30 blocks decoding 40 tokens; C: A's prefix again. */
const A: SimRequest = {
  id: 1,
  arrivalMs: 0,
  promptTokens: 16 * 512,
  outputTokens: 1,
  prefixBlocks: range(100, 16),
};
const B: SimRequest = {
  id: 2,
  arrivalMs: 0,
  promptTokens: 30 * 512,
  outputTokens: 40,
  prefixBlocks: range(500, 30),
};
const C: SimRequest = { ...A, id: 3, promptTokens: 17 * 512, prefixBlocks: range(100, 17) };

function play(pool: PrefixCachePool) {
  const d = new Driver(pool);
  d.submit(A);
  d.runUntilDone(1);
  equal(d.engine.prefixCache.size, 16, "A's blocks are cached once it finished");
  const evictedBeforeB = d.evicted.length;
  d.submit(B);
  d.runUntilDone(2);
  const duringB = d.evicted.slice(evictedBeforeB);
  const c = d.submit(C);
  d.runUntilDone(3);
  return { d, duringB, cCached: c.cachedTokens };
}

Deno.test("under KV pressure the shared pool evicts free cached blocks; the reserved one does not", () => {
  const reserved = play("reserved");
  deepEqual(reserved.d.evicted, [], "100 reserved blocks hold everything");
  equal(reserved.cCached, 16 * 512, "C hits all of A's prefix");

  const shared = play("shared");
  // B holds 15,360 KV tokens (and grows by 40): at most 9 blocks of 512 stay free, so at least
  // 7 of A's 16 free cached blocks go, the last of its prefix first; B's own are pinned.
  const k = shared.duringB.length;
  ok(k >= 7 && k <= 16, `evicted ${k} of A's blocks`);
  deepEqual(shared.duringB, range(100, 16).reverse().slice(0, k), "A's tail goes first");
  equal(new Set(shared.d.evicted).size, shared.d.evicted.length, "no block evicted twice");
  for (const id of shared.d.evicted) ok(shared.d.added.includes(id), `${id} was reported added`);
  equal(shared.cCached, (16 - k) * 512, "C hits only what survived of A's prefix");
});

Deno.test("an idle shared pool caches up to all its free KV, past the reserved size", () => {
  // prefixCacheBlocks (10) is the reserved size; shared, it is only what routers assume.
  const reserved = new Driver("reserved", { prefixCacheBlocks: 10 });
  const d = new Driver("shared", { prefixCacheBlocks: 10 });
  const big: SimRequest = {
    id: 9,
    arrivalMs: 0,
    promptTokens: 38 * 512,
    outputTokens: 1,
    prefixBlocks: range(900, 38),
  };
  reserved.submit(big);
  reserved.runUntilDone(9);
  equal(reserved.engine.prefixCache.size, 10);
  d.submit(big);
  d.runUntilDone(9);
  equal(d.engine.prefixCache.size, 38);
  deepEqual(d.evicted, []);
  equal(d.engine.prefixCache.pinnedBlocks, 0, "a finished request pins nothing");
});
