/**
 * Workloads: seeded synthetic generators are deterministic and shaped as configured; trace
 * readers stream the real formats, apply rate scaling and truncation, and reject malformed
 * input with the file, the line and the field.
 */
import { deepEqual, equal, notDeepEqual, ok, rejects, throws } from "node:assert/strict";
import {
  azureElapsedMs,
  azureTraceSource,
  parseAzureTimestamp,
} from "../../src/workload/azure_trace.ts";
import { mooncakeTraceSource } from "../../src/workload/mooncake_trace.ts";
import type { RequestSource, SimRequest } from "../../src/workload/request.ts";
import { generateSynthetic, SYNTHETIC_PRESETS } from "../../src/workload/synthetic.ts";
import { TraceError } from "../../src/workload/trace_error.ts";

async function drain(source: RequestSource): Promise<SimRequest[]> {
  const all: SimRequest[] = [];
  for (let batch = await source.next(); batch.length > 0; batch = await source.next()) {
    all.push(...batch);
  }
  return all;
}

async function tempFile(text: string, suffix: string): Promise<string> {
  const path = await Deno.makeTempFile({ suffix });
  await Deno.writeTextFile(path, text);
  return path;
}

Deno.test("synthetic workloads are deterministic per seed and arrive in order", () => {
  for (const [name, preset] of Object.entries(SYNTHETIC_PRESETS)) {
    const w = { ...preset, requests: 500 };
    const a = [...generateSynthetic(w, 7)], b = [...generateSynthetic(w, 7)];
    deepEqual(a, b, `${name} with the same seed`);
    notDeepEqual(a, [...generateSynthetic(w, 8)], `${name} with another seed`);
    ok(a.every((r, i) => i === 0 || r.arrivalMs >= a[i - 1].arrivalMs), `${name} in arrival order`);
    ok(
      a.every((r) => r.outputTokens >= w.output.min && r.outputTokens <= w.output.max),
      `${name} outputs`,
    );
    for (const r of a) {
      equal(r.prefixBlocks.length, Math.ceil(r.promptTokens / 512), `${name} block count`);
    }
  }
});

Deno.test("synthetic shapes: rate, long fraction, heavy tail, shared prefixes", () => {
  const chat = [...generateSynthetic({ ...SYNTHETIC_PRESETS.chat, requests: 20000 }, 1)];
  const rate = chat.length / (chat[chat.length - 1].arrivalMs / 1000);
  ok(
    Math.abs(rate - SYNTHETIC_PRESETS.chat.ratePerSec) / SYNTHETIC_PRESETS.chat.ratePerSec < 0.05,
    `rate ${rate}`,
  );
  const shared = chat.filter((r) => r.prefixBlocks[0] < 0x80000000).length / chat.length;
  ok(
    Math.abs(shared - SYNTHETIC_PRESETS.chat.prefixShare) < 0.02,
    `shared prefix fraction ${shared}`,
  );
  const heavy = [...generateSynthetic({ ...SYNTHETIC_PRESETS["heavy-tail"], requests: 20000 }, 1)];
  const outputs = heavy.map((r) => r.outputTokens).sort((a, b) => a - b);
  ok(
    outputs[Math.floor(outputs.length * 0.99)] > 8 * outputs[Math.floor(outputs.length / 2)],
    "p99 output >> median",
  );
  const waves = [...generateSynthetic({ ...SYNTHETIC_PRESETS["two-wave"], requests: 1000 }, 1)];
  ok(
    waves[500].arrivalMs - waves[499].arrivalMs >= SYNTHETIC_PRESETS["two-wave"].waveGapMs,
    "gap between waves",
  );
  const long = (rs: SimRequest[]) => rs.filter((r) => r.promptTokens >= 2048).length;
  ok(
    long(waves.slice(0, 500)) > 10 * Math.max(1, long(waves.slice(500))),
    "the first wave carries the long prompts",
  );
});

Deno.test("Azure traces stream with relative arrivals, rate scaling and truncation", async () => {
  const path = "tests/fixtures/data/azure2023_conv_min20to30.csv";
  const all = await drain(azureTraceSource(path, { rateScale: 1 }));
  equal(all.length, 4123);
  equal(all[0].arrivalMs, 0);
  const fast = await drain(azureTraceSource(path, { rateScale: 2 }));
  equal(fast[100].arrivalMs, all[100].arrivalMs / 2);
  equal((await drain(azureTraceSource(path, { rateScale: 1, maxRequests: 10 }))).length, 10);
  const minute = await drain(azureTraceSource(path, { rateScale: 1, durationMs: 60_000 }));
  ok(minute.length > 0 && minute.every((r) => r.arrivalMs <= 60_000) && minute.length < all.length);
  const a = parseAzureTimestamp("2023-11-16 18:15:46.6805900")!;
  const b = parseAzureTimestamp("2023-11-16 18:15:47.0000000")!;
  ok(Math.abs(azureElapsedMs(a, b) - 319.41) < 1e-9, "sub-millisecond fractions kept");
});

