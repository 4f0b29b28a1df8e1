/**
 * The replica sync's NATS connection, kept up forever: the first attempt at start, then one
 * every `reconnectWaitMs` until the server answers; once connected, the client's own reconnect
 * (unlimited attempts, the same wait). A server that stops answering pings (a partition)
 * counts as gone after two missed pings. Every (re)connection calls `onJoined`; its state
 * (connecting, connected, disconnected, closed) and last error are what /router/status shows.
 */
import { connect, type Msg, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import { natsServer, type SyncConfig } from "./sync_config.ts";

export type SyncState = "connecting" | "connected" | "disconnected" | "closed";

export interface LinkHandlers {
  /** Connected, first time or again. */
  onJoined(): void;
  /** A message on the sync subject. */
  onMessage(m: Msg): void;
  /** A request on the prefix-snapshot subject: answer it. */
  onPrefixRequest(m: Msg): void;
}

export class NatsLink {
  state: SyncState = "connecting";
  /** The last connection problem (empty while connected). */
  lastError = "";
  /** Router clock of the last state change. */
  since = 0;
  #nc: NatsConnection | null = null;
  #subs: Subscription[] = [];
  #closing = false;
  readonly #stop = new AbortController();

  constructor(
    private readonly config: SyncConfig,
    private readonly name: string,
    private readonly subjects: { readonly messages: string; readonly prefixes: string },
    private readonly handlers: LinkHandlers,
    private readonly now: () => number,
  ) {}

  get connected(): boolean {
    return this.state === "connected";
  }

  /** The server's largest message (1 MiB until connected). */
  get maxPayload(): number {
    return this.#nc?.info?.max_payload ?? 1024 * 1024;
  }

  /** The first connection attempt; on failure keeps trying in the background. */
  async start(): Promise<void> {
    if (!(await this.#tryConnect())) void this.#connectLoop();
  }

  async #connectLoop(): Promise<void> {
    while (!this.#closing) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, this.config.reconnectWaitMs);
        this.#stop.signal.addEventListener("abort", () => {
          clearTimeout(t);
          resolve();
        }, { once: true });
      });
      if (this.#closing || await this.#tryConnect()) return;
    }
  }

  async #tryConnect(): Promise<boolean> {
    let nc: NatsConnection;
    try {
      nc = await connect({
        servers: natsServer(this.config.url),
        name: this.name,
        noEcho: true,
        reconnect: true,
        maxReconnectAttempts: -1,
        reconnectTimeWait: this.config.reconnectWaitMs,
        reconnectJitter: 0,
        timeout: Math.max(500, this.config.peerTimeoutMs),
        pingInterval: Math.max(500, this.config.peerTimeoutMs),
        maxPingOut: 2,
      });
    } catch (e) {
      this.#setState("disconnected", `cannot reach NATS at ${this.config.url}: ${msg(e)}`);
      return false;
    }
    if (this.#closing) {
      await within(nc.close(), 1000);
      return true;
    }
    this.#nc = nc;
    const h = this.handlers;
    this.#subs = [
      nc.subscribe(this.subjects.messages, { callback: (_err, m) => h.onMessage(m) }),
      nc.subscribe(this.subjects.prefixes, { callback: (_err, m) => h.onPrefixRequest(m) }),
    ];
    void this.#watch(nc);
    this.#setState("connected", "");
    h.onJoined();
    return true;
  }

  /** Follows the client's connection events until it closes. */
  async #watch(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === "disconnect" || s.type === "staleConnection") {
        this.#setState("disconnected", `lost NATS at ${this.config.url} (${s.type})`);
      } else if (s.type === "reconnect") {
        this.#setState("connected", "");
        this.handlers.onJoined();
      }
    }
    if (!this.#closing) {
      this.#nc = null;
      this.#setState("disconnected", `the NATS connection to ${this.config.url} closed`);
      void this.#connectLoop();
    }
  }

  #setState(state: SyncState, error: string): void {
    if (state !== this.state) {
      this.since = this.now();
      if (state !== "connected" && this.state === "connected") {
        console.error(`pdroute serve: replica sync: ${error}; routing on own state`);
      } else if (state === "connected" && this.state === "disconnected") {
        console.error(`pdroute serve: replica sync: connected to ${this.config.url} again`);
      }
    }
    this.state = state;
    this.lastError = error;
  }

  /** Publishes on the sync subject; false when NATS is away (nothing is queued). */
  publish(data: Uint8Array): boolean {
    const nc = this.#nc;
    if (!nc || !this.connected) return false;
    try {
      nc.publish(this.subjects.messages, data);
      return true;
    } catch (e) {
      this.lastError = `publish to NATS failed: ${msg(e)}`;
      return false;
    }
  }

  /** The first answer to a prefix-snapshot request, or null (no peer, or NATS away). */
  async requestPrefixes(data: Uint8Array, timeoutMs: number): Promise<Msg | null> {
    const nc = this.#nc;
    if (!nc || !this.connected) return null;
    try {
      return await nc.request(this.subjects.prefixes, data, { timeout: timeoutMs });
    } catch {
      return null;
    }
  }

  /** Sends `last` (if connected), then closes the connection; true if `last` was sent. */
  async close(last: Uint8Array | null): Promise<boolean> {
    if (this.#closing) return false;
    this.#closing = true;
    this.#stop.abort();
    const nc = this.#nc;
    const sent = nc !== null && last !== null && this.publish(last);
    if (sent) await within(nc.flush(), 500);
    for (const s of this.#subs) s.unsubscribe();
    if (nc) await within(nc.close(), 1000);
    this.#nc = null;
    this.state = "closed";
    return sent;
  }
}

function msg(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Waits for `p` (its failure ignored) or `ms`, whichever is first; leaves no timer behind. */
async function within(p: Promise<unknown>, ms: number): Promise<void> {
  let t: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    p.catch(() => {}),
    new Promise<void>((r) => t = setTimeout(r, ms)),
  ]);
  clearTimeout(t);
}
