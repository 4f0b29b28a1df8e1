/**
 * The router's pieces on their own: the NixlConnector request bodies, the SSE watcher, the
 * Prometheus reader (labelled histograms, garbage), telemetry extraction, config validation,
 * the body limit and the CLI's endpoint syntax.
 */
import { deepEqual, equal, match, ok, throws } from "node:assert/strict";
import { parseEndpoint } from "../../src/cli/commands/serve.ts";
import { parseExposition, SampleIndex } from "../../src/metrics/prom_text.ts";
import { prefixBlockIds } from "../../src/openai/prefix_blocks.ts";
import { parseRequestBody } from "../../src/openai/request.ts";
import { BodyTooLarge, readBody } from "../../src/router/body.ts";
import { resolveRouterConfig } from "../../src/router/config.ts";
import { decodeBody, prefillBody, transferParamsOf } from "../../src/router/handoff.ts";
import { SseScan } from "../../src/router/sse_scan.ts";
import { Router } from "../../src/router/router.ts";
import { readTelemetry } from "../../src/router/telemetry.ts";
import { writeTopology } from "../../src/topology/load.ts";
import { probeTopology } from "../../src/topology/probe.ts";
import { fixtureEnv } from "../topology/_fixtures.ts";

Deno.test("handoff: the prefill request is vLLM's proxy copy, exactly", () => {
  const original = parseRequestBody(
    JSON.stringify({
      model: "m",
      messages: [{ role: "user", content: "hi" }],
      max_tokens: 100,
      max_completion_tokens: 90,
      stream: true,
      stream_options: { include_usage: true },
      min_tokens: 5,
      temperature: 0.3,
    }),
    "chat",
  );
  deepEqual(prefillBody(original), {
    model: "m",
    messages: [{ role: "user", content: "hi" }],
    max_tokens: 1,
    max_completion_tokens: 1,
    stream: false,
    temperature: 0.3,
    kv_transfer_params: {
      do_remote_decode: true,
      do_remote_prefill: false,
      remote_engine_id: null,
      remote_block_ids: null,
      remote_host: null,
      remote_port: null,
    },
  });
  // The original is untouched; the decode request is it plus the prefill's params.
  equal(original.max_tokens, 100);
  const params = { do_remote_prefill: true, remote_block_ids: [1, 2], remote_engine_id: "e" };
  deepEqual(decodeBody(original, params), { ...original, kv_transfer_params: params });
  const completion = parseRequestBody(JSON.stringify({ model: "m", prompt: "x" }), "completions");
  ok(!("max_completion_tokens" in prefillBody(completion)), "not added when absent");
  deepEqual(transferParamsOf({ kv_transfer_params: params }), params);
  match(transferParamsOf({ choices: [] }) as string, /no kv_transfer_params/);
});

Deno.test("SSE watcher counts events and sees [DONE] across any chunk split", () => {
  const text = 'data: {"a":1}\n\ndata: {"b":2}\n\ndata: [DONE]\n\n';
  const bytes = new TextEncoder().encode(text);
  for (let split = 0; split <= bytes.length; split++) {
    const s = new SseScan();
    s.push(bytes.subarray(0, split));
    s.push(bytes.subarray(split));
    equal(s.events, 2, `split at ${split}`);
    ok(s.done, `split at ${split}`);
  }
  const cut = new SseScan();
  cut.push(new TextEncoder().encode('data: {"a":1}\n\ndata: {"b"'));
  ok(!cut.done);
});

const VLLM_SCRAPE = `# HELP vllm:num_requests_running Number of requests in model execution batches.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="m"} 3.0
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{engine="0",model_name="m"} 2.0
# TYPE vllm:gpu_cache_usage_perc gauge
vllm:gpu_cache_usage_perc{engine="0",model_name="m"} 0.25
# TYPE vllm:prefix_cache_queries counter
vllm:prefix_cache_queries_total{engine="0",model_name="m"} 1000.0
# TYPE vllm:prefix_cache_hits counter
vllm:prefix_cache_hits_total{engine="0",model_name="m"} 250.0
# TYPE vllm:time_to_first_token_seconds histogram
vllm:time_to_first_token_seconds_bucket{engine="0",le="0.1",model_name="m"} 4.0
vllm:time_to_first_token_seconds_bucket{engine="0",le="+Inf",model_name="m"} 5.0
vllm:time_to_first_token_seconds_count{engine="0",model_name="m"} 5.0
vllm:time_to_first_token_seconds_sum{engine="0",model_name="m"} 0.75
# TYPE vllm:time_per_output_token_seconds histogram
vllm:time_per_output_token_seconds_count{engine="0",model_name="m"} 100.0
vllm:time_per_output_token_seconds_sum{engine="0",model_name="m"} 2.0
`;

