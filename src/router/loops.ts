/**
 * The router's background loops: telemetry scrapes (then stale load dropped and the queue
 * woken), health probes, and the migration planner for policies that migrate. Each loop
 * re-arms itself after its tick, so a slow tick never overlaps the next.
 */
import type { RouterContext } from "./context.ts";
import { wakeQueue } from "./context.ts";
import { planMigrations } from "./migration.ts";
import { fetchModels } from "./models.ts";

/** Fetches every engine's models, then starts the loops; their timers land in `timers`. */
export async function startLoops(
  ctx: RouterContext,
  timers: ReturnType<typeof setTimeout>[],
): Promise<void> {
  await Promise.all(ctx.endpoints.map((e) => fetchModels(ctx, e)));
  const c = ctx.config;
  const every = (ms: number, tick: () => Promise<void> | void) => {
    // One slot per loop, re-armed in place: `timers` stays as long as the number of loops.
    const slot = timers.length;
    const loop = async () => {
      if (ctx.stop.aborted) return;
      try {
        await tick();
      } catch (e) {
        console.error(`pdroute serve: background task failed: ${(e as Error).stack}`);
      }
      if (!ctx.stop.aborted) timers[slot] = setTimeout(loop, ms);
    };
    timers.push(setTimeout(loop, 0));
  };
  if (c.telemetry.scrapeIntervalMs > 0) {
    every(c.telemetry.scrapeIntervalMs, async () => {
      await ctx.scraper.scrapeAll(ctx.stop);
      ctx.book.dropStale(ctx.now(), c.telemetry.staleAfterMs);
      wakeQueue(ctx);
    });
  }
  every(c.health.probeIntervalMs, () => ctx.health.probeAll(ctx.stop));
  if (ctx.core.migrates) every(c.migrationIntervalMs, () => planMigrations(ctx));
}
