/**
 * The disaggregated prefill -> decode handoff, exactly as vLLM's NixlConnector proxy
 * (examples/online_serving/disaggregated_serving) does it:
 *
 * 1. to the prefill instance: a copy of the request with `max_tokens: 1` (and
 *    `max_completion_tokens: 1` if the request has it), `stream: false`, no `stream_options`,
 *    no `min_tokens`, and `kv_transfer_params` asking for a remote decode; the same
 *    `X-Request-Id` goes to both instances;
 * 2. from its JSON answer, `kv_transfer_params` (where the KV blocks wait to be pulled);
 * 3. to the decode instance: the original request with those `kv_transfer_params` added.
 */
import type { RequestBody } from "../openai/request.ts";

/** What the prefill request asks of the prefill instance. */
export const PREFILL_KV_TRANSFER_PARAMS = {
  do_remote_decode: true,
  do_remote_prefill: false,
  remote_engine_id: null,
  remote_block_ids: null,
  remote_host: null,
  remote_port: null,
} as const;

export function prefillBody(original: RequestBody): Record<string, unknown> {
  const body: Record<string, unknown> = { ...original };
  body.max_tokens = 1;
  if ("max_completion_tokens" in body) body.max_completion_tokens = 1;
  body.stream = false;
  delete body.stream_options;
  delete body.min_tokens;
  body.kv_transfer_params = { ...PREFILL_KV_TRANSFER_PARAMS };
  return body;
}

/** The `kv_transfer_params` of a prefill answer, or an explanation of why there are none. */
export function transferParamsOf(answer: unknown): Record<string, unknown> | string {
  if (typeof answer !== "object" || answer === null) {
    return "the prefill answer is not a JSON object";
  }
  const params = (answer as { kv_transfer_params?: unknown }).kv_transfer_params;
  if (typeof params !== "object" || params === null || Array.isArray(params)) {
    return "the prefill answer carries no kv_transfer_params (is the engine started with " +
      "--kv-transfer-config and a KV connector such as NixlConnector?)";
  }
  return params as Record<string, unknown>;
}

export function decodeBody(
  original: RequestBody,
  kvTransferParams: Record<string, unknown>,
): Record<string, unknown> {
  return { ...original, kv_transfer_params: kvTransferParams };
}
