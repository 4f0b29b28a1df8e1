/**
 * Reading Prometheus text exposition (what vLLM's `/metrics` serves) into flat samples, with
 * `parse-prometheus-text-format` doing the parsing, behind this one typed shim.
 *
 * Two things about that library (1.1.1) are handled here, not worked around at each caller:
 * - It folds a histogram family into one sample and keeps `_count`/`_sum` only when the
 *   samples carry no labels. vLLM's histograms always carry `model_name`, so their count and
 *   sum would vanish. We declare histograms (and summaries) untyped before parsing, so every
 *   `_bucket`, `_count` and `_sum` line comes back as a plain labelled sample.
 * - It accepts any line as a sample (an HTML error page parses as a metric named "<html>").
 *   We reject names that are not Prometheus names and values that are not numbers, so a
 *   broken exporter is reported as broken instead of read as zeros.
 */
import parsePrometheusTextFormat from "parse-prometheus-text-format";

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export class ExpositionError extends Error {
  override name = "ExpositionError";
}

interface ParsedFamily {
  readonly name: string;
  readonly metrics: readonly { value?: string; labels?: Record<string, string> }[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

function numberOf(text: string): number {
  if (text === "+Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  if (text === "NaN") return NaN;
  const n = Number(text);
  return text.trim() === "" ? NaN : n;
}

/** Every sample in `text`; throws `ExpositionError` naming the first malformed line. */
export function parseExposition(text: string): Sample[] {
  const typedFlat = text.replace(/^# TYPE (\S+) (histogram|summary)\s*$/gm, "# TYPE $1 untyped");
  let families: ParsedFamily[];
  try {
    families = (parsePrometheusTextFormat as (t: string) => ParsedFamily[])(typedFlat);
  } catch (e) {
    throw new ExpositionError(`not Prometheus text format: ${(e as Error).message}`);
  }
  const out: Sample[] = [];
  for (const family of families) {
    if (!NAME.test(family.name)) {
      throw new ExpositionError(
        `not Prometheus text format: '${family.name.slice(0, 60)}' is not a metric name`,
      );
    }
    for (const m of family.metrics) {
      const value = numberOf(m.value ?? "");
      if (Number.isNaN(value) && m.value !== "NaN") {
        throw new ExpositionError(
          `not Prometheus text format: metric '${family.name}' has value ${
            JSON.stringify(m.value)
          }, not a number`,
        );
      }
      out.push({ name: family.name, labels: m.labels ?? {}, value });
    }
  }
  return out;
}

/** Samples indexed by name, for repeated look-ups. */
export class SampleIndex {
  readonly #byName = new Map<string, Sample[]>();

  constructor(samples: readonly Sample[]) {
    for (const s of samples) {
      const list = this.#byName.get(s.name);
      if (list) list.push(s);
      else this.#byName.set(s.name, [s]);
    }
  }

  has(name: string): boolean {
    return this.#byName.has(name);
  }

  /**
   * Sum of `name` over the samples whose labels include `match` (e.g. one `model_name`);
   * undefined when no sample has that name.
   */
  sum(name: string, match: Readonly<Record<string, string>> = {}): number | undefined {
    const list = this.#byName.get(name);
    if (!list) return undefined;
    let total = 0;
    for (const s of list) {
      let ok = true;
      for (const k in match) {
        if (s.labels[k] !== match[k]) {
          ok = false;
          break;
        }
      }
      if (ok) total += s.value;
    }
    return total;
  }

  /** The first of several names present (vLLM renamed some metrics between versions). */
  first(
    names: readonly string[],
    match: Readonly<Record<string, string>> = {},
  ): number | undefined {
    for (const n of names) {
      const v = this.sum(n, match);
      if (v !== undefined) return v;
    }
    return undefined;
  }
}
