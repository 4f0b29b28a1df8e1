import { equal } from "node:assert/strict";
import { twoEndpointCore } from "./_core.ts";
import { LoadBook } from "../../src/router/load_book.ts";

function book() {
  const core = twoEndpointCore();
  return { core, book: new LoadBook(core, 2, 64, 0.5, 100) };
}

Deno.test("load book: TTFT counts from the decision, and the core gets measured / model-only", () => {
  const { core, book: b } = book();
  const decision = core.route({ promptTokens: 300, outputTokens: 10 }, 0, 0);
  equal(decision.ttftModelMs, 30, "300 tokens at 10 tokens/ms on an idle endpoint");
  // Queued at the router until t = 1000 (not the engine's doing), decided then.
  const r = b.dispatch(decision, 1000);
  b.firstToken(r, 1060);
  // 60 ms measured / 30 ms predicted, the first observation moving the prior 1 by alpha 0.5.
  equal(core.state.ttftObs[decision.prefill], 1.5, "(0.5 x 60 + 0.5 x 30) / 30");
  equal(core.state.ttftObsAt[decision.prefill], 1060);
  b.finished(r, 11, 15, 1210);
  equal(core.state.tpotObs[decision.decode], 1.25, "15 ms per token / 10 ms step, halfway");
});
