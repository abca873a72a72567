import { useEffect } from "react";
import { useI18n } from "./i18n.js";

/** Where focus has nowhere to be: the control that had it went away, or nothing took it yet. */
export function focusLost(): boolean {
  return !document.activeElement || document.activeElement === document.body;
}

const FOCUSABLE = "a[href], button:not(:disabled), input:not(:disabled), select:not(:disabled), summary";

/**
 * For an action that removes the control it was started from (a Delete or Revoke button, its row
 * or the menu holding it): call before the action, and the function it gives back after. If focus
 * was lost meanwhile it goes to the first control left in the same row, else in the row after it,
 * else before it, else to `fallback` — not to the page's start, where a keyboard or screen reader
 * user would have to find their place again.
 */
export function keepFocusNear(control: Element, fallback?: () => HTMLElement | null | undefined): () => void {
  const row = control.closest("tr, li");
  const rows = [row, row?.nextElementSibling, row?.previousElementSibling];
  const restore = () => {
    if (!focusLost()) return;
    const near = rows
      .filter((candidate) => candidate?.isConnected)
      .map((candidate) => candidate!.querySelector<HTMLElement>(FOCUSABLE))
      .find(Boolean);
    (near ?? fallback?.())?.focus();
  };
  // After the page has drawn the change (React renders an update made after an await a little later).
  return () => requestAnimationFrame(() => setTimeout(restore));
}

/**
 * Focuses the first shown element matching `selector` once it is on the page (a page loaded on
 * demand, a chat waiting for its models), giving up after a few seconds or once something else
 * took focus.
 */
export function focusWhenShown(selector: string): void {
  const until = Date.now() + 5000;
  const from = document.activeElement;
  const attempt = () => {
    if (document.activeElement !== from && !focusLost()) return;
    const target = [...document.querySelectorAll<HTMLElement>(selector)].find(
      (element) => element.offsetParent !== null,
    );
    if (target) target.focus();
    else if (Date.now() < until) setTimeout(attempt, 50);
  };
  // Not at once: the page it belongs to is drawn after the event that asked for it.
  setTimeout(attempt, 0);
}

/** The id of each page's main heading: navigating to a page puts focus there. */
export const PAGE_HEADING = "page-heading";

/** The tab's title: the page's name (a conversation's title), then the app's. */
export function usePageTitle(page: string | undefined): void {
  const { t } = useI18n();
  useEffect(() => {
    document.title = page ? `${page} – ${t.appName}` : t.appName;
  }, [page, t]);
}
