/**
 * What differs between runs' configs: each config flattened to dotted paths
 * ("policy.migration.budget"), and the paths whose values are not the same in every run, so
 * the page can say "these runs differ in ..." before the full documents.
 */

/** Leaves of a JSON value as path -> JSON text; arrays are leaves. */
export function flatten(value: unknown, prefix = "", out = new Map<string, string>()) {
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0 && prefix !== "") out.set(prefix, "{}");
    for (const [key, v] of entries) flatten(v, prefix === "" ? key : `${prefix}.${key}`, out);
  } else if (prefix !== "") {
    out.set(prefix, JSON.stringify(value));
  }
  return out;
}

/** Rows [path, value per config ("–" where absent)] for the paths that differ, sorted. */
export function configDifferences(configs: readonly unknown[]): [string, ...string[]][] {
  if (configs.length < 2) return [];
  const flat = configs.map((c) => flatten(c));
  const paths = [...new Set(flat.flatMap((f) => [...f.keys()]))].sort();
  const rows: [string, ...string[]][] = [];
  for (const path of paths) {
    const values = flat.map((f) => f.get(path) ?? "–");
    if (new Set(values).size > 1) rows.push([path, ...values]);
  }
  return rows;
}
