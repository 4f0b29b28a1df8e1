/**
 * A real nats-server for tests (Debian's package; .ci/run installs it): found on PATH, at
 * /usr/sbin/nats-server, or at $PDROUTE_NATS_SERVER. Runs on a free loopback port, can be
 * killed and started again on the same port (a NATS restart), and a TCP proxy in front of it
 * can hold traffic back (a partitioned or slow replica).
 */

export function findNatsServer(): string | null {
  const candidates = [Deno.env.get("PDROUTE_NATS_SERVER"), "nats-server", "/usr/sbin/nats-server"];
  for (const c of candidates) {
    if (!c) continue;
    try {
      const out = new Deno.Command(c, { args: ["--version"], stdout: "null", stderr: "null" })
        .outputSync();
      if (out.success) return c;
    } catch {
      // not there
    }
  }
  return null;
}

export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function waitForPort(port: number, ms = 10_000): Promise<void> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  throw new Error(`nats-server did not listen on 127.0.0.1:${port} within ${ms} ms`);
}

/** One nats-server on a fixed free port; `stop()` SIGKILLs it, `start()` brings it back. */
export class NatsServer {
  readonly port = freePort();
  readonly url = `nats://127.0.0.1:${this.port}`;
  #child: Deno.ChildProcess | null = null;

  constructor(private readonly binary: string) {}

  async start(): Promise<void> {
    this.#child = new Deno.Command(this.binary, {
      args: ["-a", "127.0.0.1", "-p", String(this.port)],
      stdout: "null",
      stderr: "null",
    }).spawn();
    await waitForPort(this.port);
  }

  async stop(): Promise<void> {
    if (!this.#child) return;
    this.#child.kill("SIGKILL");
    await this.#child.status;
    this.#child = null;
  }
}

/**
 * A TCP proxy to `target`: `hold()` stops forwarding in both directions (bytes wait, as in a
 * partition), `delay(ms)` forwards each chunk that much later (a slow link), `release()`
 * forwards again.
 */
export class TcpProxy {
  readonly #listener: Deno.Listener;
  readonly port: number;
  #held: PromiseWithResolvers<void> | null = null;
  #delayMs = 0;
  readonly #conns: Deno.Conn[] = [];
  #closed = false;

  constructor(private readonly target: number) {
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.port = (this.#listener.addr as Deno.NetAddr).port;
    void this.#accept();
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  hold(): void {
    this.#held ??= Promise.withResolvers<void>();
  }

  delay(ms: number): void {
    this.#delayMs = ms;
  }

  release(): void {
    this.#delayMs = 0;
    this.#held?.resolve();
    this.#held = null;
  }

  async #accept(): Promise<void> {
    for await (const client of this.#listener) {
      let server: Deno.Conn;
      try {
        server = await Deno.connect({ hostname: "127.0.0.1", port: this.target });
      } catch {
        client.close();
        continue;
      }
      this.#conns.push(client, server);
      void this.#pump(client, server);
      void this.#pump(server, client);
    }
  }

  /** Resolves once traffic may pass. */
  async #gate(): Promise<void> {
    let held = this.#held;
    while (held !== null) {
      await held.promise;
      held = this.#held;
    }
  }

  async #pump(from: Deno.Conn, to: Deno.Conn): Promise<void> {
    const buf = new Uint8Array(64 * 1024);
    try {
      while (!this.#closed) {
        await this.#gate();
        const n = await from.read(buf);
        if (n === null) break;
        const chunk = buf.slice(0, n);
        if (this.#delayMs > 0) await new Promise((r) => setTimeout(r, this.#delayMs));
        await this.#gate();
        let off = 0;
        while (off < chunk.length) off += await to.write(chunk.subarray(off));
      }
    } catch {
      // either side closed
    }
    for (const c of [from, to]) {
      try {
        c.close();
      } catch {
        // already closed
      }
    }
  }

  close(): void {
    this.#closed = true;
    this.release();
    this.#listener.close();
    for (const c of this.#conns) {
      try {
        c.close();
      } catch {
        // already closed
      }
    }
  }
}
