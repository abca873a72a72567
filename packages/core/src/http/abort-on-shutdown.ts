/** What a shutdown stops: an AbortController, an upstream call, a waiting loop's wake-up. */
export interface Abortable {
  abort(reason?: unknown): void;
}

const openUnder = new WeakMap<AbortSignal, Set<Abortable>>();

/**
 * Aborts `target` when `shutdown` fires (at once if it already has). A service holds many requests
 * open at once: one listener per shutdown signal, however many are open, spares an EventTarget
 * listener added and removed on every request. Returns the function that forgets `target`; call it
 * when the request ends.
 */
export function abortOnShutdown(shutdown: AbortSignal, target: Abortable): () => void {
  if (shutdown.aborted) {
    target.abort(shutdown.reason);
    return () => {};
  }
  let open = openUnder.get(shutdown);
  if (!open) {
    const targets = new Set<Abortable>();
    open = targets;
    openUnder.set(shutdown, targets);
    shutdown.addEventListener(
      "abort",
      () => {
        for (const each of targets) each.abort(shutdown.reason);
        targets.clear();
      },
      { once: true },
    );
  }
  const targets = open;
  targets.add(target);
  return () => {
    targets.delete(target);
  };
}
