/**
 * timeline.csv reduced for the page: queue depth and KV usage per GPU and per pool, and the
 * cluster counters (completions, migrations, sheds, router queue) over time. Rows with gpu -1
 * (pool "cluster") carry the counters for the interval that ends at their time; the others are
 * per-GPU samples. Long runs are averaged into at most `maxPoints` time buckets.
 */
import { readCsv } from "./csv_reader.ts";
import { RunInputError } from "./errors.ts";

export interface GpuSeries {
  readonly gpu: number;
  readonly pool: string;
  /** Requests waiting in the GPU's engine queue (mean over the bucket). */
  readonly waiting: (number | null)[];
  /** KV cache in use, fraction of capacity (mean over the bucket). */
  readonly kvUsage: (number | null)[];
}

export interface PoolSeries {
  readonly pool: string;
  readonly gpus: number;
  /** Mean over the pool's GPUs. */
  readonly waiting: (number | null)[];
  readonly kvUsage: (number | null)[];
}

export interface ClusterSeries {
  readonly completedPerS: number[];
  readonly migrationsPerS: number[];
  readonly shedsPerS: number[];
  /** Requests held by the router (mean over the bucket); null where the file has no column. */
  readonly routerQueue: (number | null)[];
}

export interface TimelineData {
  /** Seconds since the first sample, one per point (bucket middle when aggregated). */
  readonly t: number[];
  /** Time samples in the file, and whether several were averaged into one point. */
  readonly samples: number;
  readonly aggregated: boolean;
  /** Width of one point in ms (the sample interval, or the bucket). */
  readonly stepMs: number;
  readonly gpus: GpuSeries[];
  readonly pools: PoolSeries[];
  readonly cluster: ClusterSeries | null;
}

const REQUIRED = ["time_ms", "gpu", "pool", "waiting", "kv_usage"] as const;
const OPTIONAL = ["completed", "migrations", "sheds", "router_queue"] as const;

