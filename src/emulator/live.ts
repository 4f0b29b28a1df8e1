/**
 * The emulator's per-request types: a request inside the emulator (`Live`), KV held for a
 * remote decode (`Held`), what tests may read back (`ReceivedRequest`), and the deliberate
 * failures the fault knobs produce.
 */
import type { Job } from "../engine_model/job.ts";
import type { Api } from "../openai/request.ts";
import type { ChunkWriter } from "./responses.ts";

/** A completion request as it arrived (for tests that check what the router sent). */
export interface ReceivedRequest {
  readonly path: string;
  readonly requestId: string | null;
  readonly body: Record<string, unknown>;
}

export type Mode = "stream" | "json" | "prefill";

export interface Live {
  readonly id: string;
  readonly api: Api;
  readonly job: Job;
  readonly mode: Mode;
  readonly arrivalWall: number;
  readonly writer: ChunkWriter | null;
  /** Cut the response after this many tokens (truncation fault), else Infinity. */
  readonly truncateAfter: number;
  sent: number;
  firstWall: number;
  lastWall: number;
  done: boolean;
  controller: ReadableStreamDefaultController<Uint8Array> | null;
  resolve: ((r: Response) => void) | null;
  /** Pending KV transfer before a decode job can be enqueued. */
  transferTimer: ReturnType<typeof setTimeout> | undefined;
  /** Decode requests: the remote KV to pull, and KV tokens reserved here while pulling. */
  remote: Record<string, unknown> | null;
  reservedKv: number;
}

/** A prefill's KV, held for its decode engine to pull. */
export interface Held {
  readonly job: Job;
  readonly timer: ReturnType<typeof setTimeout>;
}

/** An error the emulator raises on purpose (a fault knob); not worth a log line. */
export class EmulatedFault extends Error {
  override name = "EmulatedFault";
}

/** A response whose body fails at once: the client sees the connection break. */
export function brokenResponse(): Response {
  return new Response(
    new ReadableStream({ start: (c) => c.error(new EmulatedFault("emulated engine failure")) }),
  );
}
