import { type KeyboardEvent, type SyntheticEvent, useEffect, useRef, useState } from "react";
import { useAction } from "./use-action.js";

/**
 * A setting of the open chat shown as one folded line (a `<details>`) that opens to a form: the
 * system prompt's, the Chat controls'. Escape (or the form's Cancel, `close`) folds it, focus back
 * on its line; `save` stores a value and folds it once stored, keeping it open with the service's
 * refusal (`error`) otherwise. Spread `details` on the `<details>` and put `summary` on its line.
 *
 * `draft` is what the form shows of `stored` (`draftOf`): folded, it follows what is stored (closing
 * forgets an unsaved one); open, it is the user's (what they type as it opens is kept). Opening
 * focuses the field `firstField` is put on.
 */
export function useFoldedEditor<T, D, F extends HTMLElement>(
  stored: T,
  draftOf: (value: T) => D,
  store: (value: T) => Promise<void>,
) {
  const [open, setOpen] = useState(false);
  const [draft, setDraft] = useState<D>(() => draftOf(stored));
  const firstField = useRef<F>(null);
  const toDraft = useRef(draftOf);
  toDraft.current = draftOf;
  useEffect(() => {
    if (!open) setDraft(toDraft.current(stored));
  }, [open, stored]);
  useEffect(() => {
    if (open) firstField.current?.focus();
  }, [open]);
  const { error, run } = useAction();
  const summary = useRef<HTMLElement>(null);
  const close = () => {
    setOpen(false);
    summary.current?.focus();
  };
  const save = async (value: T) => {
    if (await run(() => store(value))) close();
  };
  const details = {
    open,
    onToggle: (event: SyntheticEvent<HTMLDetailsElement>) => setOpen(event.currentTarget.open),
    onKeyDown: (event: KeyboardEvent<HTMLDetailsElement>) => {
      if (event.key !== "Escape" || !open) return;
      event.preventDefault();
      close();
    },
  };
  return { open, close, save, error, summary, details, draft, setDraft, firstField };
}
