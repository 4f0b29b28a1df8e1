/**
 * The building blocks of every policy's config schema: facts about the fleet that the host
 * fills in, the time model every decision reports its predictions with, and the static P/D
 * rule of policies without a P/D decider of their own. Each policy's schema is
 * `z.object({ policy: z.literal(name), ...fleetFields, ...modelFields, ...own }).strict()`.
 */
import { z } from "zod";

export const nonNegative = z.number().min(0);
export const positive = z.number().gt(0);
const link = z.object({ gbps: positive, latencyMs: nonNegative }).strict();

/** Facts about the fleet and its links that the host fills in, whichever policy decides. */
export const fleetFields = {
  /**
   * `never`: prefill and decode on one endpoint (shared pool). `always`: prefill on the
   * prefill pool, decode on the decode pool (dual pools). `conditional`: decide per request.
   */
  disaggregation: z.enum(["never", "always", "conditional"]),
  /** Tokens per KV-cache block (vLLM's default block size is 16). */
  kvBlockTokens: z.number().int().min(1).max(4096),
  /** Tokens per prefix-hash block used for KV locality (Mooncake traces use 512). */
  prefixBlockTokens: z.number().int().min(1).max(1 << 20),
  /** KV bytes per token: 2 * layers * kv_heads * head_dim * dtype bytes (Llama-3-8B bf16: 131072). */
  kvBytesPerToken: positive,
  /** KV transfer links, cheapest first; costs must not decrease along nvlink, pcie, crossNuma, network. */
  links: z.object({ nvlink: link, pcie: link, crossNuma: link, network: link }).strict(),
};

/**
 * The time model every decision reports its predicted TTFT and TPOT with (for every policy,
 * so that predictions are comparable; only `predictive` decides by them).
 */
export const modelFields = {
  /** A decode endpoint beyond this fraction of its KV capacity spills into its host slab. */
  decodeKvUsageLimit: z.number().gt(0).max(1),
  /**
   * How much of a fresh observed/predicted TTFT ratio r to apply: the prefill time is scaled by
   * 1 + w * (r - 1) (0: ignore observations, 1: trust them fully).
   */
  ttftObservedWeight: z.number().min(0).max(1),
  /** The same for the decode step and the observed/predicted TPOT ratio. */
  tpotObservedWeight: z.number().min(0).max(1),
  /** Observations (and scraped engine metrics) older than this, in the caller's clock, are ignored. */
  telemetryMaxAgeMs: nonNegative,
  /** Exchange rate for an endpoint's hourly price, in ms of predicted latency per $/h (0: off). */
  costMsPerDollarHour: nonNegative,
  /**
   * Credit of a prefix block an endpoint holds only in its host (CPU) tier, against 1 for one
   * in device memory: it saves this fraction of its recompute (Dynamo's 0.75; 1: no difference).
   */
  hostTierCredit: z.number().min(0).max(1),
};

/** The static P/D rule of policies that have no P/D decider of their own. */
export const staticPdFields = {
  /** Under `conditional`, prompts with fewer uncached tokens prefill on their decode endpoint. */
  localPrefillMaxTokens: nonNegative,
  /** Under `always`, prefill locally on the decode endpoint when no prefill endpoint is eligible. */
  allowSpillover: z.boolean(),
};
