import { type PullStep, pullStepText } from "./display-text.js";
import type { Messages } from "./i18n.js";
import { describeError } from "./use-action.js";

/** A pull as the admin Models page shows it: its last step, that it was cancelled, or why its request failed. */
export type PullProgress = PullStep | { cancelled: true } | { failed: unknown };

/**
 * Follows a pull's steps, showing each as it comes, and resolves with what the pull came to: its
 * last step (`success`, or the error the model service said), cancelled once `signal` is aborted
 * (the administrator's Cancel: a step still buffered is not shown after it, and the request's
 * failure is not an error), or failed when the request failed otherwise.
 */
export async function followPull(
  steps: AsyncIterable<PullStep>,
  signal: AbortSignal,
  show: (progress: PullProgress) => void,
): Promise<PullProgress> {
  let outcome: PullProgress = {};
  try {
    for await (const step of steps) {
      if (signal.aborted) break;
      outcome = step;
      show(outcome);
    }
  } catch (error) {
    if (!signal.aborted) outcome = { failed: error };
  }
  if (signal.aborted) outcome = { cancelled: true };
  show(outcome);
  return outcome;
}

/** What the pull's row says: its step in the reader's language, that it was cancelled, or its error. */
export function pullProgressText(t: Messages, progress: PullProgress): string {
  if ("cancelled" in progress) return t.pullStatuses.cancelled;
  if ("failed" in progress) return describeError(t, progress.failed);
  return pullStepText(t, progress) || "…";
}
