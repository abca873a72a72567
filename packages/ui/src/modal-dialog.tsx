import { type ReactNode, useEffect, useRef } from "react";
import { useI18n } from "./i18n.js";

/**
 * A modal dialog, the browser's own <dialog> opened with showModal(): open from the moment it is
 * rendered, the page behind it inert (focus stays inside), named by its heading. Escape, its Close
 * button or a click on its backdrop closes it; `onClose` runs then (the caller stops rendering it
 * and puts focus back where the dialog was opened from, if that is gone).
 */
export function ModalDialog(props: {
  /** The id of its heading, which names it. */
  titleId: string;
  title: ReactNode;
  className?: string;
  onClose(): void;
  children: ReactNode;
}) {
  const { t } = useI18n();
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    dialog.current?.showModal();
  }, []);
  return (
    // biome-ignore lint/a11y/useKeyWithClickEvents: Escape closes the dialog; a click on its backdrop is a mouse's way out
    <dialog
      ref={dialog}
      className={props.className ? `modal ${props.className}` : "modal"}
      aria-labelledby={props.titleId}
      onClose={props.onClose}
      onClick={(event) => {
        // A click on the backdrop (the dialog itself, outside its content) closes it.
        if (event.target === dialog.current) dialog.current.close();
      }}
    >
      <div className="modal-content">
        <header>
          <h2 id={props.titleId}>{props.title}</h2>
          <button type="button" onClick={() => dialog.current?.close()}>
            {t.close}
          </button>
        </header>
        {props.children}
      </div>
    </dialog>
  );
}
