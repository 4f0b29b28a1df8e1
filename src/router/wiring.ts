/**
 * Wiring and sizing: from a `RouterConfig` to the endpoint specs (presets, then a topology
 * file's placement), the scoring core (created here and only here, sized for the fleet), and
 * the shared `RouterContext` with its accounting, metrics, health and telemetry.
 */
import type { EndpointSpec } from "../core/endpoints.ts";
import type { ScoringCore } from "../core/scoring_core.ts";
import { newDecision } from "../core/request.ts";
import { endpointSpecFor, setupEngine } from "../engine_model/setup.ts";
import { applyPlacement, loadPlacement } from "../topology/mod.ts";
import { createCore } from "../wasm/wasm_core.ts";
import { Rng } from "../workload/rng.ts";
import type { RouterConfig } from "./config.ts";
import { MAX_REQUEST_BLOCKS, type RouterContext, wakeQueue } from "./context.ts";
import { type Endpoint, poolOf } from "./endpoint.ts";
import { UnhealthyEndpoint } from "./flight.ts";
import { Health } from "./health.ts";
import { LoadBook } from "./load_book.ts";
import { fetchModels } from "./models.ts";
import { anyHealthy, SHED_REASONS } from "./placement.ts";
import { RouterMetrics } from "./router_metrics.ts";
import { ReplicaSync } from "./sync/replica_sync.ts";
import { Scraper } from "./telemetry.ts";
import { WaitQueue } from "./wait_queue.ts";
import { KvPrecise, PRECISE_MAX_BLOCKS } from "./kv_precise.ts";
import type { PromptTokenizer } from "../kv/tokenizer.ts";

/** The engine description the router derives endpoint rates from. */
function routerEngineSetup(c: RouterConfig) {
  return setupEngine({
    model: c.model,
    gpu: c.gpu,
    efficiency: c.efficiency,
    tensorParallel: c.tensorParallel,
    engine: c.engine,
    prefixBlockTokens: Number(c.policy.prefixBlockTokens ?? 512),
    slabLinkGbps: 25,
  });
}

/**
 * The config with the topology file's links filled in (unless the policy sets its own), and
 * each endpoint's spec: the preset's rates, placed, then the endpoint's own overrides.
 */
export async function resolveFleet(
  config: RouterConfig,
): Promise<{ config: RouterConfig; specs: EndpointSpec[] }> {
  const setup = routerEngineSetup(config);
  const gpus = config.endpoints.map((e, i) => e.gpu ?? i);
  const placement = config.topology === undefined
    ? null
    : await loadPlacement(config.topology, gpus);
  const specs = config.endpoints.map((e, i): EndpointSpec => {
    const base = endpointSpecFor(
      setup,
      e.role,
      {
        hostId: e.hostId ?? 0,
        numaNode: e.numaNode ?? 0,
        nvlinkDomain: e.nvlinkDomain ?? -1,
        slabDistanceFactor: 1,
      },
      undefined,
      config.engineSpeed,
    );
    const placed = placement ? applyPlacement(base, placement.endpoints[i]) : base;
    return { ...placed, ...e.spec };
  });
  let policy = placement && config.policy.links === undefined
    ? { ...config.policy, links: placement.links }
    : config.policy;
  // Precise KV mode: the core matches prefixes in the engines' blocks (kv_precise.ts).
  if (config.kv.tokenizer !== null) policy = { ...policy, prefixBlockTokens: config.kv.blockSize };
  return { config: { ...config, policy }, specs };
}

/** The one place the router's scoring core is created: implementation, policy, capacities. */
function createRouterCore(
  c: RouterConfig,
  specs: readonly EndpointSpec[],
  prefixCacheBlocks: number,
): ScoringCore {
  const n = specs.length;
  return createCore({
    implementation: c.implementation,
    policy: c.policy,
    endpoints: specs,
    capacity: {
      endpoints: n,
      sequences: Math.min(1 << 20, Math.max(1024, n * c.engine.maxNumSeqs * 4)),
      prefixEntries: Math.min(1 << 22, n * prefixCacheBlocks + 1024),
      requestBlocks: c.kv.tokenizer === null ? MAX_REQUEST_BLOCKS : PRECISE_MAX_BLOCKS,
      hosts: 64,
      numaPerHost: 8,
      domains: 64,
      moves: 64,
      migrationBudget: 4096,
    },
  });
}

