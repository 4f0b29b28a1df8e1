/**
 * How far real engines fall short of datasheet peaks, and their fixed costs. The presets are
 * fits of `data/calibration/splitwise_perf_model.csv.gz` (llama2-70b at TP2; see
 * calibration.ts, and tests/sim/calibration_test.ts which refits and compares). H200 and B200
 * have no measurements here and borrow the H100 fit, applied through their own peaks. Fixed
 * costs are per layer, so smaller models pay proportionally less.
 */
import { z } from "zod";

export const efficiencySchema = z.object({
  /** Achieved fraction of peak FLOP/s in prefill (compute-bound). */
  prefillMfu: z.number().gt(0).max(1),
  /** Achieved fraction of peak HBM bandwidth in decode (memory-bound). */
  decodeBandwidthEfficiency: z.number().gt(0).max(1),
  /** Fixed cost of a step that contains prefill work, per layer (kernel launches, sync). */
  prefillOverheadMsPerLayer: z.number().min(0),
  /** Fixed cost of a decode-only step, per layer. */
  decodeOverheadMsPerLayer: z.number().min(0),
  /** Cost per sequence in a decode step, per layer (attention, sampling, bookkeeping). */
  decodeMsPerSeqPerLayer: z.number().min(0),
}).strict();

export type Efficiency = z.infer<typeof efficiencySchema>;

/** Fit on H100-80GB TP2: prefill 86/315/1296 ms vs 84/305/1340 measured (512/2048/8192). */
const H100_FIT: Efficiency = {
  prefillMfu: 0.4794,
  decodeBandwidthEfficiency: 0.656,
  prefillOverheadMsPerLayer: 0.1408,
  decodeOverheadMsPerLayer: 0.06663,
  decodeMsPerSeqPerLayer: 0.005186,
};

/** Fit on A100-80GB TP2. Its prefill grows slower than linear in the data (+17% at 2048). */
const A100_FIT: Efficiency = {
  prefillMfu: 0.5726,
  decodeBandwidthEfficiency: 0.5959,
  prefillOverheadMsPerLayer: 0,
  decodeOverheadMsPerLayer: 0,
  decodeMsPerSeqPerLayer: 0.005353,
};

export const EFFICIENCY_PRESETS: Readonly<Record<string, Efficiency>> = {
  a100: A100_FIT,
  h100: H100_FIT,
  h200: H100_FIT,
  b200: H100_FIT,
};
