/**
 * The time model reproduces measured timings: calibrated on splitwise's llama2-70b TP2 H100
 * rows, prefill at 512/2048/8192 prompt tokens and decode at batch 1/32 land within 10% of the
 * measurements (84/305/1340 ms, 37/52 ms per token), and the embedded presets are that fit.
 */
import { deepEqual, ok, throws } from "node:assert/strict";
import { calibrate, CalibrationError, parseTimingCsv } from "../../src/engine_model/calibration.ts";
import { EFFICIENCY_PRESETS } from "../../src/engine_model/efficiency.ts";
import { GPU_PRESETS } from "../../src/engine_model/hardware.ts";
import { MODEL_PRESETS } from "../../src/engine_model/models.ts";
import { TimeModel } from "../../src/engine_model/time_model.ts";

const FILE = "tests/fixtures/data/splitwise_llama2_70b_tp2.csv";
const rows = parseTimingCsv(await Deno.readTextFile(FILE), FILE);
const llama2 = MODEL_PRESETS["llama-2-70b"];

function select(hardware: string) {
  return rows.filter((r) =>
    r.model === "llama2-70b" && r.hardware === hardware && r.tensorParallel === 2
  );
}

function within(actual: number, expected: number, fraction: number, what: string) {
  ok(
    Math.abs(actual - expected) <= fraction * expected,
    `${what}: ${actual.toFixed(1)} vs ${expected} measured`,
  );
}

Deno.test("calibrated on H100 TP2, the model reproduces the reference timings within 10%", () => {
  const fit = calibrate(select("h100-80gb"), llama2, GPU_PRESETS.h100, 2);
  const model = new TimeModel(llama2, GPU_PRESETS.h100, 2, fit.efficiency);
  within(model.prefillMs(512), 84, 0.1, "prefill 512");
  within(model.prefillMs(2048), 305, 0.1, "prefill 2048");
  within(model.prefillMs(8192), 1340, 0.1, "prefill 8192");
  // Decode rows: prompt 512, 128 generated: mean context 576 tokens per sequence.
  within(model.decodeStepMs(1, 576), 37, 0.1, "decode batch 1");
  within(model.decodeStepMs(32, 32 * 576), 52, 0.1, "decode batch 32");
});

Deno.test("the embedded H100 and A100 presets are the fits of the measured data", () => {
  for (const [hardware, preset] of [["h100-80gb", "h100"], ["a100-80gb", "a100"]] as const) {
    const fit = calibrate(select(hardware), llama2, GPU_PRESETS[preset], 2).efficiency;
    for (const [key, value] of Object.entries(fit)) {
      const embedded = EFFICIENCY_PRESETS[preset][key as keyof typeof fit];
      ok(
        Math.abs(embedded - value) <= 1e-3 * Math.max(value, 1e-3),
        `${preset}.${key}: ${embedded} vs ${value}`,
      );
    }
  }
});

Deno.test("rows where a larger batch ran faster are dropped, and only those", () => {
  const fit = calibrate(select("h100-80gb"), llama2, GPU_PRESETS.h100, 2);
  const dropped = rows.filter((r) => fit.dropped.includes(r.line));
  ok(dropped.length > 0);
  deepEqual(new Set(dropped.map((r) => r.batchSize)), new Set([64]));
});

Deno.test("A100 is slower than H100 by roughly the measured ratios", () => {
  const h100 = new TimeModel(llama2, GPU_PRESETS.h100, 2, EFFICIENCY_PRESETS.h100);
  const a100 = new TimeModel(llama2, GPU_PRESETS.a100, 2, EFFICIENCY_PRESETS.a100);
  // The data README: A100 ~2.25x slower in prefill, ~1.5x in decode.
  within(a100.prefillMs(2048) / h100.prefillMs(2048), 2.25, 0.2, "prefill ratio");
  within(a100.decodeStepMs(1, 576) / h100.decodeStepMs(1, 576), 1.5, 0.1, "decode ratio");
});

Deno.test("malformed calibration CSV is reported with file, line and field", () => {
  const header =
    "model,hardware,prompt_size,batch_size,token_size,prompt_time,token_time,tensor_parallel";
  throws(
    () => parseTimingCsv(`${header}\nllama,h100,512,1,128,abc,37,2\n`, "t.csv"),
    (e: unknown) =>
      e instanceof CalibrationError && /t\.csv:2: field 'prompt_time' .* "abc"/.test(e.message),
  );
  throws(
    () => parseTimingCsv("model,hardware\nx,y\n", "t.csv"),
    (e: unknown) => e instanceof CalibrationError && /missing column 'prompt_size'/.test(e.message),
  );
  throws(
    () => parseTimingCsv(`${header}\n`, "t.csv"),
    (e: unknown) => e instanceof CalibrationError && /t\.csv: no timing rows/.test(e.message),
  );
});
