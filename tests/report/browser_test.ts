/**
 * The report in a real browser: headless Chromium (Debian's `chromium` package, driven by
 * playwright-core) opens the page simulate writes and a driven run's page, with every request
 * blocked; every chart must draw marks with labelled axes and a legend, with no console errors.
 * Saves artifacts/report/screenshot.png. Skipped, saying so, when no Chromium is installed
 * (.ci/run installs it; set PDROUTE_CHROMIUM to use another binary).
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { join } from "node:path";
import { main } from "../../src/cli/main.ts";
import { CHROMIUM_CANDIDATES, findChromium, viewReports } from "./_browser.ts";
import { captured, CHART_IDS, FIXTURE, tempDir } from "./_helpers.ts";

export const SCREENSHOT = "artifacts/report/screenshot.png";
const chromiumPath = findChromium();
if (chromiumPath === null) {
  console.warn(
    `browser check SKIPPED: no Chromium at ${CHROMIUM_CANDIDATES.join(" or ")} ` +
      "(apt-get install chromium, or set PDROUTE_CHROMIUM)",
  );
}

Deno.test({
  name: "report pages render in headless Chromium: marks, axis labels, legends, no errors",
  ignore: chromiumPath === null,
  // playwright keeps its connection's timers and pipes until the process exits.
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const tmp = tempDir();
    const simulated = await captured(() => main(["simulate", "--out", tmp, "--run-id", "page"]));
    equal(simulated.result, 0);
    const driven = join(tmp, "driven.html");
    equal((await captured(() => main(["report", FIXTURE, "--out", driven]))).result, 0);
    // A control: a page whose data breaks one chart must be caught.
    const broken = join(tmp, "broken.html");
    Deno.writeTextFileSync(
      broken,
      Deno.readTextFileSync(driven).replace('"perGpu":[', '"perGpu":null,"was":['),
    );
    const [page, ...pages] = await viewReports([
      { html: broken, screenshot: null },
      { html: join(tmp, "page", "report.html"), screenshot: SCREENSHOT },
      { html: driven, screenshot: null },
    ], chromiumPath);
    equal(page.status, "error");
    match(page.consoleErrors.join("\n"), /chart admissions:/);
    ok(page.charts.find((c) => c.id === "admissions")?.error);
    for (const page of pages) {
      equal(page.status, "rendered");
      deepEqual(page.consoleErrors, []);
      deepEqual(page.requests, [], "a self-contained page loads nothing");
      deepEqual(page.charts.map((c) => c.id), CHART_IDS);
      for (const chart of page.charts) {
        const where = `${chart.id}: ${JSON.stringify(chart)}`;
        equal(chart.error, null, where);
        equal(chart.empty, false, where);
        ok(chart.marks > 0, `no marks drawn in ${where}`);
        ok(chart.legend > 0, `no legend in ${where}`);
        match(
          chart.yLabel ?? "",
          /\((%|ms|requests\/s|\$ per 1M tokens|per GPU)\)|per second|admitted|waiting/,
          where,
        );
      }
      const x = Object.fromEntries(page.charts.map((c) => [c.id, c.xLabel ?? ""]));
      match(x["ttft-cdf"], /time to first token \(ms/);
      match(x["tpot-cdf"], /time per output token \(ms\/token/);
      for (const id of ["queue-pool", "queue-gpu", "kv-pool", "kv-gpu", "events"]) {
        match(x[id], /time since first sample \(s\)/, id);
      }
    }
    ok(Deno.statSync(SCREENSHOT).size > 50_000, "the screenshot has content");
  },
});
