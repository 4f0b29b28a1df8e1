/** A workload given as an explicit list of requests (scenarios, tests). */
import type { RequestSource, SimRequest } from "./request.ts";

export function listSource(requests: readonly SimRequest[], description: string): RequestSource {
  let done = false;
  return {
    description,
    next(): Promise<SimRequest[]> {
      const batch = done ? [] : [...requests];
      done = true;
      return Promise.resolve(batch);
    },
  };
}
