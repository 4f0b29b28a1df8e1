/**
 * Whether a KV event publisher is there: a plain TCP connect to its `tcp://HOST:PORT`, closed at
 * once (a ZMQ publisher drops a peer that never handshakes).
 *
 * Why not zeromq's socket monitor (`socket.events`): under Deno 2.9 with zeromq 6.8.0 reading it
 * crashed the process with SIGSEGV in `zmq::Observer::GetClosed` (gdb) in about one run in four
 * of tests/kv/subscriber_test.ts; with the monitor unused, 0 in 20. The subscriber's correctness
 * does not rest on this probe: sequence numbers catch every lost batch (subscriber.ts); the probe
 * only says early that nothing is arriving because the publisher is gone.
 */

/** Resolves true when `endpoint` (tcp://HOST:PORT) accepts a TCP connection within `timeoutMs`. */
export async function reachable(endpoint: string, timeoutMs: number): Promise<boolean> {
  const m = /^tcp:\/\/(.+):(\d+)$/.exec(endpoint);
  if (!m) return false;
  const hostname = m[1].replace(/^\[(.*)\]$/, "$1");
  const port = Number(m[2]);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const connecting = Deno.connect({ hostname, port });
  try {
    const conn = await Promise.race([
      connecting,
      new Promise<null>((r) => timer = setTimeout(() => r(null), timeoutMs)),
    ]);
    if (conn === null) {
      // Too slow: close it if it ever connects.
      connecting.then((c) => c.close(), () => {});
      return false;
    }
    conn.close();
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
