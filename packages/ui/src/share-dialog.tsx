import { useEffect, useState } from "react";
import { api } from "./api.js";
import { dateTimeText } from "./display-text.js";
import { focusWhenShown } from "./focus.js";
import { fill, useI18n } from "./i18n.js";
import { CopyButton } from "./markdown.js";
import { ModalDialog } from "./modal-dialog.js";
import { ActionError, useAction } from "./use-action.js";

/** A conversation's share link as the service gives it to its owner. */
interface Share {
  id: string;
  createdAt: string;
  messageCount: number;
  /** Whether the link opens now (false while an administrator has share links off). */
  open?: boolean;
}

/** The page a share link opens (its path; the service answers it with the app). */
export function sharePath(shareId: string): string {
  return `/s/${encodeURIComponent(shareId)}`;
}

/**
 * Share a conversation: a dialog that makes its link (a read-only snapshot of it as it is now, for
 * anyone signed in to this Hearth), shows it with a Copy button, updates the snapshot (the same
 * link) and stops sharing. What each action came to is announced. A conversation that cites
 * knowledge bases is said to: the link shows the cited passages to its readers, whatever bases
 * they may read.
 */
export function ShareDialog(props: { conversationId: string; title: string; onClose(): void }) {
  const { t } = useI18n();
  const { conversationId } = props;
  /** The conversation's share: undefined while it loads, null when it has none. */
  const [share, setShare] = useState<Share | null>();
  /** Whether an answer cites a knowledge base's passage (which the link shows). */
  const [citesKnowledge, setCitesKnowledge] = useState(false);
  const [done, setDone] = useState("");
  const { error, run } = useAction();
  useEffect(() => {
    void run(async () => {
      const answer = await api<{
        share: Share | null;
        messages: Array<{ citations?: Array<{ kind: string }> }>;
      }>(`/api/conversations/${conversationId}`);
      setShare(answer.share);
      setCitesKnowledge(answer.messages.some((m) => m.citations?.some((c) => c.kind === "document")));
    });
  }, [conversationId, run]);
  const path = `/api/conversations/${conversationId}/share`;
  // Each action says what it came to; one whose button goes (Create link, Stop sharing) puts focus
  // on what takes its place.
  const take = async (words: string) => {
    setDone("");
    if (!(await run(async () => setShare({ ...(await api<Share>(path, { method: "POST" })), open: true }))))
      return;
    setDone(words);
    focusWhenShown("#share-link");
  };
  const stop = async () => {
    setDone("");
    if (!(await run(() => api(path, { method: "DELETE" })))) return;
    setShare(null);
    setDone(t.sharingStopped);
    focusWhenShown("#share-create");
  };
  const link = share ? new URL(sharePath(share.id), location.origin).href : "";
  return (
    <ModalDialog
      className="share-dialog"
      titleId="share-title"
      title={fill(t.shareTitle, { title: props.title })}
      onClose={props.onClose}
    >
      <p id="share-hint">{t.shareHint}</p>
      {citesKnowledge && (
        <p id="share-citations" role="note">
          {t.shareCitations}
        </p>
      )}
      {share === undefined && !error && <p role="status">{t.loading}</p>}
      {share === null && (
        <p>
          <button
            type="button"
            id="share-create"
            className="primary"
            onClick={() => void take(t.shareLinkCreated)}
          >
            {t.createShareLink}
          </button>
        </p>
      )}
      {share && (
        <>
          <div className="share-link">
            <label htmlFor="share-link">{t.shareLink}</label>
            <input
              id="share-link"
              readOnly
              value={link}
              aria-describedby={`share-hint${citesKnowledge ? " share-citations" : ""} share-snapshot`}
              onFocus={(event) => event.currentTarget.select()}
            />
            <CopyButton text={link} label={t.copyShareLink} />
          </div>
          <p id="share-snapshot" className="muted">
            {fill(t.shareSnapshot, {
              n: share.messageCount,
              time: dateTimeText(t, share.createdAt),
            })}
          </p>
          {share.open === false && <p className="error-text">{t.shareLinksOffNote}</p>}
          <div className="form-buttons">
            <button type="button" onClick={() => void take(t.shareLinkUpdated)}>
              {t.updateShareLink}
            </button>
            <button type="button" onClick={() => void stop()}>
              {t.stopSharing}
            </button>
          </div>
        </>
      )}
      <p role="status" className="muted">
        {done}
      </p>
      <ActionError error={error} />
    </ModalDialog>
  );
}
