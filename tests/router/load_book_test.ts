import { equal, ok } from "node:assert/strict";
import { TPOT_FULL_SAMPLE_TOKENS } from "../../src/core/observed_ratios.ts";
import { twoEndpointCore } from "./_core.ts";
import { LoadBook } from "../../src/router/load_book.ts";

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
