/**
 * The zeromq package, loaded on first use. It is a native addon (Deno needs --allow-ffi to load
 * it), so nothing that does not speak ZMQ may import it statically: `deno task simulate` runs
 * without --allow-ffi and imports the whole CLI, router and emulator included.
 */
import type * as Zmq from "zeromq";

export type ZmqModule = typeof Zmq;

let loading: Promise<ZmqModule> | null = null;

/** The zeromq module (one load per process, shared by every socket). */
export function loadZmq(): Promise<ZmqModule> {
  loading ??= import("zeromq");
  return loading;
}
