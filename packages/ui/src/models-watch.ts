/** The first wait before the models list is read again while it says the model service is down. */
const FIRST_RETRY_MS = 5000;
/** The longest wait between two reads while it stays down. */
const LONGEST_RETRY_MS = 10_000;

/** The wait before retry number `attempt` (from 0): 5 s, then half as long again each time, up to 10 s. */
export function modelsRetryDelayMs(attempt: number): number {
  return Math.min(LONGEST_RETRY_MS, Math.round(FIRST_RETRY_MS * 1.5 ** attempt));
}

/**
 * Reads the models list now, and while `read` says the model service cannot be reached (false, or
 * it failed: the web service cannot be reached either) reads it again on its own (modelsRetryDelayMs),
 * and at once on `wake` (the window got focus, the browser went online), until it can be. `stop`
 * ends it.
 */
export function watchModels(read: () => Promise<boolean>): { wake(): void; stop(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let attempt = 0;
  let reading = false;
  let stopped = false;
  const readNow = () => {
    clearTimeout(timer);
    timer = undefined;
    if (reading || stopped) return;
    reading = true;
    void read()
      .catch(() => false)
      .then((reached) => {
        reading = false;
        if (stopped) return;
        if (reached) {
          attempt = 0;
          return;
        }
        timer = setTimeout(readNow, modelsRetryDelayMs(attempt));
        attempt += 1;
      });
  };
  readNow();
  return {
    // Only while waiting to read again: a reachable model service is not asked on every focus.
    wake: () => {
      if (timer !== undefined) readNow();
    },
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