Deno.test("Mooncake traces carry prefix block ids", async () => {
  const all = await drain(
    mooncakeTraceSource("tests/fixtures/data/mooncake_conversation_head2500.jsonl", {
      rateScale: 1,
    }),
  );
  equal(all.length, 2500);
  for (const r of all) equal(r.prefixBlocks.length, Math.ceil(r.promptTokens / 512));
  const firsts = new Set(all.map((r) => r.prefixBlocks[0]));
  ok(firsts.size < all.length / 2, "many requests share their leading block");
});

Deno.test("malformed traces name the file, the line and the field", async () => {
  const header = "TIMESTAMP,ContextTokens,GeneratedTokens\n";
  const cases: [string, string, RegExp][] = [
    [
      header + "2023-11-16 18:15:46.68,374,44\n2023-11-16 18:15:47.00,abc,44\n",
      ".csv",
      /:3: field 'ContextTokens' must be an integer >= 1: current value is "abc"/,
    ],
    [
      header + "2023-11-16 18:15:46.68,374,44\nyesterday,374,44\n",
      ".csv",
      /:3: field 'TIMESTAMP' must look like .*"yesterday"/,
    ],
    [
      header + "2023-11-16 18:15:47.68,374,44\n2023-11-16 18:15:46.00,374,44\n",
      ".csv",
      /:3: field 'TIMESTAMP' goes backwards/,
    ],
    [
      header + "2023-11-16 18:15:46.68,374,0\n",
      ".csv",
      /:2: field 'GeneratedTokens' must be an integer >= 1: current value is "0"/,
    ],
    ["TIME,Context\n1,2\n", ".csv", /:2: field 'TIMESTAMP' is missing/],
  ];
  for (const [text, suffix, message] of cases) {
    const path = await tempFile(text, suffix);
    await rejects(
      drain(azureTraceSource(path, { rateScale: 1 })),
      (e: unknown) =>
        e instanceof TraceError && message.test(e.message) && e.message.includes(path),
    );
  }
  const good = '{"timestamp": 0, "input_length": 600, "output_length": 5, "hash_ids": [1, 2]}\n';
  const jsonl: [string, RegExp][] = [
    [good + "{not json\n", /:2: not valid JSON/],
    [
      good + '{"timestamp": 5, "input_length": -1, "output_length": 5, "hash_ids": []}\n',
      /:2: field 'input_length' must be an integer >= 1: current value is -1/,
    ],
    [
      good + '{"timestamp": 5, "input_length": 10, "output_length": 5, "hash_ids": [1.5]}\n',
      /:2: field 'hash_ids' must be an array of integers/,
    ],
    [
      good + '{"timestamp": -5, "input_length": 10, "output_length": 5, "hash_ids": []}\n',
      /:2: field 'timestamp' must be a non-negative number/,
    ],
    [good + "[1, 2]\n", /:2: expected a JSON object per line/],
  ];
  for (const [text, message] of jsonl) {
    const path = await tempFile(text, ".jsonl");
    await rejects(
      drain(mooncakeTraceSource(path, { rateScale: 1 })),
      (e: unknown) =>
        e instanceof TraceError && message.test(e.message) && e.message.includes(path),
    );
  }
  for (const open of [azureTraceSource, mooncakeTraceSource]) {
    throws(
      () => open("/nonexistent/trace.jsonl", { rateScale: 1 }),
      (e: unknown) =>
        e instanceof TraceError &&
        /cannot read trace '\/nonexistent\/trace\.jsonl'/.test(e.message),
    );
  }
});

Deno.test("prefix questions: each group's Q prompts repeat whole, and nothing else does", () => {
  const spec = {
    ...SYNTHETIC_PRESETS.poisson,
    requests: 2000,
    longFraction: 0,
    shortPrompt: { median: 1200, sigma: 0, min: 1200, max: 1200 },
    prefixGroups: 7,
    prefixTokens: 6000,
    prefixZipf: 0,
    prefixShare: 1,
    prefixQuestions: 3,
  };
  const reqs = [...generateSynthetic(spec, 5)];
  const prompts = new Map<string, number>();
  for (const r of reqs) {
    equal(r.promptTokens, 7200);
    equal(r.prefixBlocks.length, Math.ceil(7200 / 512));
    const key = r.prefixBlocks.join(",");
    prompts.set(key, (prompts.get(key) ?? 0) + 1);
  }
  equal(prompts.size, 7 * 3, "every (group, question) prompt, and only those");
  // Without questions the same spec gives every request its own suffix blocks.
  const own = [...generateSynthetic({ ...spec, prefixQuestions: 0 }, 5)];
  equal(new Set(own.map((r) => r.prefixBlocks.join(","))).size, own.length);
  deepEqual(own[0].prefixBlocks.slice(0, 11), reqs[0].prefixBlocks.slice(0, 11), "same prefixes");
});
