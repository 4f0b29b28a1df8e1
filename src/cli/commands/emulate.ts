/**
 * `pdroute emulate`: one or more vLLM engine emulators (a test double: see src/emulator/).
 * `--count N` starts N on consecutive ports in this process. Runs until interrupted.
 */
import { Command, Option } from "@commander-js/extra-typings";
import { EngineModelError } from "../../engine_model/setup.ts";
import { type Emulator, startEmulator } from "../../emulator/emulator.ts";
import {
  EmulatorOptionsError,
  type EmulatorOptionsInput,
  resolveEmulatorOptions,
} from "../../emulator/options.ts";
import { CliError } from "../errors.ts";
import { untilSignal } from "../signals.ts";
import {
  parseFraction,
  parseNonNegativeInt,
  parseNonNegativeNumber,
  parsePositiveInt,
  parsePositiveNumber,
} from "../parse.ts";

/** The i-th emulator's endpoint: `tcp://HOST:PORT` with PORT + i (0 stays 0). */
function nthEndpoint(value: string | undefined, i: number, flag: string): string | null {
  if (value === undefined) return null;
  const m = /^tcp:\/\/([^:/]+):(\d+)$/.exec(value);
  if (!m) throw new CliError(`${flag} must be tcp://HOST:PORT, got '${value}'`);
  const port = Number(m[2]);
  return `tcp://${m[1]}:${port === 0 ? 0 : port + i}`;
}

