/**
 * Engine mechanics against exact time-model values: prefill and decode timing, chunked
 * prefill, prefix-cache hits, preemption under KV pressure, rejection of the impossible, and
 * cutting a decode span at the step boundary when new work arrives.
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { Engine, type EngineConfig, type EngineListener } from "../../src/engine_model/engine.ts";
import { type Job, newJob } from "../../src/engine_model/job.ts";
import { EFFICIENCY_PRESETS } from "../../src/engine_model/efficiency.ts";
import { GPU_PRESETS } from "../../src/engine_model/hardware.ts";
import { MODEL_PRESETS } from "../../src/engine_model/models.ts";
import { TimeModel } from "../../src/engine_model/time_model.ts";
import type { SimRequest } from "../../src/workload/request.ts";

const time = new TimeModel(
  MODEL_PRESETS["llama-3-8b"],
  GPU_PRESETS.h100,
  1,
  EFFICIENCY_PRESETS.h100,
);

const CONFIG: EngineConfig = {
  maxNumSeqs: 64,
  maxBatchedTokens: 8192,
  gpuKvTokens: 400_000,
  slabKvTokens: 0,
  prefixCacheBlocks: 100,
  prefixBlockTokens: 512,
  // Exact times for a fixed 100-block cache (tests/sim/prefix_pool_engine_test.ts: shared).
  prefixCachePool: "reserved",
};

/** Drives one engine: its wake-ups form the whole event queue; listener calls are logged. */
class Harness implements EngineListener {
  readonly engine: Engine;
  readonly log: { kind: string; id: number; t: number }[] = [];
  wakeAt = Infinity;

  constructor(config: Partial<EngineConfig> = {}) {
    this.engine = new Engine(0, time, { ...CONFIG, ...config }, this);
  }

  /** Runs wake-ups until idle or until `until`. */
  runUntil(until = Infinity): void {
    while (this.wakeAt !== Infinity && this.wakeAt <= until) {
      const t = this.wakeAt;
      this.wakeAt = Infinity;
      this.engine.onWake(t);
    }
  }

  times(kind: string, id: number): number[] {
    return this.log.filter((e) => e.kind === kind && e.id === id).map((e) => e.t);
  }

  schedule(_e: Engine, t: number) {
    this.wakeAt = t;
  }
  prefillStarted(_e: Engine, j: Job, t: number) {
    this.log.push({ kind: "start", id: j.request.id, t });
  }
  firstToken(_e: Engine, j: Job, t: number) {
    this.log.push({ kind: "first", id: j.request.id, t });
  }
  prefillDone(_e: Engine, j: Job, t: number) {
    this.log.push({ kind: "prefilled", id: j.request.id, t });
  }
  finished(_e: Engine, j: Job, t: number) {
    this.log.push({ kind: "done", id: j.request.id, t });
  }
  removed(_e: Engine, j: Job, t: number) {
    this.log.push({ kind: "removed", id: j.request.id, t });
  }
  preempted(_e: Engine, j: Job) {
    this.log.push({ kind: "preempted", id: j.request.id, t: NaN });
  }
  rejected(_e: Engine, j: Job, t: number) {
    this.log.push({ kind: "rejected", id: j.request.id, t });
  }
  prefixChanged() {}
}

function request(id: number, prompt: number, output: number, blocks: number[] = []): SimRequest {
  return { id, arrivalMs: 0, promptTokens: prompt, outputTokens: output, prefixBlocks: blocks };
}

const close = (a: number, b: number) => Math.abs(a - b) < 1e-9 * Math.max(1, Math.abs(b));

Deno.test("one request: TTFT is its prefill step, then one decode step per further token", () => {
  const h = new Harness();
  h.engine.enqueue(newJob(request(1, 1000, 4), "full"), 0);
  h.runUntil();
  const prefill = time.prefillMs(1000);
  deepEqual(h.times("first", 1), [prefill]);
  // Three more tokens, each a decode step over the growing KV (1001, 1002, 1003 tokens).
  const decode = time.decodeStepMs(1, 1001) + time.decodeStepMs(1, 1002) +
    time.decodeStepMs(1, 1003);
  ok(
    close(h.times("done", 1)[0], prefill + decode),
    `${h.times("done", 1)[0]} vs ${prefill + decode}`,
  );
});

