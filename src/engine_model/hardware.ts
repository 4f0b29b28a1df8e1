/**
 * GPU kinds as data. Peaks are datasheet dense BF16 tensor throughput and HBM bandwidth;
 * hourly prices are illustrative on-demand cloud rates (override them in the sim config:
 * only ratios between runs on the same prices mean anything).
 */
import { z } from "zod";

export const gpuSpecSchema = z.object({
  name: z.string().min(1),
  /** Dense BF16 tensor-core peak, TFLOP/s. */
  peakTflops: z.number().gt(0),
  /** HBM bandwidth, TB/s. */
  memoryBandwidthTBs: z.number().gt(0),
  /** HBM capacity, GB. */
  memoryGb: z.number().gt(0),
  /** Price of one GPU for one hour, $. */
  costPerHour: z.number().min(0),
}).strict();

export type GpuSpec = z.infer<typeof gpuSpecSchema>;

export const GPU_PRESETS: Readonly<Record<string, GpuSpec>> = {
  a100: {
    name: "A100-80GB",
    peakTflops: 312,
    memoryBandwidthTBs: 2.039,
    memoryGb: 80,
    costPerHour: 1.8,
  },
  h100: {
    name: "H100-80GB",
    peakTflops: 989,
    memoryBandwidthTBs: 3.35,
    memoryGb: 80,
    costPerHour: 3.0,
  },
  h200: {
    name: "H200-141GB",
    peakTflops: 989,
    memoryBandwidthTBs: 4.8,
    memoryGb: 141,
    costPerHour: 3.8,
  },
  b200: {
    name: "B200-192GB",
    peakTflops: 2250,
    memoryBandwidthTBs: 8,
    memoryGb: 192,
    costPerHour: 6.0,
  },
};
