/**
 * GPU/NUMA topology: the probe behind `pdroute topology`, the document it writes, and the
 * mapping into the policy core (docs/TOPOLOGY.md). Callers import from here.
 */
export { validateTopology } from "./document.ts";
export type { CommandResult, CommandRunner, ProbeEnv, TopologyFs } from "./env.ts";
export { ToolOutputError, TopologyInputError } from "./errors.ts";
export { denoCommandRunner, denoFs, systemProbeEnv } from "./host.ts";
export { estimateLink, type LinkEstimate, PCIE_ESTIMATES } from "./links.ts";
export { loadPlacement, loadTopology, parseTopology, writeTopology } from "./load.ts";
export {
  applyPlacement,
  defaultPlacement,
  type EndpointGpu,
  type EndpointPlacement,
  type HostEndpoints,
  type LinkCost,
  placeEndpoints,
  placeFleet,
  type Placement,
  type PlacementOptions,
  type PolicyLinks,
  type SlabNode,
} from "./placement.ts";
export { probeTopology } from "./probe.ts";
export {
  TOPOLOGY_SCHEMA_VERSION,
  type TopologyDocument,
  type TopologyGpu,
  type TopologyLink,
  topologySchema,
  type TopologyStatus,
} from "./schema.ts";
export { renderTopologySummary } from "./summary.ts";
