/**
 * 64-bit SimHash (Charikar 2002; Manku et al. 2007 for near-duplicate web pages) over character
 * 3-grams of normalised text, so it works for Chinese (no spaces) and English alike. Returned as
 * two 32-bit halves to stay in fast integer arithmetic.
 */
export function simhash(text: string): [number, number] {
  const units = foldUnits(text);
  const length = units.length;
  const counts = new Int32Array(64);
  // 3-grams of folded UTF-16 units, hashed without building strings (this runs for every result).
  const last = Math.max(1, length - 2);
  for (let i = 0; i < last; i++) {
    let gram = Math.imul(units[i] ?? 0, 0x9e3779b1);
    gram = Math.imul(gram ^ (units[i + 1] ?? 0), 0x85ebca6b);
    gram = Math.imul(gram ^ (units[i + 2] ?? 0), 0xc2b2ae35);
    const high = mix(gram ^ 0x811c9dc5);
    const low = mix(gram ^ 0x5bd1e995);
    // Count set bits only (about half): a bit's SimHash weight is 2 * count - grams.
    for (let bits = high; bits !== 0; bits &= bits - 1) counts[31 - Math.clz32(bits & -bits)]! += 1;
    for (let bits = low; bits !== 0; bits &= bits - 1) counts[63 - Math.clz32(bits & -bits)]! += 1;
  }
  let high = 0;
  let low = 0;
  for (let bit = 0; bit < 32; bit++) {
    if (2 * counts[bit]! > last) high |= 1 << bit;
    if (2 * counts[bit + 32]! > last) low |= 1 << bit;
  }
  return [high >>> 0, low >>> 0];
}

/**
 * A cheap fold for fingerprints (not for the word filter): ASCII letters and digits lower-cased,
 * full-width forms to ASCII, runs of spaces, punctuation and symbols to one space.
 */
function foldUnits(text: string): Uint16Array {
  const out = new Uint16Array(text.length);
  let length = 0;
  let space = true;
  for (let i = 0; i < text.length; i++) {
    let code = text.charCodeAt(i);
    if (code >= 0xff01 && code <= 0xff5e) code -= 0xfee0;
    let keep: boolean;
    if (code < 0x80) {
      if (code >= 0x41 && code <= 0x5a) code += 32;
      keep = (code >= 0x61 && code <= 0x7a) || (code >= 0x30 && code <= 0x39);
    } else {
      // General punctuation, CJK symbols and punctuation, and no-break space separate words too.
      keep = !(
        code === 0xa0 ||
        (code >= 0x2000 && code <= 0x206f) ||
        (code >= 0x3000 && code <= 0x303f) ||
        (code >= 0xfe30 && code <= 0xfe4f)
      );
    }
    if (keep) {
      out[length++] = code;
      space = false;
    } else if (!space) {
      out[length++] = 0x20;
      space = true;
    }
  }
  if (length > 0 && out[length - 1] === 0x20) length -= 1;
  return out.subarray(0, length);
}

/** murmur3's fmix32 finaliser: spreads every input bit over the output. */
function mix(value: number): number {
  let hash = value;
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