export function emulateCommand() {
  return new Command("emulate")
    .description(
      "Run vLLM engine emulators (a test double: vLLM's HTTP surface, timed by the simulator's engine model)",
    )
    .option("--host <host>", "address to bind", "127.0.0.1")
    .option(
      "--port <port>",
      "port of the first emulator (0: any free port)",
      parseNonNegativeInt,
      8100,
    )
    .option("--count <n>", "emulators to start, on consecutive ports", parsePositiveInt, 1)
    .option("--served-model-name <name>", "model name clients send", "emulated")
    .option("--model <name>", "model preset: llama-3-8b, llama-3-70b, llama-2-70b", "llama-3-8b")
    .option("--gpu <name>", "GPU preset: a100, h100, h200, b200", "h100")
    .option("--tp <n>", "tensor parallel GPUs per engine", parsePositiveInt)
    .option("--speed <x>", "engine time runs x times faster than wall time", parsePositiveNumber)
    .option("--max-num-seqs <n>", "most sequences in a batch", parsePositiveInt)
    .option("--max-batched-tokens <n>", "token budget per step", parsePositiveInt)
    .option(
      "--gpu-memory-utilization <f>",
      "fraction of GPU memory for weights + KV",
      parseFraction,
    )
    .option(
      "--prefix-cache-fraction <f>",
      "fraction of KV the prefix cache may keep",
      parseFraction,
    )
    .addOption(
      new Option("--prefix-cache-pool <pool>", "prefix cache in the KV pool (vLLM) or beside it")
        .choices(["shared", "reserved"] as const),
    )
    .option(
      "--default-max-tokens <n>",
      "output tokens when max_tokens is absent",
      parsePositiveInt,
    )
    .option("--max-model-len <n>", "longest prompt + output accepted", parsePositiveInt)
    .option("--kv-link-gbps <x>", "prefill->decode KV link bandwidth, GB/s", parsePositiveNumber)
    .option("--legacy-metric-names", "report vllm:gpu_cache_usage_perc (older vLLM)")
    .option("--seed <n>", "seed of the fault draws", parseNonNegativeInt)
    .option("--extra-latency-ms <ms>", "fault: delay before each request", parseNonNegativeNumber)
    .option("--error-rate <f>", "fault: fraction answered with HTTP 500", parseFraction)
    .option("--stall-rate <f>", "fault: fraction accepted and never answered", parseFraction)
    .option("--truncate-rate <f>", "fault: fraction cut off halfway", parseFraction)
    .option("--die-after <n>", "fault: crash after n requests (0: never)", parseNonNegativeInt)
    .option(
      "--tokenizer <dir>",
      "model directory (tokenizer.json, tokenizer_config.json): real token ids",
    )
    .option(
      "--kv-events <endpoint>",
      "publish KV events as vLLM does on tcp://HOST:PORT (needs --tokenizer; ports +i with --count)",
    )
    .option("--kv-events-replay <endpoint>", "replay (ROUTER) socket on tcp://HOST:PORT")
    .addOption(
      new Option("--kv-events-encoding <enc>", "array (vLLM before 2026) or map events")
        .choices(["array", "map"] as const),
    )
    .option("--kv-events-topic <topic>", "ZMQ topic of the events", "")
    .option(
      "--block-size <n>",
      "tokens per KV block with --kv-events (default 16)",
      parsePositiveInt,
    )
    .addOption(
      new Option("--broken-metrics <mode>", "fault: /metrics answers 500 or garbage").choices(
        ["none", "error", "garbage"] as const,
      ),
    )
    .action(async (opts) => {
      if (opts.count < 1) throw new CliError("--count must be at least 1");
      const base: EmulatorOptionsInput = {
        host: opts.host,
        servedModelName: opts.servedModelName,
        model: opts.model,
        gpu: opts.gpu,
        ...(opts.tp !== undefined && { tensorParallel: opts.tp }),
        ...(opts.speed !== undefined && { speed: opts.speed }),
        ...(opts.defaultMaxTokens !== undefined && { defaultMaxTokens: opts.defaultMaxTokens }),
        ...(opts.maxModelLen !== undefined && { maxModelLen: opts.maxModelLen }),
        ...(opts.kvLinkGbps !== undefined && { kvLink: { gbps: opts.kvLinkGbps } }),
        ...(opts.legacyMetricNames && { legacyMetricNames: true }),
        ...(opts.seed !== undefined && { seed: opts.seed }),
        engine: {
          ...(opts.maxNumSeqs !== undefined && { maxNumSeqs: opts.maxNumSeqs }),
          ...(opts.maxBatchedTokens !== undefined && { maxBatchedTokens: opts.maxBatchedTokens }),
          ...(opts.gpuMemoryUtilization !== undefined &&
            { gpuMemoryUtilization: opts.gpuMemoryUtilization }),
          ...(opts.prefixCacheFraction !== undefined &&
            { prefixCacheFraction: opts.prefixCacheFraction }),
          ...(opts.prefixCachePool !== undefined && { prefixCachePool: opts.prefixCachePool }),
        },
        ...(opts.tokenizer !== undefined && { tokenizer: opts.tokenizer }),
        kvEvents: {
          topic: opts.kvEventsTopic,
          ...(opts.kvEventsEncoding !== undefined && { encoding: opts.kvEventsEncoding }),
          ...(opts.blockSize !== undefined && { blockSize: opts.blockSize }),
        },
        faults: {
          ...(opts.extraLatencyMs !== undefined && { extraLatencyMs: opts.extraLatencyMs }),
          ...(opts.errorRate !== undefined && { errorRate: opts.errorRate }),
          ...(opts.stallRate !== undefined && { stallRate: opts.stallRate }),
          ...(opts.truncateRate !== undefined && { truncateRate: opts.truncateRate }),
          ...(opts.dieAfter !== undefined && { dieAfter: opts.dieAfter }),
          ...(opts.brokenMetrics !== undefined && { brokenMetrics: opts.brokenMetrics }),
        },
      };
      const emulators: Emulator[] = [];
      try {
        for (let i = 0; i < opts.count; i++) {
          const port = opts.port === 0 ? 0 : opts.port + i;
          const options = resolveEmulatorOptions({
            ...base,
            port,
            seed: (base.seed ?? 1) + i,
            kvEvents: {
              ...base.kvEvents,
              endpoint: nthEndpoint(opts.kvEvents, i, "--kv-events"),
              replayEndpoint: nthEndpoint(opts.kvEventsReplay, i, "--kv-events-replay"),
            },
          });
          const e = await startEmulator(options);
          emulators.push(e);
          const s = e.setup;
          console.log(
            `pdroute emulate: ${e.url} serving '${options.servedModelName}' as ${s.model.name} on ` +
              `${options.tensorParallel} x ${s.gpu.name} (KV ${s.engine.gpuKvTokens} tokens, ` +
              `speed x${options.speed}) - a test double, not an inference engine`,
          );
          if (e.kv) {
            const p = e.kv.publisher;
            console.log(
              `  KV events on ${p.endpoint} (${options.kvEvents.encoding} encoding, ` +
                `${options.kvEvents.blockSize}-token blocks` +
                `${p.replayEndpoint ? `, replay on ${p.replayEndpoint}` : ""})`,
            );
          }
        }
      } catch (e) {
        await Promise.all(emulators.map((x) => x.close()));
        if (e instanceof EmulatorOptionsError || e instanceof EngineModelError) {
          throw new CliError(e.message);
        }
        throw new CliError((e as Error).message, 1);
      }
      await untilSignal();
      await Promise.all(emulators.map((x) => x.close()));
    });
}
