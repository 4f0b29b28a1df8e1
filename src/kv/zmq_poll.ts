/**
 * Receiving from a zeromq socket by polling from JS, never through zeromq's native waits.
 *
 * Under Deno (2.9, zeromq 6.8.0) zeromq's native poller is not dependable: a pending
 * `receive()` sometimes misses its wake-up and waits forever with messages queued, and a
 * socket with `receiveTimeout` > 0 crashes the process (its native timer); both measured here
 * with loopback sockets. A socket made with `receiveTimeout: 0` never enters the native poller
 * to receive: `receive()` answers at once with a message or EAGAIN (sends on PUB, ROUTER and a
 * connected DEALER do not wait either). This helper
 * turns that into a wait: try, and when nothing is queued sleep `minMs`, doubling up to `maxMs`
 * while idle (so an idle socket costs a timer every `maxMs`, and a message waits at most that).
 */
import type * as zmq from "zeromq";

/** Options a polled socket must be created with. */
export const POLLED = { linger: 0, receiveTimeout: 0 } as const;

export interface PollOptions {
  readonly minMs?: number;
  readonly maxMs?: number;
}

/**
 * The next message of `sock`, or null once `stopped()` (checked between tries) or the socket
 * closes. Errors other than "nothing queued" are thrown.
 */
export async function pollReceive(
  sock: zmq.Readable & { readonly closed: boolean },
  stopped: () => boolean,
  options: PollOptions = {},
): Promise<Buffer[] | null> {
  const minMs = options.minMs ?? 1;
  const maxMs = options.maxMs ?? 10;
  let wait = minMs;
  while (!stopped() && !sock.closed) {
    try {
      return await sock.receive();
    } catch (e) {
      if (stopped() || sock.closed) return null;
      if ((e as { code?: string }).code !== "EAGAIN") throw e;
    }
    await new Promise((r) => setTimeout(r, wait));
    wait = Math.min(maxMs, wait * 2);
  }
  return null;
}
