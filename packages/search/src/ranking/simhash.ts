/**
 * 64-bit SimHash (Charikar 2002; Manku et al. 2007 for near-duplicate web pages) over character
 * 3-grams of normalised text, so it works for Chinese (no spaces) and English alike. Returned as
 * two 32-bit halves to stay in fast integer arithmetic.
 */
export function simhash(text: string): [number, number] {
  const normalised = text
    .normalize("NFKC")
    .toLowerCase()
    .replace(/[\s\p{P}\p{S}]+/gu, " ")
    .trim();
  const weights = new Int32Array(64);
  const characters = Array.from(normalised);
  const n = characters.length < 3 ? 1 : characters.length - 2;
  for (let i = 0; i < n; i++) {
    const gram = characters.slice(i, i + 3).join("");
    const high = fnv1a(gram, 0x811c9dc5);
    const low = fnv1a(gram, 0x01000193 ^ 0x5bd1e995);
    for (let bit = 0; bit < 32; bit++) {
      weights[bit]! += (high >>> bit) & 1 ? 1 : -1;
      weights[bit + 32]! += (low >>> bit) & 1 ? 1 : -1;
    }
  }
  let high = 0;
  let low = 0;
  for (let bit = 0; bit < 32; bit++) {
    if (weights[bit]! > 0) high |= 1 << bit;
    if (weights[bit + 32]! > 0) low |= 1 << bit;
  }
  return [high >>> 0, low >>> 0];
}

function fnv1a(text: string, seed: number): number {
  let hash = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  // A final avalanche (murmur3 fmix32) so that similar grams do not share bits.
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/** Number of differing bits between two SimHashes. */
export function hammingDistance(a: [number, number], b: [number, number]): number {
  return popcount32(a[0] ^ b[0]) + popcount32(a[1] ^ b[1]);
}

function popcount32(value: number): number {
  let v = value >>> 0;
  v -= (v >>> 1) & 0x55555555;
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}
