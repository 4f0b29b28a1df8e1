/**
 * Per-endpoint observed/predicted ratios: what a host (the simulator's router, the live router)
 * passes the core as `ttftObservedRatio` / `tpotObservedRatio` (docs/POLICY.md, "Predicted
 * times"). Each is a ratio of moving averages, not a moving average of ratios, so one request
 * predicted at 0.1 ms and measured at 30 ms cannot swing it.
 */
import { Cfg } from "./abi.ts";
import { MAX_OBSERVED_RATIO } from "./endpoints.ts";
import { stepModelMs as modelStepMs } from "./reference/model.ts";
import type { ScoringCore } from "./scoring_core.ts";

/** The least ratio reported: 0 means "no observation" to the core. */
const MIN_RATIO = 1 / MAX_OBSERVED_RATIO;

/**
 * Output tokens at which a stream's TPOT counts as a whole sample (alpha); a shorter one counts
 * (tokens - 1) / TPOT_FULL_SAMPLE_TOKENS of a sample. Its TPOT is a mean over tokens - 1
 * intervals, so a short stream's is noisy: one 26-token stream caught behind two long prefills
 * (79 ms per token against ~8 predicted, live) moved an engine's ratio from 0.9 to 2.6 alone,
 * and the policy shunned that engine for seven seconds.
 */
export const TPOT_FULL_SAMPLE_TOKENS = 64;

/**
 * The pooled ratio's weight, in samples of one averaging window (1 / alpha each): an endpoint's
 * ratio is shrunk toward the fleet's by k / (n + k), n its own samples (at most the (2 - alpha) /
 * alpha an average forgetting at alpha holds). Engines of one fleet share most of the model's
 * error, one engine's first streams are noise, and a ratio that is all its own flattens the
 * model's load slope (docs/POLICY.md, "Predicted times"): live, at 500 streams on two identical
 * emulators, first samples of 1.73 and 2.33 split the opening burst 274 / 187.
 */
export const POOL_PRIOR_WINDOWS = 1;

export class ObservedRatios {
  /**
   * Per endpoint, then one more slot (`#pool`, index `count`): every endpoint's pairs in one
   * average, the prior an endpoint's own ratio is shrunk to.
   */
  readonly #measured: number[];
  readonly #predicted: number[];
  readonly #pool: number;
  /** Per endpoint: the sample weight it has seen (whole samples count 1). */
  readonly #samples: number[];

  constructor(count: number, private readonly alpha: number) {
    this.#measured = new Array(count + 1).fill(0);
    this.#predicted = new Array(count + 1).fill(0);
    this.#pool = count;
    this.#samples = new Array(count).fill(0);
  }