Deno.test("Prometheus reader keeps labelled histogram counts and sums; older vLLM names read", () => {
  const idx = new SampleIndex(parseExposition(VLLM_SCRAPE));
  equal(idx.sum("vllm:time_to_first_token_seconds_count", { model_name: "m" }), 5);
  equal(idx.sum("vllm:time_to_first_token_seconds_sum"), 0.75);
  equal(idx.sum("vllm:time_to_first_token_seconds_bucket", { le: "+Inf" }), 5);
  const t = readTelemetry(VLLM_SCRAPE);
  deepEqual(t, {
    running: 3,
    waiting: 2,
    kvUsage: 0.25,
    ttftSum: 0.75,
    ttftCount: 5,
    itlSum: 2,
    itlCount: 100,
    prefixHitRate: 0.25,
  });
});

Deno.test("Prometheus reader rejects what is not Prometheus text, naming it", () => {
  throws(() => parseExposition("<html><body>502 Bad Gateway</body></html>\n"), /not a metric name/);
  throws(() => parseExposition('vllm:x{a="b"} abc\n'), /not a number/);
  throws(() => readTelemetry("# TYPE other gauge\nother 1\n"), /no vLLM load gauges/);
});

Deno.test("prefix block ids: equal prefixes share leading ids, only full blocks count", () => {
  const a = "x".repeat(4 * 512 * 2) + "tail-a";
  const b = "x".repeat(4 * 512 * 2) + "tail-b".repeat(400);
  const ia = prefixBlockIds(a, 512), ib = prefixBlockIds(b, 512);
  equal(ia.length, 2);
  deepEqual(ib.slice(0, 2), ia);
  ok(ib.length === 3 && ib[2] !== ia[1]);
  const c = "y" + "x".repeat(4 * 512 * 2 - 1);
  ok(prefixBlockIds(c, 512)[1] !== ia[1], "a block's id depends on everything before it");
});

Deno.test("router config: defaults, validation naming field and value, duplicates", () => {
  const c = resolveRouterConfig({ endpoints: [{ url: "http://127.0.0.1:1", role: "both" }] });
  equal(c.host, "127.0.0.1");
  equal(c.limits.maxBodyBytes, 4 * 1024 * 1024);
  throws(() => resolveRouterConfig({}), /no endpoints/);
  throws(
    () => resolveRouterConfig({ endpoints: [{ url: "http://a:1", role: "boss" }] }),
    /'endpoints.0.role'.*"boss"/,
  );
  throws(
    () =>
      resolveRouterConfig({
        endpoints: [{ url: "http://a:1", role: "both" }, { url: "http://a:1/", role: "both" }],
      }),
    /listed twice/,
  );
  throws(
    () =>
      resolveRouterConfig({
        endpoints: [{ url: "http://a:1", role: "both" }],
        limits: { maxAttempts: 0 },
      }),
    /'limits.maxAttempts'/,
  );
});

Deno.test("body limit: Content-Length and streamed bodies beyond it are refused", async () => {
  const big = new Request("http://x/", { method: "POST", body: "x".repeat(5000) });
  let error: unknown = null;
  try {
    await readBody(big, 4096, 5000);
  } catch (e) {
    error = e;
  }
  ok(error instanceof BodyTooLarge);
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      for (let i = 0; i < 10; i++) c.enqueue(new Uint8Array(1000));
      c.close();
    },
  });
  error = null;
  try {
    await readBody(new Request("http://x/", { method: "POST", body: stream }), 4096, 5000);
  } catch (e) {
    error = e;
  }
  ok(error instanceof BodyTooLarge);
  equal(await readBody(new Request("http://x/", { method: "POST", body: "ok" }), 4096, 5000), "ok");
});

Deno.test("serve --endpoint syntax", () => {
  deepEqual(parseEndpoint("url=http://h:1,role=decode,gpu=3"), [
    { url: "http://h:1", role: "decode", gpu: 3 },
  ]);
  deepEqual(parseEndpoint("url=http://h:2", [{ url: "http://h:1", role: "prefill" }]), [
    { url: "http://h:1", role: "prefill" },
    { url: "http://h:2", role: "both" },
  ]);
  throws(() => parseEndpoint("url=http://h:1,role=x"), /role must be/);
  throws(() => parseEndpoint("url=http://h:1,colour=red"), /unknown field 'colour'/);
});

Deno.test("serve --topology places endpoints: NVLink-bridged GPUs share a domain, links follow", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pdroute-topo-" });
  try {
    const path = `${dir}/topology.json`;
    await writeTopology(path, await probeTopology(fixtureEnv("nvlink-bridge-8gpu")));
    const router = await Router.create(resolveRouterConfig({
      topology: path,
      endpoints: [
        { url: "http://127.0.0.1:1", role: "prefill", gpu: 0 },
        { url: "http://127.0.0.1:2", role: "decode", gpu: 1 },
        { url: "http://127.0.0.1:3", role: "decode", gpu: 2 },
      ],
    }));
    const domain = router.core.state.domain;
    ok(domain[0] >= 0 && domain[0] === domain[1], `GPUs 0 and 1 are bridged: ${[...domain]}`);
    ok(domain[2] !== domain[0], "GPU 2 is not bridged to GPU 0");
    ok(router.core.config.links.nvlink.gbps > 0);
    router.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
