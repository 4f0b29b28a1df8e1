/**
 * The KV handoff, as NixlConnector does it between two vLLM instances. A prefill-only request's
 * KV is held here until its decode engine pulls it (or `kvHoldTimeoutMs`); a decode request
 * waits (parked) for KV room and a seat, pulls the KV from the instance its
 * `kv_transfer_params` name (`POST /emulator/kv/pull`, the stand-in for the NIXL read), waits
 * the modelled transfer time, then decodes; a failed pull recomputes the prompt locally
 * (vLLM's `kv_load_failure_policy: recompute`).
 */
import type { Job } from "../engine_model/job.ts";
import { KV_BLOCK_TOKENS } from "../engine_model/setup.ts";
import { errorResponse } from "../openai/errors.ts";
import type { Live } from "./live.ts";
import type { EmulatorState } from "./state.ts";

/** Starts the pulls of parked decode requests, in order, while KV room and seats last. */
export function unpark(s: EmulatorState): void {
  const e = s.engine;
  while (s.parked.length > 0) {
    const live = s.parked[0];
    if (live.done) {
      s.parked.shift();
      continue;
    }
    const need = live.job.request.promptTokens + 1;
    const seats = e.running.size + e.prefilling.length + s.pulling;
    if (e.waiting.length > 0 || seats >= e.config.maxNumSeqs) return;
    if (e.kvTokens + s.reservedKv + need > e.kvCapacityTokens) return;
    s.parked.shift();
    live.reservedKv = need;
    s.reservedKv += need;
    s.pulling++;
    startPull(s, live, live.remote!);
  }
}

/** The pull is over (enqueued, failed or abandoned): the engine accounts the KV from here. */
export function unreserve(s: EmulatorState, live: Live): void {
  if (live.reservedKv === 0) return;
  s.reservedKv -= live.reservedKv;
  s.pulling--;
  live.reservedKv = 0;
}

function startPull(s: EmulatorState, live: Live, kv: Record<string, unknown>): void {
  const url = `http://${kv.remote_host}:${kv.remote_port}/emulator/kv/pull`;
  const tokens = live.job.request.promptTokens;
  const pull = fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      remote_engine_id: kv.remote_engine_id,
      remote_block_ids: kv.remote_block_ids,
    }),
  }).then(async (res) => {
    await res.body?.cancel();
    return res.ok;
  }, () => false);
  void pull.then((ok) => {
    if (live.done) return;
    if (!ok) {
      // vLLM's kv_load_failure_policy "recompute": prefill the prompt here instead.
      s.metrics.kvPullFailures.inc(s.metrics.labels);
      live.job.phase = "full";
      live.job.prefillRemaining = tokens;
      unreserve(s, live);
      s.enqueue(live.job);
      return;
    }
    const link = s.options.kvLink;
    const ms = tokens * s.setup.time.kvBytesPerToken / (link.gbps * 1e6) + link.latencyMs;
    live.transferTimer = setTimeout(() => {
      live.transferTimer = undefined;
      unreserve(s, live);
      if (!live.done) s.enqueue(live.job);
    }, ms / s.options.speed);
  });
}

/** `POST /emulator/kv/pull`: another instance takes the KV held here. */
export async function pullHandler(s: EmulatorState, req: Request): Promise<Response> {
  let body: { remote_engine_id?: unknown; remote_block_ids?: unknown };
  try {
    body = await req.json();
  } catch {
    return errorResponse(400, "kv pull: body is not JSON", "invalid_request_error");
  }
  const ids = body.remote_block_ids;
  const key = Array.isArray(ids) && ids.length > 0 ? `${ids[0]}:${ids.length}` : "";
  const held = s.held.get(key);
  if (body.remote_engine_id !== s.engineId || !held) {
    return errorResponse(
      404,
      `kv pull: no KV held for engine ${JSON.stringify(body.remote_engine_id)} blocks ${key}`,
      "not_found_error",
    );
  }
  releaseHeld(s, key);
  return Response.json({ ok: true, tokens: held.job.request.promptTokens });
}

function releaseHeld(s: EmulatorState, key: string): void {
  const held = s.held.get(key);
  if (!held) return;
  clearTimeout(held.timer);
  s.held.delete(key);
  s.engine.releaseKv(held.job, s.catchUp());
  s.flush();
}

/** Holds a finished prefill's KV for a pull; returns the `kv_transfer_params` to answer with. */
export function holdKv(s: EmulatorState, job: Job): Record<string, unknown> {
  const blocks = Math.ceil(job.request.promptTokens / KV_BLOCK_TOKENS);
  const blockIds = Array.from({ length: blocks }, (_, i) => s.nextBlock + i);
  s.nextBlock += blocks;
  const key = `${blockIds[0]}:${blocks}`;
  const timer = setTimeout(() => releaseHeld(s, key), s.options.kvHoldTimeoutMs);
  s.held.set(key, { job, timer });
  return {
    do_remote_prefill: true,
    do_remote_decode: false,
    remote_block_ids: blockIds,
    remote_engine_id: s.engineId,
    remote_host: s.options.host,
    remote_port: s.port,
    tp_size: s.options.tensorParallel,
  };
}

/** What is wrong with a decode request's `kv_transfer_params`, or null. */
export function checkRemoteParams(kv: Record<string, unknown>): string | null {
  const need = (field: string, ok: boolean, what: string) =>
    ok
      ? null
      : `kv_transfer_params.${field} must be ${what} for a remote-prefill (decode) request: ` +
        `current value is ${JSON.stringify(kv[field])}`;
  const ids = kv.remote_block_ids;
  return need("remote_engine_id", typeof kv.remote_engine_id === "string", "a string") ??
    need(
      "remote_block_ids",
      Array.isArray(ids) && ids.length > 0 && ids.every((x) => Number.isInteger(x)),
      "a non-empty array of block ids",
    ) ??
    need("remote_host", typeof kv.remote_host === "string", "a host name") ??
    need("remote_port", Number.isInteger(kv.remote_port), "a port number");
}
