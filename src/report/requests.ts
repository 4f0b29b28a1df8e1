/**
 * requests.csv reduced for the page: the TTFT and TPOT distributions of completed requests
 * (status ok; TPOT only for requests with more than one output token, as in summary.json),
 * quantile-sampled for the CDFs, with exact p50/p95/p99 from every row.
 */
import { readCsv } from "./csv_reader.ts";
import { type CdfPoint, cdfSample, percentile, Samples } from "./quantiles.ts";

export interface Distribution {
  /** Requests behind it (all of them, not the sample). */
  readonly count: number;
  readonly p50: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
  readonly max: number | null;
  /** The CDF through quantile samples. */
  readonly cdf: CdfPoint[];
}

export interface RequestData {
  readonly rows: number;
  readonly byStatus: Record<string, number>;
  readonly ttftMs: Distribution;
  readonly tpotMs: Distribution;
}

const REQUIRED = ["status", "output_tokens", "ttft_ms", "tpot_ms"] as const;

function distribution(samples: Samples): Distribution {
  const sorted = samples.sorted();
  const at = (p: number) => sorted.length === 0 ? null : percentile(sorted, p);
  return {
    count: sorted.length,
    p50: at(50),
    p95: at(95),
    p99: at(99),
    max: at(100),
    cdf: cdfSample(sorted),
  };
}

export async function readRequests(path: string): Promise<RequestData> {
  const ttft = new Samples(), tpot = new Samples();
  const byStatus: Record<string, number> = {};
  const rows = await readCsv(path, REQUIRED, [], (row, col) => {
    const status = row.text(col[0]);
    byStatus[status] = (byStatus[status] ?? 0) + 1;
    if (status !== "ok") return;
    ttft.push(row.number(col[2]));
    if (row.number(col[1]) > 1) tpot.push(row.number(col[3]));
  });
  return { rows, byStatus, ttftMs: distribution(ttft), tpotMs: distribution(tpot) };
}
