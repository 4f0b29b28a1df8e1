/**
 * What runs are called on the page and in tables: the label in their summary, made unique with
 * the parent directory where labels repeat (two comparisons both have a "baseline"), and which
 * one `--baseline` picks.
 */
import { basename, resolve } from "node:path";
import { RunInputError } from "./errors.ts";

/** Short unique names for runs: the summary's label, or parent/label where labels repeat. */
export function uniqueLabels(
  runs: readonly { readonly dir: string; readonly label: string }[],
): string[] {
  const count = (xs: string[]) => {
    const m = new Map<string, number>();
    for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
    return m;
  };
  const plain = runs.map((r) => r.label);
  const repeats = count(plain);
  const withParent = runs.map((r, i) =>
    repeats.get(plain[i])! > 1 ? `${basename(resolve(r.dir, ".."))}/${r.label}` : plain[i]
  );
  const again = count(withParent);
  return withParent.map((name, i) => again.get(name)! > 1 ? `${name} (${runs[i].dir})` : name);
}

/**
 * The index of the run `--baseline` names: a label (as shown) or a directory; the first run
 * when `wanted` is undefined.
 */
export function baselineIndex(
  runs: readonly { readonly dir: string; readonly name: string; readonly label: string }[],
  wanted: string | undefined,
): number {
  if (wanted === undefined) return 0;
  const byName = runs.findIndex((r) => r.name === wanted);
  if (byName >= 0) return byName;
  const byLabel = runs.filter((r) => r.label === wanted);
  if (byLabel.length === 1) return runs.indexOf(byLabel[0]);
  const byDir = runs.findIndex((r) => resolve(r.dir) === resolve(wanted));
  if (byDir >= 0) return byDir;
  const names = runs.map((r) => `'${r.name}'`).join(", ");
  const why = byLabel.length > 1 ? "matches more than one run" : "matches no run";
  throw new RunInputError(
    `--baseline '${wanted}' ${why}: give one of ${names} or a run directory`,
  );
}
