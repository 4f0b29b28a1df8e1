/** Shared by the report tests: temp copies of the fixture run, captured CLI output. */
import { join } from "node:path";

export const FIXTURE = "tests/fixtures/report/driven-run";

/** A fresh copy of the fixture run (a "driven" run: not simulator output) under `parent`. */
export function copyFixture(parent: string, name = "driven-run"): string {
  const dir = join(parent, name);
  Deno.mkdirSync(dir, { recursive: true });
  for (const entry of Deno.readDirSync(FIXTURE)) {
    Deno.copyFileSync(join(FIXTURE, entry.name), join(dir, entry.name));
  }
  return dir;
}

export { captured } from "../_capture.ts";

/** A temp directory removed when the test module unloads. */
export function tempDir(): string {
  const dir = Deno.makeTempDirSync({ prefix: "pdroute-report-test-" });
  addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
  return dir;
}

/** Every chart the report page must draw (ids of its figures). */
export const CHART_IDS = [
  "ttft-cdf",
  "tpot-cdf",
  "goodput-fraction",
  "goodput-rate",
  "cost",
  "queue-pool",
  "queue-gpu",
  "kv-pool",
  "kv-gpu",
  "events",
  "admissions",
];
