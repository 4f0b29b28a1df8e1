/**
 * The policy consumes the topology: the same fleet, load and requests routed by both scoring
 * cores (TS reference and WASM) decide differently when only the topology document changes.
 * The two documents are the recorded PCIe server (GPUs 0-3 behind PCIe switches on one node)
 * and the NVLink-bridged server (GPU pairs 0-1, 2-3 bridged, NODE otherwise).
 */
import { deepEqual } from "node:assert/strict";
import type { PolicyConfigInput } from "../../src/core/config.ts";
import type { EndpointLoad, EndpointSpec } from "../../src/core/endpoints.ts";
import { createReferenceCore } from "../../src/core/reference/mod.ts";
import type { RouteRequest } from "../../src/core/request.ts";
import type { ScoringCore } from "../../src/core/scoring_core.ts";
import { applyPlacement, placeEndpoints } from "../../src/topology/placement.ts";
import { probeTopology } from "../../src/topology/probe.ts";
import type { TopologyDocument } from "../../src/topology/schema.ts";
import { createWasmCore } from "../../src/wasm/wasm_core.ts";
import { fixtureEnv } from "./_fixtures.ts";

const pcie = await probeTopology(fixtureEnv("pcie-8gpu-2numa"));
const bridged = await probeTopology(fixtureEnv("nvlink-bridge-8gpu"));

const GPU = { prefillTokensPerMs: 10, decodeBaseMs: 10, decodeMsPerKvBlock: 0.001 };
const SPEC = { ...GPU, kvCapacityBlocks: 10000 };

interface Fleet {
  readonly gpus: number[];
  readonly specs: EndpointSpec[];
  readonly loads: EndpointLoad[];
}

const factories = { reference: createReferenceCore, wasm: createWasmCore };

function build(
  make: (config?: PolicyConfigInput) => ScoringCore,
  doc: TopologyDocument,
  fleet: Fleet,
): ScoringCore {
  const placement = placeEndpoints(doc, fleet.gpus);
  const core = make({ disaggregation: "always", links: placement.links });
  core.setEndpointCount(fleet.specs.length);
  fleet.specs.forEach((spec, i) =>
    core.setEndpoint(i, applyPlacement(spec, placement.endpoints[i]))
  );
  fleet.loads.forEach((load, i) => core.setLoad(i, load));
  return core;
}

function picks(core: ScoringCore, req: RouteRequest, side: "prefill" | "decode"): number[] {
  const seen = new Set<number>();
  for (let d = 0; d < 32; d++) seen.add(core.route(req, 0, (d * 2654435761) >>> 0)[side]);
  return [...seen].sort();
}

for (const [kind, make] of Object.entries(factories)) {
  Deno.test(`[${kind}] prefill pick flips with the topology alone`, () => {
    // GPU1 is busier than GPU2; both prefill for the decode endpoint on GPU0. Over PCIe the
    // idle GPU2 wins; with GPU0-GPU1 NVLink-bridged the KV transfer saving outweighs the queue.
    const fleet: Fleet = {
      gpus: [1, 2, 0],
      specs: [{ role: "prefill", ...SPEC }, { role: "prefill", ...SPEC }, {
        role: "decode",
        ...SPEC,
      }],
      loads: [{ queuedPrefillTokens: 100 }, {}, {}],
    };
    const req = { promptTokens: 4096, outputTokens: 64 };
    deepEqual(picks(build(make, pcie, fleet), req, "prefill"), [1]);
    deepEqual(picks(build(make, bridged, fleet), req, "prefill"), [0]);
  });

  Deno.test(`[${kind}] decode pick flips with the topology alone`, () => {
    // One prefill endpoint on GPU0; decode on GPU1 (more KV resident) or GPU2. Over PCIe both
    // are equally far, so the emptier GPU2 wins; bridged, GPU1 is GPU0's NVLink peer.
    const fleet: Fleet = {
      gpus: [0, 1, 2],
      specs: [{ role: "prefill", ...SPEC }, { role: "decode", ...SPEC }, {
        role: "decode",
        ...SPEC,
      }],
      loads: [{}, { activeKvBlocks: 7000 }, {}],
    };
    const req = { promptTokens: 4096, outputTokens: 1 };
    deepEqual(picks(build(make, pcie, fleet), req, "decode"), [2]);
    deepEqual(picks(build(make, bridged, fleet), req, "decode"), [1]);
  });
}
