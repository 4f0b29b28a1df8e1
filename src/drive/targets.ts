/**
 * What is behind a URL: a pdroute router (it answers /router/status with its endpoints, their
 * GPUs and pools, the policy and the P/D mode) or a single engine (anything else).
 */
import type { DriveTarget } from "./load.ts";

interface RouterStatus {
  policy: string;
  disaggregation: string;
  implementation: string;
  endpoints: { url: string; gpu: number; pool: string }[];
}

/** Layout name for a disaggregation mode (shared pool, dual pools, or per request). */
export function layoutOf(disaggregation: string): string {
  return disaggregation === "never"
    ? "shared"
    : disaggregation === "always"
    ? "dual"
    : "conditional";
}

export async function discoverTarget(url: string): Promise<DriveTarget> {
  const base = url.replace(/\/+$/, "");
  let status: RouterStatus | null = null;
  try {
    const res = await fetch(`${base}/router/status`, { signal: AbortSignal.timeout(5000) });
    if (res.ok) status = await res.json() as RouterStatus;
    else await res.body?.cancel();
  } catch (e) {
    throw new Error(`cannot reach ${base}: ${(e as Error).message}`);
  }
  if (status && Array.isArray(status.endpoints)) {
    return {
      url: base,
      engines: status.endpoints.map((e) => ({ url: e.url, gpu: e.gpu, pool: e.pool })),
      router: true,
      policy: status.policy,
      implementation: status.implementation,
      layout: layoutOf(status.disaggregation),
    };
  }
  return {
    url: base,
    engines: [{ url: base, gpu: 0, pool: "shared" }],
    router: false,
    policy: "direct",
    implementation: "none",
    layout: "shared",
  };
}
