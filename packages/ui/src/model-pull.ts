import { useEffect, useSyncExternalStore } from "react";
import { type PullStep, pullStepText } from "./display-text.js";
import type { Messages } from "./i18n.js";
import { modelsChanged } from "./models-watch.js";
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

/*
 * The pulls started from the admin Models page, kept for the whole tab rather than the page: a pull
 * goes on while another admin tab or page of the app is shown, and the Models page, shown again,
 * shows it again with its progress and Cancel. Leaving the app (closing or reloading the tab)
 * cancels them, as the request closes; signing out stops them (app.tsx aborts every request).
 */

/** A pull of this tab: the model asked for, how far it has come (or what it came to), and whether it still runs. */
export interface PullRow {
  id: number;
  model: string;
  progress: PullProgress;
  running: boolean;
}

interface PullState {
  /** The pulls running, and those ended that no Models page has shown and left since. */
  rows: readonly PullRow[];
  /** How many pulls have ended in this tab: a Models page shown loads its models again on each. */
  ended: number;
}

let state: PullState = { rows: [], ended: 0 };
const listeners = new Set<() => void>();
/** Each running pull's Cancel. */
const controllers = new Map<number, AbortController>();
let lastId = 0;
/** How many Models pages show the pulls now (one; two for a moment in React's strict mode). */
let viewers = 0;

function update(change: (current: PullState) => PullState): void {
  state = change(state);
  for (const listener of listeners) listener();
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The tab's pulls as they stand now. */
export function currentPulls(): PullState {
  return state;
}

/** The tab's pulls as a page sees them: it renders again on each change, and shows them while mounted (`showPulls`). */
export function usePulls(): PullState {
  useEffect(showPulls, []);
  return useSyncExternalStore(subscribe, currentPulls);
}

/**
 * A page shows the pulls until the function returned is called. Each ended pull's outcome is shown
 * once: on the page shown when it ended, or else on the next one; once no page shows them, the ended
 * pulls are forgotten.
 */
export function showPulls(): () => void {
  viewers++;
  return () => {
    viewers--;
    // Looked at once the page's effects have run: React's strict mode hides a page and shows it
    // again at once, which is not leaving it.
    queueMicrotask(() => {
      if (viewers === 0)
        update((current) => ({ ...current, rows: current.rows.filter((row) => row.running) }));
    });
  };
}

/** How many ended pulls' outcomes are kept beside the running ones when another pull starts. */
export const KEPT_OUTCOMES = 5;

/**
 * Pulls `model`, with its own row (the ended pulls stay, the last KEPT_OUTCOMES of them, until
 * dismissed), reading its steps from `steps` (the request, stopped when its signal is aborted).
 * Resolves with what it came to.
 */
export async function startPull(
  model: string,
  steps: (signal: AbortSignal) => AsyncIterable<PullStep>,
): Promise<PullProgress> {
  const id = ++lastId;
  const controller = new AbortController();
  controllers.set(id, controller);
  update((current) => ({
    ...current,
    rows: [...keptRows(current.rows, KEPT_OUTCOMES), { id, model, progress: {}, running: true }],
  }));
  const set = (change: Partial<PullRow>, ended = 0) =>
    update((current) => ({
      rows: current.rows.map((row) => (row.id === id ? { ...row, ...change } : row)),
      ended: current.ended + ended,
    }));
  const outcome = await followPull(steps(controller.signal), controller.signal, (progress) =>
    set({ progress }),
  );
  controllers.delete(id);
  set({ progress: outcome, running: false }, 1);
  // A model installed: the chat offers it (though no Models page is shown now).
  if ("status" in outcome && outcome.status === "success") modelsChanged();
  return outcome;
}

/** The running rows, and the last `kept` ended ones, in their order. */
function keptRows(rows: readonly PullRow[], kept: number): PullRow[] {
  const ended = rows.filter((row) => !row.running).slice(-kept);
  return rows.filter((row) => row.running || ended.includes(row));
}

/** An ended pull's outcome, read and put away by the administrator (a running pull is cancelled instead). */
export function dismissPull(id: number): void {
  update((current) => ({ ...current, rows: current.rows.filter((row) => row.id !== id || row.running) }));
}

/** The administrator's Cancel of a running pull: its request is aborted, and its row says "Pull cancelled". */
export function cancelPull(id: number): void {
  controllers.get(id)?.abort();
}

/** Forgets every pull (a sign-out, which has stopped those running). */
export function forgetPulls(): void {
  update((current) => ({ ...current, rows: [] }));
}
