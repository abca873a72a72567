import type { ProviderOutcome } from "@hearth/contracts";
import { type Logger, linkedSignal, whenAborted } from "@hearth/core";
import { ProviderCallError } from "../providers/provider-call-error.js";
import type { EngineAnswer, Freshness, ProviderHit } from "../providers/search-provider.js";
import { backoffDelayMs } from "./backoff.js";
import { ProviderSlot } from "./provider-slot.js";
import { shownError } from "./shown-error.js";

export { ProviderSlot };

export interface FanOutRequest {
  query: string;
  limit: number;
  freshness?: Freshness;
  deadlineMs: number;
  signal?: AbortSignal;
}

export interface ProviderAnswer {
  slot: ProviderSlot;
  hits: ProviderHit[];
}

export interface FanOutResult {
  answers: ProviderAnswer[];
  outcomes: ProviderOutcome[];
}

export interface FanOutHooks {
  /** Sees each outcome (metrics). */
  onOutcome?: (slot: ProviderSlot, outcome: ProviderOutcome) => void;
  /** Where each engine's failure is logged (see `logFailure`). */
  logger?: Pick<Logger, "warn">;
}

class Skip extends Error {
  constructor(
    readonly status: "rate-limited" | "skipped-by-breaker",
    message: string,
  ) {
    super(message);
  }
}

/**
 * Asks every slot at once under one deadline and answers by the deadline with whatever arrived.
 * An engine that is rate-limited (locally or by its own 429) or whose breaker is open is skipped,
 * never waited on.
 */
export async function fanOut(
  slots: ProviderSlot[],
  request: FanOutRequest,
  hooks: FanOutHooks = {},
): Promise<FanOutResult> {
  const report = (slot: ProviderSlot, outcome: ProviderOutcome, called: boolean) => {
    hooks.onOutcome?.(slot, outcome);
    // The standing state keeps the engine's last real call; a search its caller gave up on is not one.
    if (called && !request.signal?.aborted)
      slot.lastCall = {
        status: outcome.status,
        at: Date.now(),
        ...(outcome.error ? { error: outcome.error } : {}),
      };
    // A search its caller gave up on (a stopped chat turn) is no engine's failure.
    if (hooks.logger && !request.signal?.aborted) logFailure(hooks.logger, slot, outcome, called);
  };
  const started = performance.now();
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(new Error("deadline")), request.deadlineMs);
  const onCallerAbort = () => deadline.abort(new Error("cancelled"));
  request.signal?.addEventListener("abort", onCallerAbort, { once: true });
  const answers: ProviderAnswer[] = [];
  const outcomes: ProviderOutcome[] = new Array(slots.length);

  const tasks = slots.map(async (slot, index) => {
    const began = performance.now();
    const finish = (outcome: Omit<ProviderOutcome, "id" | "latencyMs">, called = true) => {
      if (outcomes[index]) return;
      outcomes[index] = {
        id: slot.provider.id,
        latencyMs: Math.round(performance.now() - began),
        ...outcome,
        ...(outcome.error ? { error: shownError(outcome.error, slot.config) } : {}),
        ...(outcome.warning ? { warning: shownError(outcome.warning, slot.config) } : {}),
      };
      report(slot, outcomes[index]!, called);
    };
    try {
      const { hits, warning } = await callSlot(slot, request, deadline.signal, started);
      // An adapter that ignored the abort and answered after the deadline is not counted.
      if (outcomes[index]) return;
      finish({ status: "ok", results: hits.length, ...(warning ? { warning } : {}) });
      answers.push({ slot, hits });
    } catch (error) {
      if (error instanceof Skip) finish({ status: error.status, error: error.message }, false);
      else if (deadline.signal.aborted)
        finish({ status: "timeout", error: `no answer within the ${request.deadlineMs} ms deadline` });
      else if (isTimeout(error))
        finish({ status: "timeout", error: `no answer within ${slot.config.timeoutMs} ms` });
      else if (error instanceof ProviderCallError && error.rateLimited)
        finish({ status: "rate-limited", error: error.message });
      else finish({ status: "error", error: error instanceof Error ? error.message : String(error) });
    }
  });

  const allDone = Promise.all(tasks);
  await Promise.race([
    allDone,
    new Promise<void>((resolve) =>
      deadline.signal.addEventListener("abort", () => resolve(), { once: true }),
    ),
  ]);
  clearTimeout(timer);
  request.signal?.removeEventListener("abort", onCallerAbort);
  if (!deadline.signal.aborted) deadline.abort(new Error("done"));
  // Tasks still out see the abort and record "timeout" synchronously in their catch; this is a microtask hop.
  await Promise.race([allDone, new Promise((resolve) => setImmediate(resolve))]);
  slots.forEach((slot, index) => {
    if (!outcomes[index]) {
      outcomes[index] = {
        id: slot.provider.id,
        status: "timeout",
        latencyMs: Math.round(performance.now() - started),
        error: `no answer within the ${request.deadlineMs} ms deadline`,
      };
      report(slot, outcomes[index]!, true);
    }
  });
  // Keep the answers in the configured order, so ranking does not depend on arrival order.
  answers.sort((a, b) => slots.indexOf(a.slot) - slots.indexOf(b.slot));
  return { answers, outcomes };
}

/**
 * Logs an engine's failed call (an error, a timeout, its own 429 with the cool-down it started), and
 * an answer with a warning when the warning is new for the engine: once per failure, never for a
 * call retried before it answered, nor for a query that skipped the engine (its rate limit, its
 * cool-down, its open breaker), so an engine that keeps refusing logs its refusal, not every query.
 * The error was redacted (`shownError`) like `providers[].error`.
 */
