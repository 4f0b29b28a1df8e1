/**
 * The migration executor. Whether a policy migrates is the core's to say (`core.migrates`, from
 * the policy table); the router registers movable requests (streaming, disaggregated, decode
 * sent, no output yet: see attempt.ts) and carries out what the core's planner decides: the
 * load book moves the sequence, and the decode call is aborted so the attempt sends the same
 * decode request to the new engine.
 */
import type { RouterContext } from "./context.ts";

export function planMigrations(ctx: RouterContext): void {
  if (ctx.movable.size === 0) return;
  for (const move of ctx.core.planMigrations(ctx.now(), ctx.rng.u32())) {
    const f = ctx.movable.get(move.sequence);
    if (!f || !f.routed) {
      throw new Error(`migration planned for unknown sequence ${move.sequence}: this is a bug`);
    }
    ctx.book.moved(f.routed, move.from, move.to);
    f.migrations++;
    f.moving = true;
    ctx.metrics.migrations.inc({
      from: ctx.endpoints[move.from].url,
      to: ctx.endpoints[move.to].url,
    });
    f.abort?.abort(new Error("migrated"));
  }
}