  /**
   * Adds one request's measured and predicted time (ms) on endpoint `e`, as `weight` (0..1) of
   * a sample: its weight in the averages is 1 - (1 - alpha)^weight (alpha for a whole sample).
   * Returns the ratio now. A pair that is not finite, or a prediction that is not positive,
   * changes nothing and returns 0 (so a host does not count it as a fresh pair of e's own).
   */
  add(e: number, measuredMs: number, predictedMs: number, weight = 1): number {
    if (
      !(Number.isFinite(measuredMs) && measuredMs >= 0 && Number.isFinite(predictedMs) &&
        predictedMs > 0 && weight > 0)
    ) {
      return 0;
    }
    const a = weight >= 1 ? this.alpha : 1 - Math.pow(1 - this.alpha, weight);
    this.#blend(e, measuredMs, predictedMs, a);
    this.#blend(this.#pool, measuredMs, predictedMs, a);
    // An average that forgets at alpha holds about (2 - alpha) / alpha samples' worth.
    this.#samples[e] = Math.min(
      (2 - this.alpha) / this.alpha,
      this.#samples[e] + Math.min(1, weight),
    );
    return this.ratio(e);
  }

  /** Moves slot i's averages toward one pair by `a`. */
  #blend(i: number, measuredMs: number, predictedMs: number, a: number): void {
    if (this.#predicted[i] === 0) {
      // The first pair: the model is the prior (ratio 1), the sample moves it by alpha, as
      // every later one does. Started at the sample, one outlier (a cold engine's first
      // streams measured 7x their model live) set the ratio alone until several more came.
      this.#predicted[i] = predictedMs;
      this.#measured[i] = a * measuredMs + (1 - a) * predictedMs;
    } else {
      this.#measured[i] = a * measuredMs + (1 - a) * this.#measured[i];
      this.#predicted[i] = a * predictedMs + (1 - a) * this.#predicted[i];
    }
  }

  /**
   * The smoothed ratio on `e`, within [1/MAX, MAX]. With n samples of its own and k =
   * POOL_PRIOR_WINDOWS / alpha, it is own + (pooled - own) x k / (n + k): the fleet's ratio
   * until e has shown otherwise. Without a pair of its own, or with `ownFresh` false (its own
   * pairs are too old to count), it is the pooled ratio; 0 before any endpoint's first pair.
   */
  ratio(e: number, ownFresh = true): number {
    const pool = this.#pool;
    if (!(this.#predicted[pool] > 0)) return 0;
    const pooled = this.#measured[pool] / this.#predicted[pool];
    const p = this.#predicted[e];
    let r = pooled;
    if (ownFresh && p > 0) {
      const n = this.#samples[e];
      const k = POOL_PRIOR_WINDOWS / this.alpha;
      const own = this.#measured[e] / p;
      r = own + (pooled - own) * k / (n + k);
    }
    return Math.min(MAX_OBSERVED_RATIO, Math.max(MIN_RATIO, r));
  }

  /** How many endpoints this tracks. */
  get count(): number {
    return this.#samples.length;
  }
}

/**
 * A host's TTFT and TPOT ratios for every endpoint, written into `core` as they change (the
 * same way in the simulator's router and the live one).
 */
export class ObservedTimes {
  readonly #ttft: ObservedRatios;
  readonly #tpot: ObservedRatios;
  /** Per endpoint: prompt tokens whose prefill completed there, cumulative. */
  readonly #prefilled: number[];
  /** Per endpoint: when its last TTFT / TPOT pair came (-Infinity: never). */
  readonly #ttftAt: number[];
  readonly #tpotAt: number[];

  constructor(private readonly core: ScoringCore, count: number, alpha: number) {
    this.#ttft = new ObservedRatios(count, alpha);
    this.#tpot = new ObservedRatios(count, alpha);
    this.#prefilled = new Array(count).fill(0);
    this.#ttftAt = new Array(count).fill(-Infinity);
    this.#tpotAt = new Array(count).fill(-Infinity);
  }

  /** A first token on prefill endpoint `e`, measured and predicted from the same decision. */
  ttft(e: number, measuredMs: number, predictedMs: number, now: number): void {
    const s = this.core.state;
    this.#pair(
      this.#ttft,
      this.#ttftAt,
      s.ttftObs,
      s.ttftObsAt,
      e,
      measuredMs,
      predictedMs,
      now,
      1,
    );
  }

  /**
   * A finished stream's time per output token on decode endpoint `e`, as `weight` of a sample
   * (see TPOT_FULL_SAMPLE_TOKENS).
   */
  tpot(e: number, measuredMs: number, predictedMs: number, now: number, weight = 1): void {
    const s = this.core.state;
    this.#pair(
      this.#tpot,
      this.#tpotAt,
      s.tpotObs,
      s.tpotObsAt,
      e,
      measuredMs,
      predictedMs,
      now,
      weight,
    );
  }

  /** Whether the router measured a TTFT / TPOT pair of its own on `e` within the telemetry age. */
  ownFresh(kind: "ttft" | "tpot", e: number, now: number): boolean {
    const at = kind === "ttft" ? this.#ttftAt : this.#tpotAt;
    return now - at[e] <= this.core.state.config[Cfg.TELEMETRY_MAX_AGE_MS];
  }

  /**
   * One pair on `e`. It moves the pool, so every endpoint's ratio moves with it, stamped now
   * (the fleet's ratio is as fresh as its last pair); an endpoint's own pairs count while they
   * are fresh. Written straight into the state: the ratios are within the range `setLoad`
   * checks and the time is the host's, and a `setLoad` per endpoint (an object and its checks
   * each) cost a fifth of a 64-GPU simulation's time.
   */
  #pair(
    r: ObservedRatios,
    at: number[],
    obs: Float64Array,
    obsAt: Float64Array,
    e: number,
    measuredMs: number,
    predictedMs: number,
    now: number,
    weight: number,
  ): void {
    if (!(r.add(e, measuredMs, predictedMs, weight) > 0)) return;
    at[e] = now;
    const maxAge = this.core.state.config[Cfg.TELEMETRY_MAX_AGE_MS];
    for (let i = 0; i < r.count; i++) {
      obs[i] = r.ratio(i, now - at[i] <= maxAge);
      obsAt[i] = now;
    }
  }

  /** Prompt tokens whose prefill completed on `e` (the router's own requests). */
  prefillCompleted(e: number, tokens: number): void {
    if (tokens > 0) this.#prefilled[e] += tokens;
  }

  /** Taken at a sequence's first token on decode endpoint `d`, for `decodeFinished`. */
  decodeMark(d: number): number {
    return this.#prefilled[d];
  }

  /**
   * A stream that decoded on `d` from its first token (`mark`, from `decodeMark`) to now, as
   * predicted at its decision (`stepModelMs`, the model step before observed factors): its
   * measured TPOT against the model's TPOT for the same life. That is the mean of the model step
   * at the decision and at the finish (the batch changed meanwhile), plus its share of the
   * prefills `d` computed while it decoded (`prefillMsPerToken` each token, spread over its
   * tokens): a shared endpoint's steps carry the chunks of other requests' prefills, and a
   * ratio against the bare step would read that interference, largest where the batch is
   * smallest, as a slow GPU.
   */
  decodeFinished(
    d: number,
    measuredMs: number,
    stepModelMs: number,
    mark: number,
    outputTokens: number,
    now: number,
  ): void {
    const s = this.core.state;
    const stepNow = modelStepMs(s, d, s.activeKv[d], s.activeSeqs[d]);
    const stalls = (this.#prefilled[d] - mark) * s.prefillMsPerToken[d] /
      Math.max(1, outputTokens - 1);
    const weight = Math.min(1, (outputTokens - 1) / TPOT_FULL_SAMPLE_TOKENS);
    this.tpot(d, measuredMs, (stepModelMs + stepNow) / 2 + stalls, now, weight);
  }
}