function endpointsOf(c: RouterConfig): Endpoint[] {
  return c.endpoints.map((e, index) => ({
    index,
    url: e.url.replace(/\/+$/, ""),
    role: e.role,
    gpu: e.gpu ?? index,
    pool: poolOf(e.role),
    healthy: true,
    failures: 0,
    reason: "",
    models: [],
    histograms: null,
  }));
}

/** Everything the router's stages share, wired together; `stop` aborts on shutdown. */
export function buildContext(
  c: RouterConfig,
  specs: readonly EndpointSpec[],
  stop: AbortSignal,
  tokenizer: PromptTokenizer | null = null,
): RouterContext {
  const start = performance.now();
  const now = () => performance.now() - start;
  const endpoints = endpointsOf(c);
  const prefixCacheBlocks = routerEngineSetup(c).engine.prefixCacheBlocks;
  const core = createRouterCore(c, specs, prefixCacheBlocks);
  const book = new LoadBook(
    core,
    endpoints.length,
    prefixCacheBlocks,
    c.ewmaAlpha,
    c.outputPriorTokens,
    c.outputEstimate === "capped-mean",
  );
  const queue = new WaitQueue();
  const flights: RouterContext["flights"] = new Set();
  const prompts = { sum: 0, count: 0 };
  const metrics = new RouterMetrics(endpoints.map((e) => e.url), {
    healthy: (i) => endpoints[i].healthy,
    load: (i) => ({
      queued: core.state.queuedPrefill[i],
      seqs: core.state.activeSeqs[i],
      kv: core.state.activeKv[i],
    }),
    telemetryAgeSeconds: (i) => (now() - book.scrapedAt[i]) / 1000,
    queueDepth: () => queue.length,
    inFlight: () => flights.size,
    endpointInFlight: (i) => book.own[i].seqs + book.own[i].pre,
  });
  metrics.zeroKnown(endpoints.map((e) => e.url), {
    policy: core.config.policy,
    prefill: endpoints.filter((e) => e.role !== "decode").map((e) => e.url),
    decode: endpoints.filter((e) => e.role !== "prefill").map((e) => e.url),
    migrates: core.migrates,
    shedReasons: SHED_REASONS,
  });
  const ctx: RouterContext = {
    config: c,
    endpoints,
    core,
    book,
    metrics,
    health: new Health(
      endpoints,
      book,
      c.health.unhealthyAfter,
      c.health.probeTimeoutMs,
      (e) => {
        void fetchModels(ctx, e);
        wakeQueue(ctx);
      },
      (e) => {
        // Calls still waiting on a broken engine (nothing sent to their clients) move on now.
        for (const f of flights) {
          if (f.calling === e.index) f.abort?.abort(new UnhealthyEndpoint(e.url, e.reason));
        }
        // With no engine left, waiting requests are shed now rather than at their timeout.
        if (!anyHealthy(ctx)) queue.wakeAll();
      },
    ),
    scraper: new Scraper(
      endpoints,
      book,
      metrics,
      specs.map((s) => s.kvCapacityBlocks),
      c.telemetry.scrapeTimeoutMs,
      now,
      () => prompts.count === 0 ? 512 : prompts.sum / prompts.count,
    ),
    sync: c.sync
      ? new ReplicaSync(
        c.sync,
        book,
        endpoints.map((e) => e.url),
        metrics.registry,
        now,
        () => wakeQueue(ctx),
      )
      : null,
    kv: tokenizer === null
      ? null
      : new KvPrecise(c, endpoints, core, book, tokenizer, metrics.registry),
    rng: new Rng(c.seed),
    queue,
    movable: new Map(),
    flights,
    stop,
    models: { ids: new Set(), maxModelLen: new Map() },
    prompts,
    spare: newDecision(),
    now,
  };
  return ctx;
}