function logFailure(
  logger: Pick<Logger, "warn">,
  slot: ProviderSlot,
  outcome: ProviderOutcome,
  called: boolean,
): void {
  const provider = slot.provider.id;
  if (outcome.status === "ok") {
    if (outcome.warning !== undefined && outcome.warning !== slot.lastWarning)
      logger.warn({ provider, warning: outcome.warning }, "search engine answered in part");
    slot.lastWarning = outcome.warning;
    return;
  }
  if (!called) return;
  const { status, error } = outcome;
  if (status === "rate-limited") {
    const coolDownSeconds = Math.ceil(Math.max(0, slot.coolDownUntil - Date.now()) / 1000);
    logger.warn(
      { provider, status, error, coolDownSeconds },
      "search engine rate-limited; it is skipped until its cool-down ends",
    );
    return;
  }
  const breaker = slot.breaker.state === "open" ? { breaker: "open" } : {};
  logger.warn({ provider, status, error, ...breaker }, "search engine failed");
}

function isTimeout(error: unknown): boolean {
  return error instanceof DOMException && (error.name === "TimeoutError" || error.name === "AbortError");
}

async function callSlot(
  slot: ProviderSlot,
  request: FanOutRequest,
  deadline: AbortSignal,
  started: number,
): Promise<EngineAnswer> {
  const now = Date.now();
  if (slot.coolDownUntil > now) {
    throw new Skip(
      "rate-limited",
      `skipped: the engine asked to wait ${Math.ceil((slot.coolDownUntil - now) / 1000)} s more`,
    );
  }
  if (!slot.breaker.tryAcquire())
    throw new Skip("skipped-by-breaker", "skipped: circuit breaker open after repeated failures");
  const taken = await slot.take();
  if (taken !== true) {
    slot.breaker.release();
    throw new Skip(
      "rate-limited",
      taken === false
        ? `skipped: rate limit of ${slot.config.rateLimit.perSecond}/s reached`
        : `skipped: the engine asked to wait ${Math.ceil(taken / 1000)} s more`,
    );
  }
  for (let attempt = 0; ; attempt++) {
    try {
      const answer = await hedgedCall(slot, request, deadline);
      slot.breaker.onSuccess();
      slot.consecutiveRateLimits = 0;
      return answer;
    } catch (error) {
      if (error instanceof ProviderCallError && error.rateLimited) {
        // Honour Retry-After; without one, back off exponentially (with jitter) on repeated 429s.
        slot.consecutiveRateLimits += 1;
        slot.coolDown(
          error.retryAfterMs ?? backoffDelayMs(slot.consecutiveRateLimits - 1, 1000, 10 * 60_000),
        );
        slot.breaker.release();
        throw error;
      }
      if (deadline.aborted) {
        slot.breaker.release();
        throw error;
      }
      // A timed-out call already spent its time; unknown errors (a bug in an adapter) are worth one more try.
      const retryable = error instanceof ProviderCallError ? error.isRetryable : !isTimeout(error);
      const delay = backoffDelayMs(attempt, 50, 1000);
      const remaining = request.deadlineMs - (performance.now() - started);
      if (
        !retryable ||
        attempt >= slot.config.retries ||
        remaining < delay + 50 ||
        (await slot.take()) !== true
      ) {
        slot.breaker.onFailure();
        throw error;
      }
      await sleep(delay, deadline);
    }
  }
}

/** One call, and a second identical one if the first is still out after `hedgeAfterMs`; the first answer wins. */
async function hedgedCall(
  slot: ProviderSlot,
  request: FanOutRequest,
  deadline: AbortSignal,
): Promise<EngineAnswer> {
  const attempt = () => {
    const controller = new AbortController();
    const linked = linkedSignal([deadline, controller.signal], slot.config.timeoutMs);
    const aborted = whenAborted(linked.signal);
    // Raced against the abort too: an adapter (or fetch after a GC) may miss it.
    const promise = Promise.race([
      slot.provider.search({
        query: request.query,
        limit: request.limit,
        freshness: request.freshness,
        signal: linked.signal,
      }),
      aborted.promise,
    ]).finally(() => {
      aborted.dispose();
      linked.dispose();
    });
    return { controller, promise };
  };
  const first = attempt();
  const hedgeAfter = slot.config.hedgeAfterMs;
  if (hedgeAfter === undefined) return first.promise;
  let hedgeTimer: NodeJS.Timeout | undefined;
  const attempts = [first];
  try {
    return await new Promise<EngineAnswer>((resolve, reject) => {
      let pending = 1;
      let firstError: unknown;
      let settled = false;
      const settle = (promise: Promise<EngineAnswer>) =>
        promise.then(
          (answer) => {
            settled = true;
            resolve(answer);
          },
          (error: unknown) => {
            firstError ??= error;
            pending -= 1;
            if (pending === 0) reject(firstError);
          },
        );
      settle(first.promise);
      hedgeTimer = setTimeout(async () => {
        pending += 1;
        if ((await slot.take()) !== true || settled) {
          // No token for a second call (or the first answered meanwhile): wait on the first.
          pending -= 1;
          if (pending === 0) reject(firstError);
          return;
        }
        const second = attempt();
        attempts.push(second);
        settle(second.promise);
      }, hedgeAfter);
    });
  } finally {
    clearTimeout(hedgeTimer);
    for (const { controller } of attempts) controller.abort(new Error("hedge settled"));
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}