Deno.test("a prompt longer than the token budget is prefilled in chunks", () => {
  const h = new Harness({ maxBatchedTokens: 4096 });
  h.engine.enqueue(newJob(request(1, 10000, 1), "full"), 0);
  h.runUntil();
  const expected = [4096, 4096, 1808].reduce((t, chunk, i) => {
    const before = i * 4096;
    return t + time.stepMs({
      prefillTokens: chunk,
      prefillAttentionFlops: time.chunkAttentionFlops(chunk, before),
      decodeSeqs: 0,
      decodeKvTokens: 0,
      slabKvTokens: 0,
    });
  }, 0);
  ok(close(h.times("first", 1)[0], expected));
  ok(h.times("first", 1)[0] > time.prefillMs(10000) * 0.9, "chunking does not make prefill free");
});

Deno.test("prefix-cache hits skip the cached leading blocks", () => {
  const h = new Harness();
  h.engine.enqueue(newJob(request(1, 2048, 1, [7, 8, 9, 10]), "full"), 0);
  h.runUntil();
  const second = newJob(request(2, 2048, 1, [7, 8, 99, 100]), "full");
  const t0 = h.times("done", 1)[0];
  h.engine.enqueue(second, t0);
  h.runUntil();
  equal(second.cachedTokens, 1024, "two leading blocks of 512 tokens hit");
  const ttft = h.times("first", 2)[0] - t0;
  ok(close(ttft, time.prefillMs(1024, 1024)), `${ttft} vs ${time.prefillMs(1024, 1024)}`);
});

Deno.test("KV pressure preempts the newest sequence, and every request still completes", () => {
  // Room for ~2 sequences of 1000 prompt + growing output.
  const h = new Harness({ gpuKvTokens: 2600 });
  for (let i = 0; i < 3; i++) h.engine.enqueue(newJob(request(i, 1000, 400), "full"), 0);
  h.runUntil();
  for (let i = 0; i < 3; i++) equal(h.times("done", i).length, 1, `request ${i} completed once`);
  ok(h.log.some((e) => e.kind === "preempted"), "someone was preempted");
  for (let i = 0; i < 3; i++) equal(h.times("first", i).length, 1, `one first token for ${i}`);
  equal(h.engine.kvTokens, 0, "all KV released");
});

Deno.test("a request that can never fit is rejected, not left blocking the queue", () => {
  const h = new Harness({ gpuKvTokens: 5000 });
  h.engine.enqueue(newJob(request(1, 9000, 10), "full"), 0);
  h.engine.enqueue(newJob(request(2, 100, 2), "full"), 0);
  h.runUntil();
  equal(h.times("rejected", 1).length, 1);
  equal(h.times("done", 2).length, 1);
});

Deno.test("work arriving mid-span starts at the end of the decode step in progress", () => {
  const h = new Harness();
  h.engine.enqueue(newJob(request(1, 500, 200), "full"), 0);
  h.runUntil(time.prefillMs(500)); // prefill done, a long decode span is scheduled
  const spanEnd = h.wakeAt;
  const step = time.decodeStepMs(1, 501);
  const arrival = time.prefillMs(500) + 2.5 * step;
  h.engine.enqueue(newJob(request(2, 300, 2), "full"), arrival);
  ok(h.wakeAt < spanEnd, "the span was cut");
  h.runUntil();
  const started = h.times("start", 2)[0];
  ok(
    started >= arrival && started - arrival < step * 1.01,
    `admitted at ${started}, arrived ${arrival}`,
  );
  // Request 1 still decodes every token: it finishes once, after request 2 started.
  equal(h.times("done", 1).length, 1);
});

Deno.test("a transferred (decode-phase) job gets its first token from its first decode step", () => {
  const h = new Harness();
  const job = newJob(request(1, 2000, 3), "decode");
  h.engine.enqueue(job, 100);
  h.runUntil();
  const first = h.times("first", 1)[0];
  ok(close(first, 100 + time.decodeStepMs(1, 2000)), `${first}`);
  equal(h.times("done", 1).length, 1);
});

Deno.test("a sequence that outgrows the engine alone is preempted and then rejected, not stranded", () => {
  // It grows one token per step until prompt + output no longer fits: preempting it empties the
  // engine, and its recompute (1,000 prompt + 1,000 generated tokens) can never fit again.
  const h = new Harness({ gpuKvTokens: 2000 });
  h.engine.enqueue(newJob(request(1, 1000, 3000), "full"), 0);
  h.engine.enqueue(newJob(request(2, 100, 2), "full"), 1e6);
  h.runUntil();
  equal(h.log.filter((e) => e.kind === "preempted" && e.id === 1).length, 1);
  equal(h.times("rejected", 1).length, 1, JSON.stringify(h.log.slice(-3)));
  equal(h.times("done", 2).length, 1, "the engine still serves what arrives later");
  equal(h.engine.waiting.length, 0);
});
