/** A reference core with two identical shared endpoints (the load and peer book tests). */
import { createReferenceCore } from "../../src/core/reference/mod.ts";

export function twoEndpointCore(kvCapacityBlocks = 1000) {
  const core = createReferenceCore({ disaggregation: "never" }, { endpoints: 2 });
  core.setEndpointCount(2);
  for (const i of [0, 1]) {
    core.setEndpoint(i, {
      role: "both",
      prefillTokensPerMs: 10,
      decodeBaseMs: 10,
      decodeMsPerKvBlock: 0,
      kvCapacityBlocks,
    });
  }
  return core;
}
