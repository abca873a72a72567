import { type KeyboardEvent, type RefObject, useEffect, useRef } from "react";
import { useI18n } from "./i18n.js";

/**
 * A form field's state for assistive technology: described by its rule (`hint`), and, when the
 * form's error (`errorId`) is about it, invalid and described by that error too.
 */
export function describedField(wrong: boolean, hint: string | undefined, errorId: string) {
  const ids = [hint, wrong ? errorId : undefined].filter(Boolean).join(" ");
  return { "aria-invalid": wrong || undefined, "aria-describedby": ids || undefined };
}

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
 * Focus around an edit made in place of what it edits (a message, a memory, a prompt), while
 * `editing`: as it starts, its `field` takes focus, the caret at the end of its text; as it ends
 * (saved or cancelled, the form gone with the control that had focus), focus goes back to the
 * `editButton` it began from, not to the page's start.
 */
export function useEditFocus<Field extends HTMLInputElement | HTMLTextAreaElement>(editing: boolean) {
  const field = useRef<Field>(null);
  const editButton = useRef<HTMLButtonElement>(null);
  const wasEditing = useRef(false);
  useEffect(() => {
    if (editing) {
      const box = field.current;
      box?.focus();
      box?.setSelectionRange(box.value.length, box.value.length);
    } else if (wasEditing.current && focusLost()) editButton.current?.focus();
    wasEditing.current = editing;
  }, [editing]);
  return { field, editButton };
}

/**
 * Focus goes to the field a form's refusal is about, where its error is read out with it: the
 * element of id `fieldId` (undefined while no refusal names a field), or, for a group of choices (a
 * fieldset), its first control. Only as `fieldId` changes, not each time the form is drawn: a user
 * moving on while the error is still shown is not pulled back.
 */
export function useFocusInvalidField(fieldId: string | undefined): void {
  useEffect(() => {
    const field = fieldId ? document.getElementById(fieldId) : null;
    const target = field instanceof HTMLFieldSetElement ? field.querySelector<HTMLElement>(FOCUSABLE) : field;
    target?.focus();
  }, [fieldId]);
}

/** A key handler that cancels an edit, or closes a panel, on Escape, unless the key ends an input method's composition. */
export function cancelOnEscape(cancel: () => void) {
  return (event: KeyboardEvent) => {
    if (event.key !== "Escape" || event.nativeEvent.isComposing) return;
    event.preventDefault();
    cancel();
  };
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

/**
 * While `element` scrolls (its content wider or taller than it: a table or code on a narrow
 * screen), it takes focus and is a region named `label`, so that a keyboard can scroll it (the
 * arrow keys) and a screen reader says what it is; one that fits is no stop on the way. Gives back
 * a function that stops following its size.
 */
export function keyboardScrollable(element: HTMLElement, label: string): () => void {
  const update = () => {
    const scrolls = element.scrollWidth > element.clientWidth || element.scrollHeight > element.clientHeight;
    // Focused, it stays focusable: focus would drop to the page's start.
    if (scrolls || element === document.activeElement) {
      element.tabIndex = 0;
      element.setAttribute("role", "region");
      element.setAttribute("aria-label", label);
    } else {
      for (const name of ["tabindex", "role", "aria-label"]) element.removeAttribute(name);
    }
  };
  // Its own size (the screen's width) and its content's (rows loaded later) decide.
  const observer = new ResizeObserver(update);
  observer.observe(element);
  if (element.firstElementChild) observer.observe(element.firstElementChild);
  update();
  return () => observer.disconnect();
}

/** keyboardScrollable for the element of `ref`, named `label`, while it is shown. */
export function useKeyboardScrollable(ref: RefObject<HTMLElement | null>, label: string): void {
  useEffect(() => (ref.current ? keyboardScrollable(ref.current, label) : undefined), [ref, label]);
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
