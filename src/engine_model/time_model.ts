/**
 * The engine time model (DESIGN-NOTES §5): one engine step costs a fixed overhead, plus the
 * larger of its compute time (prefill and decode FLOPs, attention included, at the achieved
 * FLOP rate) and its memory time (weights once, plus every resident KV byte it reads, at the
 * achieved bandwidth), plus a per-sequence decode cost, plus the host-slab penalty.
 * Roofline with calibrated efficiencies: prefill is compute-bound, small-batch decode
 * memory-bound, and mixed (chunked-prefill) steps pay whichever dominates.
 */
import type { Efficiency } from "./efficiency.ts";
import type { GpuSpec } from "./hardware.ts";
import { activeParams, kvBytesPerToken, type ModelSpec, weightBytes } from "./models.ts";

/** The work in one engine step. */
export interface StepWork {
  /** Prompt tokens computed in this step (all prefill chunks). */
  prefillTokens: number;
  /** Attention FLOPs of those chunks (see `chunkAttentionFlops`). */
  prefillAttentionFlops: number;
  /** Sequences that each produce one token in this step. */
  decodeSeqs: number;
  /** KV tokens the decode sequences attend over (read from HBM). */
  decodeKvTokens: number;
  /** Of those, tokens living in the host slab (read over the host link). */
  slabKvTokens: number;
}

export class TimeModel {
  readonly weightBytes: number;
  readonly kvBytesPerToken: number;
  /** FLOPs per token through the weights (2 x active parameters). */
  readonly flopsPerToken: number;
  /** Achieved FLOP per ms across the tensor-parallel group. */
  readonly flopsPerMs: number;
  /** Achieved HBM bytes per ms across the group. */
  readonly bytesPerMs: number;
  readonly prefillOverheadMs: number;
  readonly decodeOverheadMs: number;
  readonly decodeMsPerSeq: number;

  constructor(
    readonly model: ModelSpec,
    readonly gpu: GpuSpec,
    readonly tensorParallel: number,
    readonly efficiency: Efficiency,
    /** ms per slab-resident KV token per step (host link cost; 0 without a slab). */
    readonly slabMsPerToken = 0,
  ) {
    this.weightBytes = weightBytes(model);
    this.kvBytesPerToken = kvBytesPerToken(model);
    this.flopsPerToken = 2 * activeParams(model);
    this.flopsPerMs = gpu.peakTflops * 1e9 * tensorParallel * efficiency.prefillMfu;
    this.bytesPerMs = gpu.memoryBandwidthTBs * 1e9 * tensorParallel *
      efficiency.decodeBandwidthEfficiency;
    this.prefillOverheadMs = efficiency.prefillOverheadMsPerLayer * model.layers;
    this.decodeOverheadMs = efficiency.decodeOverheadMsPerLayer * model.layers;
    this.decodeMsPerSeq = efficiency.decodeMsPerSeqPerLayer * model.layers;
  }

  /** Causal attention FLOPs of a `chunk` of new tokens after `context` cached ones. */
  chunkAttentionFlops(chunk: number, context: number): number {
    return 4 * this.model.layers * this.model.hiddenSize * chunk * (context + chunk / 2);
  }

  stepMs(w: StepWork): number {
    const m = this.model;
    const compute =
      (this.flopsPerToken * (w.prefillTokens + w.decodeSeqs) + w.prefillAttentionFlops +
        4 * m.layers * m.hiddenSize * w.decodeKvTokens) / this.flopsPerMs;
    const memory = (this.weightBytes + (w.decodeKvTokens - w.slabKvTokens) * this.kvBytesPerToken) /
      this.bytesPerMs;
    const overhead = w.prefillTokens > 0 ? this.prefillOverheadMs : this.decodeOverheadMs;
    return overhead + Math.max(compute, memory) + this.decodeMsPerSeq * w.decodeSeqs +
      this.slabMsPerToken * w.slabKvTokens;
  }

  /** A whole prompt of `tokens` in one step, nothing else running. */
  prefillMs(tokens: number, cachedTokens = 0): number {
    return this.stepMs({
      prefillTokens: tokens,
      prefillAttentionFlops: this.chunkAttentionFlops(tokens, cachedTokens),
      decodeSeqs: 0,
      decodeKvTokens: 0,
      slabKvTokens: 0,
    });
  }

  /** One decode-only step of `batch` sequences over `kvTokens` resident tokens. */
  decodeStepMs(batch: number, kvTokens: number): number {
    return this.stepMs({
      prefillTokens: 0,
      prefillAttentionFlops: 0,
      decodeSeqs: batch,
      decodeKvTokens: kvTokens,
      slabKvTokens: 0,
    });
  }

  /** KV tokens that fit beside the weights in `memoryUtilization` of the group's HBM. */
  kvCapacityTokens(memoryUtilization: number): number {
    const budget = this.gpu.memoryGb * 1e9 * this.tensorParallel * memoryUtilization;
    return Math.floor((budget - this.weightBytes) / this.kvBytesPerToken);
  }
}
