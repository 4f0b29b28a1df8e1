/**
 * Plain Node.js can embed the WASM core: runs examples/node/embed.mjs under `node` and checks
 * each decision against the TS reference fed the same scenario and the same accounting.
 */
import { deepEqual, equal } from "node:assert/strict";
import { Cfg } from "../../src/core/abi.ts";
import { encodeConfig, resolvePolicyConfig } from "../../src/core/config.ts";
import type { EndpointSpec } from "../../src/core/endpoints.ts";
import { createReferenceCore } from "../../src/core/reference/mod.ts";

const endpoints: (EndpointSpec & { queuedPrefillTokens?: number; activeKvBlocks?: number })[] = [
  {
    role: "prefill",
    hostId: 0,
    numaNode: 0,
    prefillTokensPerMs: 20,
    decodeBaseMs: 8,
    decodeMsPerKvBlock: 0.001,
    kvCapacityBlocks: 20000,
    queuedPrefillTokens: 9000,
  },
  {
    role: "prefill",
    hostId: 0,
    numaNode: 1,
    prefillTokensPerMs: 18,
    decodeBaseMs: 8,
    decodeMsPerKvBlock: 0.001,
    kvCapacityBlocks: 20000,
  },
  {
    role: "decode",
    hostId: 0,
    numaNode: 1,
    prefillTokensPerMs: 15,
    decodeBaseMs: 8,
    decodeMsPerKvBlock: 0.001,
    kvCapacityBlocks: 20000,
    activeKvBlocks: 4000,
  },
  {
    role: "decode",
    hostId: 0,
    numaNode: 0,
    prefillTokensPerMs: 15,
    decodeBaseMs: 7,
    decodeMsPerKvBlock: 0.001,
    kvCapacityBlocks: 20000,
  },
  {
    role: "both",
    hostId: 0,
    numaNode: 0,
    prefillTokensPerMs: 15,
    decodeBaseMs: 9,
    decodeMsPerKvBlock: 0.002,
    kvCapacityBlocks: 8000,
  },
];
const requests = Array.from({ length: 40 }, (_, i) => ({
  prompt: [120, 900, 4000, 16000][i % 4],
  output: [16, 200, 64][i % 3],
  blocks: [],
  draw: (i * 2654435761) >>> 0,
}));

Deno.test("node embeds the WASM core and decides exactly as the TS reference", async () => {
  const config = new Float64Array(Cfg.COUNT);
  encodeConfig(resolvePolicyConfig({ disaggregation: "conditional" }), config);
  const scenario = {
    config: Array.from(config),
    endpoints: endpoints.map((e) => ({
      role: e.role,
      host: e.hostId,
      numa: e.numaNode,
      prefillTokensPerMs: e.prefillTokensPerMs,
      decodeBaseMs: e.decodeBaseMs,
      decodeMsPerKvBlock: e.decodeMsPerKvBlock,
      kvCapacityBlocks: e.kvCapacityBlocks,
      queuedPrefillTokens: e.queuedPrefillTokens,
      activeKvBlocks: e.activeKvBlocks,
    })),
    requests,
  };
  const child = new Deno.Command("node", {
    args: ["examples/node/embed.mjs"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify(scenario)));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  equal(code, 0, new TextDecoder().decode(stderr));
  const fromNode = new TextDecoder().decode(stdout).trim().split("\n").map((l) => JSON.parse(l));

  const reference = createReferenceCore({ disaggregation: "conditional" });
  reference.setEndpointCount(endpoints.length);
  endpoints.forEach((e, i) => {
    reference.setEndpoint(i, e);
    reference.setLoad(i, {
      queuedPrefillTokens: e.queuedPrefillTokens ?? 0,
      activeKvBlocks: e.activeKvBlocks ?? 0,
    });
  });
  equal(fromNode.length, requests.length);
  const kinds = new Set<string>();
  requests.forEach((r, i) => {
    const d = reference.route({ promptTokens: r.prompt, outputTokens: r.output }, 0, r.draw);
    reference.addLoad(d.prefill, d.uncachedTokens, 0, 0);
    reference.addLoad(d.decode, 0, 1, d.requestKvBlocks);
    deepEqual(fromNode[i], {
      status: 0,
      prefill: d.prefill,
      decode: d.decode,
      disaggregated: d.disaggregated ? 1 : 0,
      ttftMs: d.ttftMs,
      tpotMs: d.tpotMs,
      uncachedTokens: d.uncachedTokens,
      transferMs: d.transferMs,
      requestKvBlocks: d.requestKvBlocks,
      costMs: d.costMs,
      ttftModelMs: d.ttftModelMs,
      tpotModelMs: d.tpotModelMs,
    }, `request ${i}`);
    kinds.add(d.disaggregated ? "remote" : "local");
  });
  deepEqual(kinds, new Set(["remote", "local"]), "the scenario exercises both paths");
});
