/**
 * `pdroute serve`: the live router in front of vLLM engines (or emulators). Endpoints come
 * from flags (`--prefill`, `--decode`, `--both` URL lists, or repeated `--endpoint
 * url=...,role=...`) and/or a JSON config file (`--config`, validated: src/router/config.ts).
 * Runs until interrupted.
 */
import { Command, InvalidArgumentError, Option } from "@commander-js/extra-typings";
import { EngineModelError } from "../../engine_model/setup.ts";
import { readJson } from "../../io/json_file.ts";
import {
  type EndpointConfig,
  resolveRouterConfig,
  RouterConfigError,
} from "../../router/config.ts";
import { startRouter } from "../../router/server.ts";
import { checkWorkersConfig, runWorkers } from "./serve_workers.ts";
import { TopologyInputError } from "../../topology/mod.ts";
import { POLICY_NAMES } from "../../core/policies.ts";
import { CliError } from "../errors.ts";
import {
  parseBytes,
  parseDurationMs,
  parseDurationOrZeroMs,
  parseNonNegativeInt,
  parsePositiveInt,
  parsePositiveNumber,
  parseUrlList,
} from "../parse.ts";
import { untilSignal } from "../signals.ts";

/** `url=http://...,role=decode,gpu=3` (role defaults to both). */
export function parseEndpoint(value: string, previous: EndpointConfig[] = []): EndpointConfig[] {
  const fields = new Map<string, string>();
  for (const part of value.split(",")) {
    const at = part.indexOf("=");
    if (at <= 0) {
      throw new InvalidArgumentError(
        `expected key=value pairs like url=...,role=decode, got '${part}'`,
      );
    }
    fields.set(part.slice(0, at).trim(), part.slice(at + 1).trim());
  }
  const url = fields.get("url");
  if (!url) throw new InvalidArgumentError(`'${value}' has no url=`);
  const role = fields.get("role") ?? "both";
  if (role !== "prefill" && role !== "decode" && role !== "both") {
    throw new InvalidArgumentError(`role must be prefill, decode or both, got '${role}'`);
  }
  const out: EndpointConfig = { url, role };
  for (const key of ["gpu", "hostId", "numaNode", "nvlinkDomain"] as const) {
    const v = fields.get(key);
    if (v === undefined) continue;
    if (!/^-?\d+$/.test(v)) throw new InvalidArgumentError(`${key} must be an integer, got '${v}'`);
    out[key] = Number(v);
  }
  for (const key of fields.keys()) {
    if (!["url", "role", "gpu", "hostId", "numaNode", "nvlinkDomain"].includes(key)) {
      throw new InvalidArgumentError(
        `unknown field '${key}' (known: url, role, gpu, hostId, numaNode, nvlinkDomain)`,
      );
    }
  }
  return [...previous, out];
}

/** `ENGINE=tcp://HOST:PORT,...` (ENGINE: an endpoint URL or index) -> [engine, endpoint][]. */
export function parseKvEvents(value: string): [string, string][] {
  return value.split(",").map((part) => {
    const m = /^(.+?)=(tcp:\/\/[^,]+)$/.exec(part.trim());
    if (!m) {
      throw new InvalidArgumentError(
        `expected ENGINE=tcp://HOST:PORT (ENGINE: an endpoint URL or index), got '${part}'`,
      );
    }
    return [m[1], m[2]];
  });
}

/** The `kv` config layer of the KV flags (undefined: none given). */
function kvFlags(opts: {
  tokenizer?: string;
  kvEvents?: [string, string][];
  kvEventsReplay?: [string, string][];
  kvBlockSize?: number;
}): Record<string, unknown> | undefined {
  const kv: Record<string, unknown> = {};
  if (opts.tokenizer !== undefined) kv.tokenizer = opts.tokenizer;
  if (opts.kvBlockSize !== undefined) kv.blockSize = opts.kvBlockSize;
  const replay = new Map(opts.kvEventsReplay ?? []);
  if (opts.kvEvents) {
    kv.events = opts.kvEvents.map(([engine, endpoint]) => {
      const r = replay.get(engine);
      replay.delete(engine);
      return { engine, endpoint, ...(r !== undefined && { replayEndpoint: r }) };
    });
  }
  for (const engine of replay.keys()) {
    throw new CliError(`--kv-events-replay names ${engine}, which has no --kv-events endpoint`);
  }
  return Object.keys(kv).length > 0 ? kv : undefined;
}

