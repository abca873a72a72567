/** The first wait before the models list is read again while it says the model service is down. */
const FIRST_RETRY_MS = 5000;
/** The longest wait between two reads while it stays down. */
const LONGEST_RETRY_MS = 10_000;

/** The wait before retry number `attempt` (from 0): 5 s, then half as long again each time, up to 10 s. */
export function modelsRetryDelayMs(attempt: number): number {
  return Math.min(LONGEST_RETRY_MS, Math.round(FIRST_RETRY_MS * 1.5 ** attempt));
}

/** The window event that says the models changed (a pull ended, a model deleted, its access changed). */
export const MODELS_CHANGED = "hearth:models-changed";

/**
 * Tells the app that the models, or who may use them, have changed (the admin Models page): the chat's
 * picker and its no-model card read the models list again.
 */
export function modelsChanged(): void {
  // Outside a browser (the unit tests) there is no window to tell.
  if (typeof dispatchEvent === "function") dispatchEvent(new Event(MODELS_CHANGED));
}

/**
 * Reads the models list now, and while `read` says the model service cannot be reached (false, or
 * it failed: the web service cannot be reached either) reads it again on its own (modelsRetryDelayMs),
 * and at once on `wake` (the browser went online), until it can be. `refresh` reads it again
 * whatever the last read said (the models changed, or may have: the window shown again), unless a
 * read began less than `maxAgeMs` ago; asked during a read, it reads once more after it. `stop`
 * ends it.
 */
export function watchModels(read: () => Promise<boolean>): {
  wake(): void;
  refresh(maxAgeMs?: number): void;
  stop(): void;
} {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let attempt = 0;
  let reading = false;
  let again = false;
  let stopped = false;
  let lastReadAt = Number.NEGATIVE_INFINITY;
  const readNow = () => {
    clearTimeout(timer);
    timer = undefined;
    if (stopped) return;
    if (reading) {
      again = true;
      return;
    }
    reading = true;
    lastReadAt = Date.now();
    void read()
      .catch(() => false)
      .then((reached) => {
        reading = false;
        if (stopped) return;
        if (again) {
          again = false;
          readNow();
          return;
        }
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
    // Only while waiting to read again: a reachable model service is not asked on every wake.
    wake: () => {
      if (timer !== undefined) readNow();
    },
    refresh: (maxAgeMs = 0) => {
      if (maxAgeMs > 0 && Date.now() - lastReadAt < maxAgeMs) return;
      readNow();
    },
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
