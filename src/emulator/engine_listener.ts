/**
 * What the engine model reports, turned into answers and vLLM's metrics: a prefill-only job's
 * KV is held and its JSON answer names it; a finished job's stream or JSON ends; a rejected
 * job fails. Tokens are not events here: `flush` (output.ts) reads them after each step.
 */
import type { Engine, EngineListener } from "../engine_model/engine.ts";
import type { Job } from "../engine_model/job.ts";
import { holdKv } from "./kv_handoff.ts";
import { failLive, finishJson, finishStream, noteTokens } from "./output.ts";
import type { EmulatorState } from "./state.ts";

export function engineListener(s: EmulatorState): EngineListener {
  return {
    schedule(_engine: Engine, time: number): void {
      s.driver.schedule(time);
    },

    prefillStarted(_engine: Engine, job: Job, now: number): void {
      const m = s.metrics;
      m.queue.observe(m.labels, Math.max(0, now - job.request.arrivalMs) / s.clock.speed / 1000);
      m.promptTokens.inc(m.labels, job.request.promptTokens);
      m.prefixQueries.inc(m.labels, job.request.promptTokens);
      if (job.cachedTokens > 0) m.prefixHits.inc(m.labels, job.cachedTokens);
    },

    firstToken(): void {
      // Tokens are read from the engine's counters in flush, when the step has really ended.
    },

    prefillDone(_engine: Engine, job: Job, now: number): void {
      const live = s.live.get(job);
      if (!live || live.done) {
        s.engine.releaseKv(job, now);
        return;
      }
      const kv = holdKv(s, job);
      const m = s.metrics;
      m.generationTokens.inc(m.labels, 1);
      m.ttft.observe(m.labels, (performance.now() - live.arrivalWall) / 1000);
      finishJson(s, live, 1, kv);
    },

    finished(_engine: Engine, job: Job): void {
      const live = s.live.get(job);
      if (!live || live.done) return;
      if (live.mode === "stream") return finishStream(s, live);
      noteTokens(s, live, job.request.outputTokens - live.sent);
      finishJson(s, live, job.request.outputTokens, null);
    },

    removed(): void {
      // Only aborted jobs are removed here; their clients are already gone.
    },

    preempted(): void {
      s.metrics.preemptions.inc(s.metrics.labels);
    },

    rejected(_engine: Engine, job: Job, _now: number, reason: string): void {
      const live = s.live.get(job);
      if (live) failLive(s, live, `the engine cannot hold this request: ${reason}`);
    },

    prefixChanged(_engine: Engine, added: readonly number[], evicted: readonly number[]): void {
      // Published with --kv-events; without, kept to itself as vLLM does.
      s.kv?.changed(added, evicted);
    },
  };
}
