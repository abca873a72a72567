/** What a shutdown stops: an AbortController, an upstream call, a waiting loop's wake-up. */
export interface Abortable {
  abort(reason?: unknown): void;
}

const openUnder = new WeakMap<AbortSignal, Set<Abortable>>();

/** The targets open under `shutdown`, with the one listener that aborts them all. */
function openTargets(shutdown: AbortSignal): Set<Abortable> {
  const targets = openUnder.get(shutdown);
  if (targets) return targets;
  const created = new Set<Abortable>();
  shutdown.addEventListener(
    "abort",
    () => {
      for (const each of created) each.abort(shutdown.reason);
      created.clear();
    },
    { once: true },
  );
  openUnder.set(shutdown, created);
  return created;
}

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
  const targets = openTargets(shutdown);
  targets.add(target);
  return () => {
    targets.delete(target);
  };
}
