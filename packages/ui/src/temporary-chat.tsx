import { api } from "./api.js";
import { useI18n } from "./i18n.js";

/** The temporary chat shown in this tab (one at most): deleted when it is left, and before a sign-out. */
let shown: string | undefined;

/** The chat view shows `id`, a temporary chat: it is deleted when left. */
export function showingTemporaryChat(id: string): void {
  shown = id;
}

/** The temporary chat `id` was kept: it is one of the list's, to be left as any other. */
export function keptTemporaryChat(id: string): void {
  if (shown === id) shown = undefined;
}

/**
 * Deletes the temporary chat shown unless it is `stay` (the conversation shown now): left for another
 * chat, a new one, another page, or a sign-out. One not deleted (the service unreachable, the tab
 * closed first) is deleted by the service web.temporaryChatHours after its last message.
 */
export async function leaveTemporaryChat(stay?: string): Promise<void> {
  const id = shown;
  if (!id || id === stay) return;
  shown = undefined;
  await api(`/api/conversations/${id}`, { method: "DELETE" }).catch(() => undefined);
}

/**
 * A new chat's "Temporary chat" switch, and the note an open temporary chat shows over its messages
 * (it is not in the chat list nor its search, and goes when left), with "Keep this chat", which
 * makes it one of the list's. Nothing for a conversation that is not temporary.
 */
export function TemporaryChatBar(props: {
  /** The open conversation; undefined for a new chat. */
  conversationId: string | undefined;
  temporary: boolean;
  onSwitch(temporary: boolean): void;
  onKeep(): void;
}) {
  const { t } = useI18n();
  const open = props.conversationId !== undefined;
  if (open && !props.temporary) return null;
  return (
    <div className={props.temporary ? "archived-note temporary-note" : "temporary-switch"}>
      {!open && (
        <button
          type="button"
          className="small"
          aria-pressed={props.temporary}
          onClick={() => props.onSwitch(!props.temporary)}
        >
          {t.temporaryChat}
        </button>
      )}
      {props.temporary && <p>{t.temporaryChatHint}</p>}
      {open && (
        <button type="button" onClick={props.onKeep}>
          {t.keepChat}
        </button>
      )}
    </div>
  );
}
