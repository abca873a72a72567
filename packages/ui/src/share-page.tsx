import { useEffect, useState } from "react";
import { ApiError, api } from "./api.js";
import { type ChatMessage, MessageView } from "./chat-view.js";
import { dateTimeText } from "./display-text.js";
import { focusWhenShown, PAGE_HEADING, usePageTitle } from "./focus.js";
import { fill, useI18n } from "./i18n.js";
import { navigate } from "./router.js";
import { ActionError, useAction } from "./use-action.js";

/** A shared conversation as its link opens it (GET /api/shares/{id}). */
interface Shared {
  title: string;
  ownerName: string;
  sharedAt: string;
  messages: ChatMessage[];
}

/** The latest messages, rendered at once (as in the chat); the earlier ones as they come near the screen. */
const EAGER_MESSAGES = 6;

/**
 * A share link's page (/s/{id}): the conversation as it was shared, read-only, its answers rendered
 * as in the chat (Markdown, sources, reasoning folded), who shared it and when; "Continue in my
 * chats" copies it into the reader's conversations and opens the copy.
 */
export function SharePage({ shareId }: { shareId: string }) {
  const { t } = useI18n();
  /** The shared conversation: undefined while it loads, null when the link does not open. */
  const [shared, setShared] = useState<Shared | null>();
  const [loadError, setLoadError] = useState<unknown>();
  const [copying, setCopying] = useState(false);
  const { error, run } = useAction();
  useEffect(() => {
    let current = true;
    setShared(undefined);
    setLoadError(undefined);
    api<Shared>(`/api/shares/${encodeURIComponent(shareId)}`).then(
      (answer) => {
        if (current) setShared(answer);
      },
      (caught: unknown) => {
        if (!current) return;
        if (caught instanceof ApiError && caught.status === 404) setShared(null);
        else setLoadError(caught);
      },
    );
    return () => {
      current = false;
    };
  }, [shareId]);
  // The service names a conversation "New chat" until it has a title: shown in the reader's language.
  const title =
    shared === null ? t.shareNotFound : shared && (shared.title === "New chat" ? t.newChat : shared.title);
  usePageTitle(title);

  const continueInMyChats = async () => {
    setCopying(true);
    await run(async () => {
      const copy = await api<{ id: string }>(`/api/shares/${encodeURIComponent(shareId)}/copy`, {
        method: "POST",
      });
      navigate(`/c/${copy.id}`);
      focusWhenShown(`#${PAGE_HEADING}`);
    });
    setCopying(false);
  };

  if (shared === null)
    return (
      <div className="page">
        <h2 id={PAGE_HEADING} tabIndex={-1}>
          {t.shareNotFound}
        </h2>
        <p>{t.shareNotFoundHint}</p>
        <p>
          <button type="button" onClick={() => navigate("/")}>
            {t.toChat}
          </button>
        </p>
      </div>
    );
  return (
    <div className="page share-page">
      {loadError !== undefined && <ActionError error={loadError} />}
      {shared === undefined && !loadError && <p role="status">{t.loading}</p>}
      {shared && (
        <>
          <header className="share-header">
            <h2 id={PAGE_HEADING} tabIndex={-1}>
              {title}
            </h2>
            <p className="muted">
              {fill(t.sharedBy, {
                owner: shared.ownerName,
                time: dateTimeText(t, shared.sharedAt),
              })}
            </p>
            <p className="muted">{t.sharedReadOnly}</p>
          </header>
          <div className="shared-messages">
            {shared.messages.map((message, index) => (
              <MessageView
                // A snapshot's messages have no ids and never change: their place is their key.
                // biome-ignore lint/suspicious/noArrayIndexKey: see above
                key={index}
                message={message}
                busy={false}
                eager={index >= shared.messages.length - EAGER_MESSAGES}
              />
            ))}
          </div>
          <div className="share-continue">
            <button
              type="button"
              className="primary"
              aria-describedby="continue-hint"
              disabled={copying}
              onClick={() => void continueInMyChats()}
            >
              {t.continueInMyChats}
            </button>
            <p id="continue-hint" className="muted">
              {t.continueInMyChatsHint}
            </p>
            <ActionError error={error} />
          </div>
        </>
      )}
    </div>
  );
}
