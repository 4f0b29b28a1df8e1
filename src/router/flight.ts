/**
 * The router's per-request types: a client request in flight (`Flight`), an engine's answer as
 * far as the router read it (`Reply`), what a stage hands back (`Served`), and the two ways an
 * engine call fails before anything reached the client.
 */
import type { Api, RequestBody } from "../openai/request.ts";
import type { Endpoint } from "./endpoint.ts";
import type { Routed } from "./load_book.ts";

/** One client request in the router. */
export interface Flight {
  readonly id: string;
  readonly api: Api;
  readonly path: string;
  readonly body: RequestBody;
  /** The body as received: forwarded as it is when the engine gets the request unchanged. */
  readonly raw: string;
  readonly stream: boolean;
  readonly promptTokens: number;
  readonly blocks: number[];
  readonly maxTokens: number | null;
  /** Router clock at arrival. */
  readonly arrival: number;
  readonly signal: AbortSignal;
  /** Settles when the response has been fully sent (or the connection failed). */
  readonly completed: Promise<void> | null;
  routed: Routed | null;
  queueMs: number;
  migrations: number;
  /** Aborts the current engine call (migration, timeout, client gone, shutdown). */
  abort: AbortController | null;
  /** Set when a migration aborted the decode call: send it again to `routed.decode`. */
  moving: boolean;
  /** Prompt tokens the prefill engine had cached (its usage), when disaggregated. */
  prefillCached: number | null;
  /** The endpoint of the engine call in progress (before output), else -1. */
  calling: number;
}

/**
 * An engine's answer as far as the router read it before deciding anything: the whole body
 * (`text`: JSON answers and errors), or for a stream the first chunk and the rest to come.
 */
export interface Reply {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly stream: { reader: ReadableStreamDefaultReader<Uint8Array>; first: Uint8Array } | null;
  /** Passthrough relay: the engine's body, unread, to hand to the client as it is. */
  readonly body: ReadableStream<Uint8Array> | null;
}

/** A response for the client; `handedOff` means a relay stream now owns the flight. */
export interface Served {
  readonly response: Response;
  readonly handedOff: boolean;
}

/** Why a call was aborted: its engine was marked unhealthy by another request's failure. */
export class UnhealthyEndpoint extends Error {
  override name = "UnhealthyEndpoint";
  constructor(url: string, reason: string) {
    super(`${url} was marked unhealthy while this call waited (${reason})`);
  }
}

/** An attempt that failed before anything reached the client. */
export class AttemptFailed {
  constructor(readonly endpoint: Endpoint, readonly reason: string, readonly timeout = false) {}
}
