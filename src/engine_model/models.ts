/**
 * LLM architectures as data: what the time model needs (parameters for FLOPs and weight
 * bytes, layers/hidden for attention FLOPs, KV heads and head dim for KV bytes per token).
 */
import { z } from "zod";

export const modelSpecSchema = z.object({
  name: z.string().min(1),
  /** Parameter count. */
  params: z.number().gt(0),
  layers: z.number().int().gt(0),
  hiddenSize: z.number().int().gt(0),
  kvHeads: z.number().int().gt(0),
  headDim: z.number().int().gt(0),
  /** Bytes per KV element, and per weight unless `weightBytesPerParam` says otherwise. */
  dtypeBytes: z.number().gt(0),
  /** Mixture of experts: parameters active per token (FLOPs); default all of `params`. */
  activeParams: z.number().gt(0).optional(),
  /** Quantized weights: bytes per parameter (MXFP4 ~0.53); default `dtypeBytes`. */
  weightBytesPerParam: z.number().gt(0).optional(),
}).strict();

export type ModelSpec = z.infer<typeof modelSpecSchema>;

export const MODEL_PRESETS: Readonly<Record<string, ModelSpec>> = {
  "llama-3-8b": {
    name: "Llama-3-8B",
    params: 8.03e9,
    layers: 32,
    hiddenSize: 4096,
    kvHeads: 8,
    headDim: 128,
    dtypeBytes: 2,
  },
  "llama-3-70b": {
    name: "Llama-3-70B",
    params: 70.6e9,
    layers: 80,
    hiddenSize: 8192,
    kvHeads: 8,
    headDim: 128,
    dtypeBytes: 2,
  },
  "llama-2-70b": {
    name: "Llama-2-70B",
    params: 69e9,
    layers: 80,
    hiddenSize: 8192,
    kvHeads: 8,
    headDim: 128,
    dtypeBytes: 2,
  }, /** MoE: 21B parameters, 3.6B active per token, MXFP4 expert weights, BF16 KV. */
  "gpt-oss-20b": {
    name: "GPT-OSS-20B",
    params: 20.9e9,
    activeParams: 3.6e9,
    layers: 24,
    hiddenSize: 2880,
    kvHeads: 8,
    headDim: 64,
    dtypeBytes: 2,
    weightBytesPerParam: 0.55,
  },
  /** Dense, GQA (64 query / 8 KV heads): the model of llm-d's precise-scheduling benchmark. */
  "qwen3-32b": {
    name: "Qwen3-32B",
    params: 32.8e9,
    layers: 64,
    hiddenSize: 5120,
    kvHeads: 8,
    headDim: 128,
    dtypeBytes: 2,
  },
};

/** KV bytes per token: K and V, per layer, per KV head (Llama-3-8B: 128 KiB; 70B: 320 KiB). */
export function kvBytesPerToken(m: ModelSpec): number {
  return 2 * m.layers * m.kvHeads * m.headDim * m.dtypeBytes;
}

export function weightBytes(m: ModelSpec): number {
  return m.params * (m.weightBytesPerParam ?? m.dtypeBytes);
}

/** Parameters that do work for each token (FLOPs = 2 x this per token). */
export function activeParams(m: ModelSpec): number {
  return m.activeParams ?? m.params;
}
