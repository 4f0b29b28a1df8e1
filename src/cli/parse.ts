/**
 * Option parsers for commander: each rejects bad input with a message naming the value, which
 * commander reports as "error: option '--x <v>' argument 'y' is invalid. <message>".
 */
import { InvalidArgumentError } from "@commander-js/extra-typings";
import { isPolicyName, POLICY_NAMES, type PolicyName } from "../core/policies.ts";

export function parseNonNegativeInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) {
    throw new InvalidArgumentError(`expected a non-negative integer, got '${value}'`);
  }
  return n;
}

/** A worker count for `--jobs`: a whole number from 1 to 256. */
export function parseJobs(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < 1 || n > 256) {
    throw new InvalidArgumentError(`expected a whole number of jobs from 1 to 256, got '${value}'`);
  }
  return n;
}

/** Counts where zero would leave nothing to do (requests, engines, GPUs, seats). */
export function parsePositiveInt(value: string): number {
  const n = parseNonNegativeInt(value);
  if (n === 0) throw new InvalidArgumentError(`expected a positive integer, got '${value}'`);
  return n;
}

export function parsePositiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n <= 0) {
    throw new InvalidArgumentError(`expected a positive number, got '${value}'`);
  }
  return n;
}

/** A GPU count ("4") or a list of GPU indexes ("0,1,5" or ranges "0-3,6"). */
export function parseGpuSet(value: string): number | number[] {
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const out: number[] = [];
  for (const part of text.split(",")) {
    const range = /^(\d+)-(\d+)$/.exec(part.trim());
    if (range) {
      const [a, b] = [Number(range[1]), Number(range[2])];
      if (a > b) throw new InvalidArgumentError(`range '${part}' runs backwards`);
      for (let i = a; i <= b; i++) out.push(i);
    } else if (/^\d+$/.test(part.trim())) {
      out.push(Number(part.trim()));
    } else {
      throw new InvalidArgumentError(
        `expected a GPU count or indexes like 0,1,2 or 0-3, got '${value}'`,
      );
    }
  }
  return out;
}

/** Durations: "90" (seconds), "90s", "1500ms", "2m", "1h"; returned in ms. */
export function parseDurationMs(value: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!m) {
    throw new InvalidArgumentError(
      `expected a duration like 90s, 1500ms, 2m or 1h, got '${value}'`,
    );
  }
  const scale = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? "s"]!;
  const ms = Number(m[1]) * scale;
  if (ms <= 0) throw new InvalidArgumentError(`expected a positive duration, got '${value}'`);
  return ms;
}

export function parseNonNegativeNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0) {
    throw new InvalidArgumentError(`expected a number >= 0, got '${value}'`);
  }
  return n;
}

export function parseFraction(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0 || n > 1) {
    throw new InvalidArgumentError(`expected a fraction from 0 to 1, got '${value}'`);
  }
  return n;
}

/** Durations that may be zero ("0" disables). */
export function parseDurationOrZeroMs(value: string): number {
  return /^0+(\.0+)?(ms|s|m|h)?$/.test(value.trim()) ? 0 : parseDurationMs(value);
}

/** A comma-separated list of http(s) base URLs. */
export function parseUrlList(value: string): string[] {
  const urls = value.split(",").map((u) => u.trim()).filter((u) => u !== "");
  if (urls.length === 0) throw new InvalidArgumentError(`expected URLs, got '${value}'`);
  for (const u of urls) {
    let ok = false;
    try {
      ok = /^https?:$/.test(new URL(u).protocol);
    } catch {
      ok = false;
    }
    if (!ok) {
      throw new InvalidArgumentError(
        `'${u}' is not an http(s) URL like http://127.0.0.1:8101`,
      );
    }
  }
  return urls;
}

/** Byte sizes: "4194304", "512k", "4m" / "4MiB" (binary units). */
export function parseBytes(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(k|kib|kb|m|mib|mb|g|gib|gb)?$/i.exec(value.trim());
  if (!m) {
    throw new InvalidArgumentError(`expected a size like 4194304, 512k or 4m, got '${value}'`);
  }
  const unit = (m[2] ?? "").toLowerCase()[0] ?? "";
  const scale = unit === "k" ? 1024 : unit === "m" ? 1024 ** 2 : unit === "g" ? 1024 ** 3 : 1;
  return Math.round(Number(m[1]) * scale);
}

/** GPU indexes ("0", "1,2", "0-3"): unlike `parseGpuSet`, a lone number is an index. */
export function parseGpuIndexes(value: string): number[] {
  const set = parseGpuSet(value);
  return typeof set === "number" ? [set] : set;
}

/** A comma-separated list of distinct policy names from the policy table. */
export function parsePolicyList(value: string): PolicyName[] {
  const names = value.split(",").map((n) => n.trim()).filter((n) => n !== "");
  if (names.length === 0) {
    throw new InvalidArgumentError(`expected policy names (${POLICY_NAMES.join(", ")}), got ''`);
  }
  const out: PolicyName[] = [];
  for (const name of names) {
    if (!isPolicyName(name)) {
      throw new InvalidArgumentError(
        `unknown policy '${name}': expected one of ${POLICY_NAMES.join(", ")}`,
      );
    }
    if (out.includes(name)) throw new InvalidArgumentError(`policy '${name}' is listed twice`);
    out.push(name);
  }
  return out;
}

/** A delay in ms (a number >= 0), or "none": `--sync-delay-ms`. */
export function parseDelayOrNone(value: string): number | "none" {
  if (value.trim().toLowerCase() === "none") return "none";
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0) {
    throw new InvalidArgumentError(`expected a number of ms >= 0 or 'none', got '${value}'`);
  }
  return n;
}
