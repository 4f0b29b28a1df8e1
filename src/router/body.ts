/**
 * The request body: JSON only (415 otherwise, so a web page cannot send a "simple" cross-site
 * POST without a preflight), at most `maxBodyBytes` (413, without trusting Content-Length
 * alone), and read whole within `bodyTimeoutMs` (408: a client that declares more than it
 * sends does not hold a handler forever).
 */

export class BodyTooLarge extends Error {
  override name = "BodyTooLarge";
}

export class BodyTimeout extends Error {
  override name = "BodyTimeout";
}

export class NotJson extends Error {
  override name = "NotJson";
}

/** Throws `NotJson` unless the request's content-type is application/json (any parameters). */
export function requireJson(req: Request): void {
  const declared = req.headers.get("content-type");
  const type = declared?.split(";")[0].trim().toLowerCase();
  if (type === "application/json") return;
  throw new NotJson(
    `request body must be JSON with content-type: application/json; current value is ${
      declared === null ? "none" : `'${declared}'`
    }`,
  );
}

export async function readBody(req: Request, limit: number, timeoutMs: number): Promise<string> {
  const declared = Number(req.headers.get("content-length") ?? NaN);
  if (declared > limit) {
    await req.body?.cancel();
    throw new BodyTooLarge(
      `request body is ${declared} bytes; the limit is ${limit} (--max-body-bytes)`,
    );
  }
  if (!req.body) return "";
  const reader = req.body.getReader();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<null>((resolve) =>
    timer = setTimeout(() => resolve(null), timeoutMs)
  );
  const parts: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const next = await Promise.race([reader.read(), expired]);
      if (next === null) {
        void reader.cancel().catch(() => {});
        throw new BodyTimeout(
          `request body not received within ${timeoutMs} ms (${size} bytes of ${
            Number.isFinite(declared) ? declared : "?"
          } arrived; --body-timeout)`,
        );
      }
      if (next.done) break;
      size += next.value.byteLength;
      if (size > limit) {
        await reader.cancel();
        throw new BodyTooLarge(`request body exceeds ${limit} bytes (--max-body-bytes)`);
      }
      parts.push(next.value);
    }
  } finally {
    clearTimeout(timer);
  }
  if (parts.length === 1) return new TextDecoder().decode(parts[0]);
  const all = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.byteLength;
  }
  return new TextDecoder().decode(all);
}
