import process from "node:process";
/**
 * A progress bar on stderr for long runs: only on a terminal, and only once a run has taken
 * more than `delayMs` (short runs print nothing). Off a TTY (CI, pipes) it is silent.
 */
import cliProgress from "cli-progress";

export class RunProgress {
  #bar: cliProgress.SingleBar | null = null;
  readonly #started = performance.now();
  #label = "";

  constructor(private readonly total: number | null, private readonly delayMs = 1000) {}

  update(label: string, simulatedMs: number, completed: number): void {
    if (!Deno.stderr.isTerminal()) return;
    if (!this.#bar) {
      if (performance.now() - this.#started < this.delayMs) return;
      this.#bar = new cliProgress.SingleBar({
        format: this.total === null
          ? " {label} | {value} requests done | simulated {sim}s"
          : " {label} [{bar}] {percentage}% | {value}/{total} requests | simulated {sim}s",
        hideCursor: true,
        stream: process.stderr,
      }, cliProgress.Presets.shades_classic);
      this.#bar.start(this.total ?? 0, 0, { label, sim: "0" });
    }
    if (label !== this.#label) {
      this.#label = label;
      this.#bar.setTotal(this.total ?? 0);
    }
    this.#bar.update(completed, { label, sim: (simulatedMs / 1000).toFixed(0) });
  }

  stop(): void {
    this.#bar?.stop();
    this.#bar = null;
  }
}
