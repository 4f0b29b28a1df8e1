/** The tests' tokenizer (tests/fixtures/kv_tokenizer) and prompts in its vocabulary. */
export const TOKENIZER = new URL("../fixtures/kv_tokenizer", import.meta.url).pathname;

/** A prompt of `count` words of the test vocabulary (w0..w999), different for each `seed`. */
export function words(count: number, seed: number): string {
  return Array.from({ length: count }, (_, i) => `w${(seed * 37 + i * 11) % 1000}`).join(" ");
}
