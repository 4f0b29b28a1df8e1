/**
 * Defaults of the fields every policy config shares (src/core/policy_fields.ts): the fleet
 * facts a host normally overwrites from its fleet, and the reporting time model.
 */
export const COMMON_DEFAULTS = {
  disaggregation: "conditional",
  kvBlockTokens: 16,
  prefixBlockTokens: 512,
  kvBytesPerToken: 131072,
  links: {
    nvlink: { gbps: 300, latencyMs: 0.01 },
    pcie: { gbps: 25, latencyMs: 0.02 },
    crossNuma: { gbps: 16, latencyMs: 0.03 },
    network: { gbps: 12.5, latencyMs: 0.1 },
  },
  decodeKvUsageLimit: 0.95,
  ttftObservedWeight: 0.5,
  tpotObservedWeight: 1,
  telemetryMaxAgeMs: 1000,
  costMsPerDollarHour: 0,
  hostTierCredit: 0.75,
} as const;

/** The static P/D rule's defaults (policies without a P/D decider of their own). */
export const STATIC_PD_DEFAULTS = {
  localPrefillMaxTokens: 512,
  allowSpillover: true,
} as const;