/** Grows typed columns as rows arrive. */
class Column {
  data = new Float64Array(4096);
  size = 0;
  push(x: number): void {
    if (this.size === this.data.length) {
      const next = new Float64Array(this.size * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.size++] = x;
  }
}

function median(xs: number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const round = (x: number, digits: number) => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

/** Point budget per run: fewer buckets when there are many GPUs, keeping the page small. */
export function pointBudget(gpus: number): number {
  return Math.max(60, Math.min(400, Math.floor(40_000 / Math.max(1, gpus))));
}

export async function readTimeline(path: string, maxPoints?: number): Promise<TimelineData> {
  const gpuTime = new Column(), gpuId = new Column(), waiting = new Column(), kv = new Column();
  const cTime = new Column(), completed = new Column(), migrations = new Column();
  const sheds = new Column(), router = new Column();
  const poolOf = new Map<number, string>();
  let hasRouter = false;
  await readCsv(path, REQUIRED, OPTIONAL, (row, col) => {
    const time = row.number(col[0]);
    const gpu = row.number(col[1]);
    if (gpu < 0) {
      const opt = (i: number) => col[i] < 0 ? 0 : row.number(col[i]);
      cTime.push(time);
      completed.push(opt(5));
      migrations.push(opt(6));
      sheds.push(opt(7));
      if (col[8] >= 0) hasRouter = true;
      router.push(col[8] < 0 ? 0 : row.number(col[8]));
      return;
    }
    const pool = row.text(col[2]);
    const known = poolOf.get(gpu);
    if (known === undefined) poolOf.set(gpu, pool);
    else if (known !== pool) {
      throw new RunInputError(
        `'${path}' line ${row.line}: GPU ${gpu} is in pool '${pool}' here but '${known}' before`,
      );
    }
    gpuTime.push(time);
    gpuId.push(gpu);
    waiting.push(row.number(col[3]));
    kv.push(row.number(col[4]));
  });

  const times = new Set<number>();
  for (let i = 0; i < gpuTime.size; i++) times.add(gpuTime.data[i]);
  for (let i = 0; i < cTime.size; i++) times.add(cTime.data[i]);
  const distinct = [...times].sort((a, b) => a - b);
  if (distinct.length === 0) {
    return { t: [], samples: 0, aggregated: false, stepMs: 0, gpus: [], pools: [], cluster: null };
  }
  const gpuList = [...poolOf.keys()].sort((a, b) => a - b);
  const budget = maxPoints ?? pointBudget(gpuList.length);
  const t0 = distinct[0], t1 = distinct[distinct.length - 1];
  const aggregated = distinct.length > budget;
  const points = aggregated ? budget : distinct.length;
  const width = aggregated ? (t1 - t0) / points : 0;
  const exactIndex = new Map(distinct.map((t, i) => [t, i]));
  const bucketOf = (t: number) =>
    aggregated ? Math.min(points - 1, Math.floor((t - t0) / width)) : exactIndex.get(t)!;
  const gaps = distinct.slice(1).map((t, i) => t - distinct[i]);
  const interval = median(gaps);
  /** ms each point covers, for turning counts into rates. */
  const spanMs = aggregated
    ? new Array(points).fill(width)
    : distinct.map((t, i) => i === 0 ? interval : t - distinct[i - 1]);
  const t = aggregated
    ? Array.from({ length: points }, (_, b) => round((b + 0.5) * width / 1000, 3))
    : distinct.map((x) => round((x - t0) / 1000, 3));

  const gpuIndex = new Map(gpuList.map((g, i) => [g, i]));
  const sums = (n: number) => Array.from({ length: n }, () => new Float64Array(points));
  const wSum = sums(gpuList.length), kSum = sums(gpuList.length), nSum = sums(gpuList.length);
  for (let i = 0; i < gpuTime.size; i++) {
    const g = gpuIndex.get(gpuId.data[i])!, b = bucketOf(gpuTime.data[i]);
    wSum[g][b] += waiting.data[i];
    kSum[g][b] += kv.data[i];
    nSum[g][b] += 1;
  }
  const mean = (s: Float64Array, n: Float64Array, digits: number) =>
    Array.from(s, (x, b) => n[b] === 0 ? null : round(x / n[b], digits));
  const gpus: GpuSeries[] = gpuList.map((gpu, g) => ({
    gpu,
    pool: poolOf.get(gpu)!,
    waiting: mean(wSum[g], nSum[g], 2),
    kvUsage: mean(kSum[g], nSum[g], 4),
  }));
  const poolNames = [...new Set(gpuList.map((g) => poolOf.get(g)!))];
  const pools: PoolSeries[] = poolNames.map((pool) => {
    const members = gpuList.map((g, i) => [g, i] as const).filter(([g]) => poolOf.get(g) === pool);
    const total = (arrays: Float64Array[]) => {
      const out = new Float64Array(points);
      for (const [, i] of members) for (let b = 0; b < points; b++) out[b] += arrays[i][b];
      return out;
    };
    const n = total(nSum);
    return {
      pool,
      gpus: members.length,
      waiting: mean(total(wSum), n, 2),
      kvUsage: mean(total(kSum), n, 4),
    };
  });

  let cluster: ClusterSeries | null = null;
  if (cTime.size > 0) {
    const c = new Float64Array(points), m = new Float64Array(points), s = new Float64Array(points);
    const q = new Float64Array(points), n = new Float64Array(points);
    for (let i = 0; i < cTime.size; i++) {
      const b = bucketOf(cTime.data[i]);
      c[b] += completed.data[i];
      m[b] += migrations.data[i];
      s[b] += sheds.data[i];
      q[b] += router.data[i];
      n[b] += 1;
    }
    const rate = (x: Float64Array) =>
      Array.from(x, (v, b) => spanMs[b] > 0 ? round(v / (spanMs[b] / 1000), 3) : 0);
    cluster = {
      completedPerS: rate(c),
      migrationsPerS: rate(m),
      shedsPerS: rate(s),
      routerQueue: hasRouter ? mean(q, n, 2) : new Array(points).fill(null),
    };
  }
  return {
    t,
    samples: distinct.length,
    aggregated,
    stepMs: round(aggregated ? width : interval, 3),
    gpus,
    pools,
    cluster,
  };
}
