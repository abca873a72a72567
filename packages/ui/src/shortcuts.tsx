import { Fragment } from "react";
import { useI18n } from "./i18n.js";
import { ModalDialog } from "./modal-dialog.js";

/** What a keyboard shortcut of the chat does (ChatGPT's keys). */
export type Shortcut = "new-chat" | "focus-message" | "copy-last-answer" | "show-shortcuts";

/** A key press as a document's keydown event has it. */
export interface ShortcutPress {
  key: string;
  code: string;
  ctrlKey: boolean;
  metaKey: boolean;
  shiftKey: boolean;
  altKey: boolean;
  isComposing?: boolean;
}

/** Whether the page runs on a Mac, where ⌘ is what Ctrl is elsewhere. */
export const onMac = () => /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);

/**
 * The shortcut a key press is, if any: Ctrl+Shift+O a new chat, Shift+Esc the message box,
 * Ctrl+Shift+C a copy of the last answer, Ctrl+/ the list of shortcuts (⌘ for Ctrl on a Mac). Keys
 * are read by their place (`code`) where a layout or Shift changes the character (`?` for `/`).
 */
/**
 * Whether a modal dialog is open (a confirmation, the passages, the shortcuts' own list): the page
 * behind it is inert, so no shortcut acts on it until the dialog closes.
 */
export function modalDialogOpen(): boolean {
  return document.querySelector("dialog:modal") !== null;
}

export function shortcutOf(press: ShortcutPress, mac: boolean): Shortcut | undefined {
  if (press.isComposing || press.altKey) return undefined;
  const command = mac ? press.metaKey && !press.ctrlKey : press.ctrlKey && !press.metaKey;
  if (!command) {
    if (press.shiftKey && !press.ctrlKey && !press.metaKey && press.key === "Escape") return "focus-message";
    return undefined;
  }
  if (press.shiftKey && (press.code === "KeyO" || press.key.toLowerCase() === "o")) return "new-chat";
  if (press.shiftKey && (press.code === "KeyC" || press.key.toLowerCase() === "c")) return "copy-last-answer";
  if (!press.shiftKey && (press.code === "Slash" || press.key === "/")) return "show-shortcuts";
  return undefined;
}

/** The dialog that lists the shortcuts (Ctrl+/, or Keyboard shortcuts in the header's menu). */
export function ShortcutsDialog(props: { onClose(): void }) {
  const { t } = useI18n();
  const command = onMac() ? "⌘" : "Ctrl";
  const rows: Array<[string[], string]> = [
    [[command, "Shift", "O"], t.shortcutNewChat],
    [["Shift", "Esc"], t.shortcutFocusMessage],
    [[command, "Shift", "C"], t.shortcutCopyLastAnswer],
    [[command, "/"], t.shortcutShowShortcuts],
    [["Enter"], t.shortcutSend],
    [["Shift", "Enter"], t.shortcutNewLine],
    [["Esc"], t.shortcutCancelEdit],
  ];
  return (
    <ModalDialog
      titleId="shortcuts-title"
      title={t.keyboardShortcuts}
      className="shortcuts"
      onClose={props.onClose}
    >
      <dl className="shortcut-list">
        {rows.map(([keys, what]) => (
          <Fragment key={what}>
            <dt>{what}</dt>
            <dd>
              {keys.map((key, index) => (
                <Fragment key={key}>
                  {index > 0 && " + "}
                  <kbd>{key}</kbd>
                </Fragment>
              ))}
            </dd>
          </Fragment>
        ))}
      </dl>
    </ModalDialog>
  );
}
