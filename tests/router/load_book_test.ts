import { equal, ok } from "node:assert/strict";
import { TPOT_FULL_SAMPLE_TOKENS } from "../../src/core/observed_ratios.ts";
import { twoEndpointCore } from "./_core.ts";
import { LoadBook } from "../../src/router/load_book.ts";
import { newDecision } from "../../src/core/request.ts";

function book() {
  const core = twoEndpointCore();
  return { core, book: new LoadBook(core, 2, 64, 0.5, 100) };
}

Deno.test("load book: TTFT counts from the decision, and the core gets measured / model-only", () => {
  const { core, book: b } = book();
  const decision = core.route({ promptTokens: 300, outputTokens: 10 }, 0, 0);
  // 300 tokens at 10 tokens/ms on an idle endpoint, plus half of its 10 ms step in progress.
  equal(decision.ttftModelMs, 35);
  // Queued at the router until t = 1000 (not the engine's doing), decided then.
  const r = b.dispatch(decision, 1000);
  b.firstToken(r, 1070);
  // 70 ms measured / 35 ms predicted, the first observation moving the prior 1 by alpha 0.5.
  equal(core.state.ttftObs[decision.prefill], 1.5, "(0.5 x 70 + 0.5 x 35) / 35");
  equal(core.state.ttftObsAt[decision.prefill], 1070);
  // A stream of 65 tokens is a whole TPOT sample (TPOT_FULL_SAMPLE_TOKENS + 1).
  b.finished(r, TPOT_FULL_SAMPLE_TOKENS + 1, 15, 1210);
  equal(core.state.tpotObs[decision.decode], 1.25, "15 ms per token / 10 ms step, halfway");
});

Deno.test("load book: a short stream's TPOT counts as a fraction of a sample", () => {
  const { core, book: b } = book();
  const decision = core.route({ promptTokens: 300, outputTokens: 10 }, 0, 0);
  const r = b.dispatch(decision, 0);
  b.firstToken(r, 35);
  // 11 tokens: 10 intervals of the 64 of a whole sample; alpha 0.5 becomes 1 - 0.5^(10/64).
  b.finished(r, 11, 30, 400);
  const a = 1 - Math.pow(0.5, 10 / TPOT_FULL_SAMPLE_TOKENS);
  equal(core.state.tpotObs[decision.decode], (a * 30 + (1 - a) * 10) / 10);
  ok(core.state.tpotObs[decision.decode] < 1.25, "less than a whole sample's 2x would move it");
});

Deno.test("load book: a disaggregated request's sequence is pending on its decode endpoint until its prefill is done", () => {
  const { core, book: b } = book();
  const disaggregated = () => {
    const d = newDecision();
    Object.assign(d, {
      prefill: 0,
      decode: 1,
      disaggregated: true,
      uncachedTokens: 300,
      requestKvBlocks: 20,
    });
    return d;
  };
  const s = core.state;
  const r = b.dispatch(disaggregated(), 0);
  equal(s.pendingSeqs[1], 1);
  equal(s.pendingKv[1], 20, "in step with the pending KV");
  equal(s.activeSeqs[1], 1);
  equal(s.pendingSeqs[0], 0, "nothing is pending on the prefill endpoint");
  b.prefillDone(r, []);
  equal(s.pendingSeqs[1], 0);
  equal(s.pendingKv[1], 0);
  equal(s.activeSeqs[1], 1, "still decoding there");
  b.release(r);
  equal(s.pendingSeqs[1], 0, "not released twice");
  // Released (failed, shed) while its prefill was still pending: the pending seat leaves too.
  const failed = b.dispatch(disaggregated(), 10);
  equal(s.pendingSeqs[1], 1);
  b.release(failed);
  equal(s.pendingSeqs[1], 0);
  equal(s.pendingKv[1], 0);
  equal(s.activeSeqs[1], 0);
  equal(b.own[1].pendingSeqs, 0);
  // A local (not disaggregated) request is never pending.
  b.dispatch(core.route({ promptTokens: 300, outputTokens: 10 }, 20, 0), 20);
  equal(s.pendingSeqs[0] + s.pendingSeqs[1], 0);
});
