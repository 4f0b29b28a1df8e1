/**
 * Our own identity of a KV block: a hash of its token ids chained to its parent block's hash,
 * so two blocks share it exactly when the whole token prefix up to their end is the same (as
 * vLLM's block hashes chain, but reproducible: vLLM seeds its hashes per process). Two
 * independent 32-bit FNV-1a lanes make a 53-bit integer (a safe JS number, a fast Map key).
 */
const OFFSET_A = 0x811c9dc5;
const OFFSET_B = 0x6b43a9b5;
const PRIME = 0x01000193;
const LOW_BITS = 0x200000; // 2^21

/** The root's hash (the parent of a prompt's first block). */
export const ROOT_HASH = 0;

/** The hash of the block holding `tokens[start, end)` after a block hashed `parent`. */
export function chainHash(
  parent: number,
  tokens: ArrayLike<number>,
  start = 0,
  end = tokens.length,
): number {
  let a = OFFSET_A;
  let b = OFFSET_B;
  const mix = (v: number) => {
    for (let k = 0; k < 4; k++) {
      const byte = (v >>> (8 * k)) & 0xff;
      a = Math.imul(a ^ byte, PRIME);
      b = Math.imul(b ^ byte ^ 0x5a, PRIME);
    }
  };
  mix(parent % 0x100000000);
  mix(Math.floor(parent / 0x100000000));
  for (let i = start; i < end; i++) mix(tokens[i]);
  return (a >>> 0) * LOW_BITS + ((b >>> 0) % LOW_BITS);
}

/** The chained hashes of the full `blockSize`-token blocks of `tokens`. */
export function blockHashes(
  tokens: ArrayLike<number>,
  blockSize: number,
  maxBlocks = Infinity,
): number[] {
  const count = Math.min(Math.floor(tokens.length / blockSize), maxBlocks);
  const out: number[] = new Array(count);
  let h = ROOT_HASH;
  for (let i = 0; i < count; i++) {
    h = chainHash(h, tokens, i * blockSize, (i + 1) * blockSize);
    out[i] = h;
  }
  return out;
}
