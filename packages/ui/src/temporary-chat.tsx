import { useI18n } from "./i18n.js";

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
