/**
 * Exponential backoff with "full jitter" (AWS Architecture Blog, "Exponential Backoff and Jitter"):
 * a random delay between half and all of base * 2^attempt, capped.
 */
export function backoffDelayMs(
  attempt: number,
  baseMs = 100,
  capMs = 30_000,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** attempt);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
