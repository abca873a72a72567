/**
 * An AbortSignal that aborts when any parent aborts or after `timeoutMs`, held by strong
 * references until `dispose()`. Node's `AbortSignal.any()`/`AbortSignal.timeout()` and undici's
 * fetch keep only weak references, so an abort can be lost after a garbage collection
 * (nodejs/node#55428, nodejs/undici#4068): a hanging engine would then never time out.
 */
export function linkedSignal(
  parents: ReadonlyArray<AbortSignal | undefined>,
  timeoutMs?: number,
): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const cleanups: Array<() => void> = [];
  const dispose = () => {
    for (const cleanup of cleanups.splice(0)) cleanup();
  };
  const abort = (reason: unknown) => {
    if (!controller.signal.aborted) controller.abort(reason);
    dispose();
  };
  for (const parent of parents) {
    if (!parent) continue;
    if (parent.aborted) {
      abort(parent.reason);
      return { signal: controller.signal, dispose };
    }
    const onAbort = () => abort(parent.reason);
    parent.addEventListener("abort", onAbort, { once: true });
    cleanups.push(() => parent.removeEventListener("abort", onAbort));
  }
  if (timeoutMs !== undefined) {
    const timer = setTimeout(
      () => abort(new DOMException(`timed out after ${timeoutMs} ms`, "TimeoutError")),
      timeoutMs,
    );
    cleanups.push(() => clearTimeout(timer));
  }
  return { signal: controller.signal, dispose };
}

/** A promise that rejects with the signal's reason when it aborts (to race against calls that may miss it). */
export function whenAborted(signal: AbortSignal): { promise: Promise<never>; dispose(): void } {
  let onAbort: (() => void) | undefined;
  const promise = new Promise<never>((_, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
  });
  promise.catch(() => {});
  return {
    promise,
    dispose: () => {
      if (onAbort) signal.removeEventListener("abort", onAbort);
    },
  };
}
