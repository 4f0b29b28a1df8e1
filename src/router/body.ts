/** Reading a request body with a size limit, without trusting Content-Length alone. */

export class BodyTooLarge extends Error {
  override name = "BodyTooLarge";
}

export async function readBody(req: Request, limit: number): Promise<string> {
  const declared = Number(req.headers.get("content-length") ?? NaN);
  if (declared > limit) {
    await req.body?.cancel();
    throw new BodyTooLarge(
      `request body is ${declared} bytes; the limit is ${limit} (--max-body-bytes)`,
    );
  }
  if (!req.body) return "";
  const reader = req.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new BodyTooLarge(
        `request body exceeds ${limit} bytes (--max-body-bytes)`,
      );
    }
    parts.push(value);
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
