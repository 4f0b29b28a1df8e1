/** Writing a routing request into the request regions and reading the decision back. */
import { Req, Res, Status } from "./abi.ts";
import { PolicyInputError } from "./errors.ts";
import type { CoreState } from "./state.ts";
import { requireFinite } from "./validate.ts";

export interface RouteRequest {
  /** Prompt length in tokens. */
  readonly promptTokens: number;
  /** Expected output tokens (the host's estimate: max_tokens, a running mean, ...). */
  readonly outputTokens: number;
  /** Ids of the prompt's prefix blocks, in order (see `prefixBlockTokens`). */
  readonly prefixBlocks?: ArrayLike<number>;
}

export type RouteStatus = "ok" | "no-decode-capacity" | "no-prefill-capacity";

export interface RouteDecision {
  readonly status: RouteStatus;
  /** Endpoint that prefills (equals `decode` when not disaggregated); -1 on failure. */
  readonly prefill: number;
  readonly decode: number;
  readonly disaggregated: boolean;
  readonly ttftMs: number;
  readonly tpotMs: number;
  /** Prompt tokens the prefill endpoint must compute (the rest hit its prefix cache). */
  readonly uncachedTokens: number;
  readonly transferMs: number;
  readonly requestKvBlocks: number;
  readonly costMs: number;
  /**
   * `ttftMs` and `tpotMs` as the model alone predicts them, before observed factors: hosts
   * divide what they measure by these to get the ratios they feed back (docs/POLICY.md).
   */
  readonly ttftModelMs: number;
  readonly tpotModelMs: number;
}

/**
 * A decision the caller owns and `ScoringCore.route` fills in place (`newDecision()`), so a
 * decision allocates nothing; it holds the last decision routed into it.
 */
export type DecisionSlot = { -readonly [K in keyof RouteDecision]: RouteDecision[K] };

/** An empty decision to route into (every field present, so its shape never changes). */
export function newDecision(): DecisionSlot {
  return {
    status: "ok",
    prefill: -1,
    decode: -1,
    disaggregated: false,
    ttftMs: 0,
    tpotMs: 0,
    uncachedTokens: 0,
    transferMs: 0,
    requestKvBlocks: 0,
    costMs: 0,
    ttftModelMs: 0,
    tpotModelMs: 0,
  };
}

const CONTEXT = "Cannot route request";
const NO_BLOCKS: ArrayLike<number> = Object.freeze([]);

export function writeRequest(s: CoreState, req: RouteRequest): void {
  requireFinite(CONTEXT, "promptTokens", req.promptTokens);
  requireFinite(CONTEXT, "outputTokens", req.outputTokens);
  const blocks = req.prefixBlocks ?? NO_BLOCKS;
  if (blocks.length > s.limits.requestBlocks) {
    throw new PolicyInputError(
      `${CONTEXT}: 'prefixBlocks' holds at most ${s.limits.requestBlocks} ids (capacity ` +
        `'requestBlocks'): current length is ${blocks.length}`,
    );
  }
  for (let i = 0; i < blocks.length; i++) {
    const id = blocks[i];
    if (!Number.isInteger(id) || id < 0 || id > 0xffffffff) {
      throw new PolicyInputError(
        `${CONTEXT}: 'prefixBlocks[${i}]' must be an integer from 0 to 4294967295: ` +
          `current value is ${id}`,
      );
    }
  }
  for (let i = 0; i < blocks.length; i++) s.requestBlocks[i] = blocks[i];
  // `+ 0` stores -0 as +0. The WASM core takes minima two lanes at a time, so of two equal
  // zero minima it may keep the other sign than the reference; a +0 prompt keeps every
  // transfer time +0 or positive, and then no result can carry that sign.
  s.request[Req.PROMPT_TOKENS] = req.promptTokens + 0;
  s.request[Req.OUTPUT_TOKENS] = req.outputTokens + 0;
  s.request[Req.BLOCK_COUNT] = blocks.length;
}

export function statusName(code: number): RouteStatus {
  switch (code) {
    case Status.OK:
      return "ok";
    case Status.NO_DECODE_CAPACITY:
      return "no-decode-capacity";
    case Status.NO_PREFILL_CAPACITY:
      return "no-prefill-capacity";
    default:
      throw new Error(`scoring core returned unexpected status ${code}`);
  }
}

/** Reads the result region into `out` (a fresh object unless the caller passes its own). */
export function readDecision(s: CoreState, out: DecisionSlot = newDecision()): RouteDecision {
  const r = s.result;
  out.status = statusName(r[Res.STATUS]);
  out.prefill = r[Res.PREFILL];
  out.decode = r[Res.DECODE];
  out.disaggregated = r[Res.DISAGGREGATED] !== 0;
  out.ttftMs = r[Res.TTFT_MS];
  out.tpotMs = r[Res.TPOT_MS];
  out.uncachedTokens = r[Res.UNCACHED_TOKENS];
  out.transferMs = r[Res.TRANSFER_MS];
  out.requestKvBlocks = r[Res.REQUEST_KV_BLOCKS];
  out.costMs = r[Res.COST_MS];
  out.ttftModelMs = r[Res.TTFT_MODEL_MS];
  out.tpotModelMs = r[Res.TPOT_MODEL_MS];
  return out;
}