export function serveCommand() {
  return new Command("serve")
    .description("Route OpenAI-compatible requests to vLLM prefill/decode engines")
    .option("--config <file>", "JSON router config (any part of the defaults; docs/ROUTER.md)")
    .option("--host <host>", "address to bind (default 127.0.0.1)")
    .option("--port <port>", "port to listen on (default 8000)", parseNonNegativeInt)
    .option("--prefill <urls>", "prefill engines, comma-separated base URLs", parseUrlList)
    .option("--decode <urls>", "decode engines, comma-separated base URLs", parseUrlList)
    .option("--both <urls>", "shared-pool engines (prefill and decode)", parseUrlList)
    .option(
      "--endpoint <spec>",
      "url=...,role=prefill|decode|both[,gpu=N] (repeatable)",
      parseEndpoint,
    )
    .addOption(
      new Option("--policy <policy>", "routing policy (src/core/policies.ts; docs/POLICY.md)")
        .choices(POLICY_NAMES),
    )
    .addOption(
      new Option("--disaggregation <mode>", "prefill/decode split").choices(
        ["never", "always", "conditional"] as const,
      ),
    )
    .option(
      "--slo-ttft-ms <ms>",
      "the TTFT SLO the predictive policy prices (default 2000)",
      parsePositiveNumber,
    )
    .option(
      "--slo-tpot-ms <ms>",
      "the TPOT SLO the predictive policy prices (default 50 ms/token)",
      parsePositiveNumber,
    )
    .option("--model <name>", "model preset the engines run (for predicted rates)")
    .option("--gpu <name>", "GPU preset of the engines")
    .option("--tp <n>", "tensor parallel GPUs per engine", parsePositiveInt)
    .option(
      "--engine-speed <x>",
      "engines are x times faster than the model (emulators' --speed)",
      parsePositiveNumber,
    )
    .option("--topology <file>", "topology document placing the endpoints' GPUs (pdroute topology)")
    .addOption(
      new Option("--implementation <impl>", "scoring core").choices(["wasm", "reference"] as const),
    )
    .option("--seed <n>", "seed of the tie-break draws", parseNonNegativeInt)
    .option(
      "--scrape-interval <duration>",
      "engine /metrics scrape interval (0: off)",
      parseDurationOrZeroMs,
    )
    .option(
      "--stale-after <duration>",
      "scraped load older than this is not trusted",
      parseDurationMs,
    )
    .option("--probe-interval <duration>", "engine /health probe interval", parseDurationMs)
    .option(
      "--queue-timeout <duration>",
      "longest wait for capacity before a 503",
      parseDurationOrZeroMs,
    )
    .option("--max-queued <n>", "most requests waiting for capacity", parseNonNegativeInt)
    .option("--max-attempts <n>", "engines tried per request before giving up", parsePositiveInt)
    .option(
      "--first-byte-timeout <duration>",
      "an engine must start answering within this",
      parseDurationMs,
    )
    .option(
      "--response-timeout <duration>",
      "a non-streaming answer must arrive within this (default: --first-byte-timeout)",
      parseDurationMs,
    )
    .option("--request-timeout <duration>", "whole-request limit", parseDurationMs)
    .option("--body-timeout <duration>", "a request body must arrive within this", parseDurationMs)
    .option("--max-body-bytes <size>", "largest request body (e.g. 4m)", parseBytes)
    .addOption(
      new Option("--relay <mode>", "stream relay: inspect (retries, error events) or passthrough")
        .choices(["inspect", "passthrough"] as const),
    )
    .option("--migration-interval <duration>", "how often migrations are planned", parseDurationMs)
    .option("--migration-budget <n>", "migrations per window (0 disables)", parseNonNegativeInt)
    .option(
      "--sync <url>",
      "nats://HOST:PORT: share in-flight load and prefixes with the other replicas there",
    )
    .option("--replica-id <id>", "this replica's name among its peers (default: r-<random>)")
    .option(
      "--workers <n>",
      "run n router processes on one port, sharing load through --sync",
      parsePositiveInt,
    )
    .addOption(new Option("--reuse-port", "share the port (set by --workers)").hideHelp())
    .option(
      "--tokenizer <dir>",
      "model directory (tokenizer.json, tokenizer_config.json): precise KV mode (engine token ids)",
    )
    .option(
      "--kv-events <list>",
      "engines' KV event publishers: ENGINE=tcp://HOST:PORT,... (vLLM --kv-events-config endpoint)",
      parseKvEvents,
    )
    .option(
      "--kv-events-replay <list>",
      "engines' replay sockets: ENGINE=tcp://HOST:PORT,... (vLLM replay_endpoint)",
      parseKvEvents,
    )
    .option(
      "--kv-block-size <n>",
      "the engines' KV block size in tokens (default 16)",
      parsePositiveInt,
    )
    .action(async (opts) => {
      let file: Record<string, unknown> | undefined;
      if (opts.config) {
        try {
          file = await readJson(opts.config, "config file") as Record<string, unknown>;
        } catch (e) {
          throw new CliError((e as Error).message);
        }
      }
      const flagEndpoints: EndpointConfig[] = [
        ...(opts.prefill ?? []).map((url) => ({ url, role: "prefill" as const })),
        ...(opts.decode ?? []).map((url) => ({ url, role: "decode" as const })),
        ...(opts.both ?? []).map((url) => ({ url, role: "both" as const })),
        ...(opts.endpoint ?? []),
      ];
      const flags: Record<string, unknown> = {};
      const set = (key: string, value: unknown) => value !== undefined && (flags[key] = value);
      if (flagEndpoints.length > 0) flags.endpoints = flagEndpoints;
      set("host", opts.host);
      set("port", opts.port);
      set("model", opts.model);
      set("gpu", opts.gpu);
      set("tensorParallel", opts.tp);
      set("engineSpeed", opts.engineSpeed);
      set("topology", opts.topology);
      set("implementation", opts.implementation);
      set("seed", opts.seed);
      set("migrationIntervalMs", opts.migrationInterval);
      set("relay", opts.relay);
      const policy: Record<string, unknown> = {};
      if (opts.policy) policy.policy = opts.policy;
      if (opts.disaggregation) policy.disaggregation = opts.disaggregation;
      if (opts.migrationBudget !== undefined) policy.migration = { budget: opts.migrationBudget };
      if (opts.sloTtftMs !== undefined || opts.sloTpotMs !== undefined) {
        policy.slo = {
          ...(opts.sloTtftMs !== undefined && { ttftMs: opts.sloTtftMs }),
          ...(opts.sloTpotMs !== undefined && { tpotMs: opts.sloTpotMs }),
        };
      }
      if (Object.keys(policy).length > 0) flags.policy = policy;
      const telemetry: Record<string, unknown> = {};
      if (opts.scrapeInterval !== undefined) telemetry.scrapeIntervalMs = opts.scrapeInterval;
      if (opts.staleAfter !== undefined) telemetry.staleAfterMs = opts.staleAfter;
      if (Object.keys(telemetry).length > 0) flags.telemetry = telemetry;
      if (opts.probeInterval !== undefined) flags.health = { probeIntervalMs: opts.probeInterval };
      const limits: Record<string, unknown> = {};
      if (opts.queueTimeout !== undefined) limits.queueTimeoutMs = opts.queueTimeout;
      if (opts.maxQueued !== undefined) limits.maxQueued = opts.maxQueued;
      if (opts.maxAttempts !== undefined) limits.maxAttempts = opts.maxAttempts;
      if (opts.firstByteTimeout !== undefined) limits.firstByteTimeoutMs = opts.firstByteTimeout;
      if (opts.requestTimeout !== undefined) limits.requestTimeoutMs = opts.requestTimeout;
      if (opts.responseTimeout !== undefined) limits.responseTimeoutMs = opts.responseTimeout;
      if (opts.bodyTimeout !== undefined) limits.bodyTimeoutMs = opts.bodyTimeout;
      if (opts.maxBodyBytes !== undefined) limits.maxBodyBytes = opts.maxBodyBytes;
      if (Object.keys(limits).length > 0) flags.limits = limits;
      const sync: Record<string, unknown> = {};
      if (opts.sync !== undefined) sync.url = opts.sync;
      if (opts.replicaId !== undefined) sync.replicaId = opts.replicaId;
      if (Object.keys(sync).length > 0) flags.sync = sync;
      set("kv", kvFlags(opts));
      let running;
      try {
        const config = resolveRouterConfig(file, flags);
        if (opts.workers !== undefined && opts.workers > 1) {
          checkWorkersConfig(opts.workers, config);
          return await runWorkers(opts.workers, config);
        }
        running = await startRouter(config, { reusePort: opts.reusePort === true });
      } catch (e) {
        if (e instanceof CliError) throw e;
        if (
          e instanceof RouterConfigError || e instanceof EngineModelError ||
          e instanceof TopologyInputError
        ) {
          throw new CliError(e.message);
        }
        throw new CliError((e as Error).message, 1);
      }
      const st = running.router.status();
      console.log(
        `pdroute serve: ${running.url} (${st.policy}, disaggregation ${st.disaggregation}, ` +
          `core ${st.implementation})`,
      );
      for (const e of st.endpoints) {
        console.log(`  [${e.index}] ${e.role.padEnd(7)} ${e.url} (gpu ${e.gpu})`);
      }
      if (st.sync) {
        console.log(
          `  replica ${st.sync.replicaId}, sync ${st.sync.url} (${st.sync.state}` +
            `${st.sync.lastError ? `: ${st.sync.lastError}` : ""})`,
        );
      }
      const kv = running.router.config.kv;
      if (running.router.kv) {
        console.log(
          `  precise KV awareness on: tokenizer ${kv.tokenizer}, ${kv.blockSize}-token blocks, ` +
            `KV events from ${running.router.kv.subscribed} of ${st.endpoints.length} engines ` +
            "(the others, and any whose events go stale, use approximate prefixes)",
        );
      } else {
        console.log(
          "  precise KV awareness off (no --tokenizer): prefixes are approximate" +
            (kv.events.length > 0
              ? `; the ${kv.events.length} KV event endpoints are not used`
              : ""),
        );
      }
      await untilSignal();
      await running.close();
    });
}
