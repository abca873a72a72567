import { useEffect, useState } from "react";
import { api } from "./api.js";
import type { ConversationSummary } from "./conversation-list.js";
import { dateTimeText } from "./display-text.js";
import { focusWhenShown, keepFocusNear, PAGE_HEADING, usePageTitle } from "./focus.js";
import { fill, useI18n } from "./i18n.js";
import { navigate } from "./router.js";
import { ActionError, useAction } from "./use-action.js";

interface Archived extends ConversationSummary {
  archivedAt: string;
}

/** A page of the archived list, the latest first; `next` when there are more. */
interface Page {
  conversations: Archived[];
  next?: { updatedAt: string; id: string; pinned: boolean };
}

const PAGE_SIZE = 50;

function pagePath(query: string, after?: Page["next"]): string {
  const params = new URLSearchParams({ archived: "true", limit: String(PAGE_SIZE) });
  if (query) params.set("q", query);
  if (after) {
    params.set("afterUpdatedAt", after.updatedAt);
    params.set("afterId", after.id);
    params.set("afterPinned", String(after.pinned));
  }
  return `/api/conversations?${params}`;
}

/**
 * Archived chats: the conversations the user archived, out of the chat list and its search, found
 * here by a search of their own; each opens (and goes on) as any conversation, and is unarchived
 * (back in the list) or deleted from here. What an action came to is announced; focus stays in
 * the list where the row was.
 */
export function ArchivedPage() {
  const { t } = useI18n();
  usePageTitle(t.archivedChats);
  const [query, setQuery] = useState("");
  const [items, setItems] = useState<Archived[]>();
  const [next, setNext] = useState<Page["next"]>();
  /** The search the shown list answers. */
  const [answered, setAnswered] = useState("");
  const [status, setStatus] = useState("");
  const { error, run } = useAction();

  useEffect(() => {
    let current = true;
    const timer = setTimeout(() => {
      void run(async () => {
        const answer = await api<Page>(pagePath(query));
        if (!current) return;
        setItems(answer.conversations);
        setNext(answer.next);
        setAnswered(query);
      });
    }, 150);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [query, run]);

  const titleOf = (item: Archived) => (item.title === "New chat" ? t.newChat : item.title);
  const search = () => document.getElementById("archived-search");

  const unarchive = async (item: Archived, from: Element) => {
    const restoreFocus = keepFocusNear(from, search);
    if (
      !(await run(() => api(`/api/conversations/${item.id}`, { method: "PATCH", body: { archived: false } })))
    )
      return;
    setItems((current) => current?.filter((c) => c.id !== item.id));
    setStatus(fill(t.conversationUnarchived, { title: titleOf(item) }));
    restoreFocus();
  };
  const remove = async (item: Archived, from: Element) => {
    if (!window.confirm(fill(t.deleteConversationConfirm, { title: titleOf(item) }))) return;
    const restoreFocus = keepFocusNear(from, search);
    if (!(await run(() => api(`/api/conversations/${item.id}`, { method: "DELETE" })))) return;
    setItems((current) => current?.filter((c) => c.id !== item.id));
    restoreFocus();
  };
  const loadMore = async (from: Element) => {
    let first: string | undefined;
    const restoreFocus = keepFocusNear(from, () =>
      first ? document.querySelector<HTMLElement>(`[data-conversation="${CSS.escape(first)}"] a`) : null,
    );
    await run(async () => {
      if (!next) return;
      const answer = await api<Page>(pagePath(answered, next));
      first = answer.conversations[0]?.id;
      setItems((current) => [...(current ?? []), ...answer.conversations]);
      setNext(answer.next);
    });
    restoreFocus();
  };

  return (
    <div className="page archived-page">
      <h2 id={PAGE_HEADING} tabIndex={-1}>
        {t.archivedChats}
      </h2>
      <p className="muted" id="archived-hint">
        {t.archivedChatsHint}
      </p>
      <label className="visually-hidden" htmlFor="archived-search">
        {t.searchArchivedChats}
      </label>
      <input
        id="archived-search"
        type="search"
        placeholder={t.searchArchivedChats}
        value={query}
        onChange={(event) => setQuery(event.target.value)}
      />
      <ActionError error={error} />
      <p className="visually-hidden" role="status">
        {status}
      </p>
      {items && items.length > 0 && (
        <ul className="archived-list" aria-labelledby={PAGE_HEADING}>
          {items.map((item) => (
            <li key={item.id} data-conversation={item.id}>
              <div className="archived-title">
                <a
                  className="accent-link"
                  href={`/c/${item.id}`}
                  onClick={(event) => {
                    event.preventDefault();
                    navigate(`/c/${item.id}`);
                    focusWhenShown(`#${PAGE_HEADING}`);
                  }}
                >
                  {titleOf(item)}
                </a>
                <span className="muted">
                  {fill(t.archivedOn, { time: dateTimeText(t, item.archivedAt) })}
                </span>
              </div>
              <div className="archived-actions">
                <button
                  type="button"
                  aria-label={fill(t.unarchiveConversation, { title: titleOf(item) })}
                  onClick={(event) => void unarchive(item, event.currentTarget)}
                >
                  {t.unarchive}
                </button>
                <button
                  type="button"
                  aria-label={fill(t.deleteNamed, { title: titleOf(item) })}
                  onClick={(event) => void remove(item, event.currentTarget)}
                >
                  {t.delete}
                </button>
              </div>
            </li>
          ))}
        </ul>
      )}
      {items && items.length === 0 && (
        <p className="muted" role="status">
          {answered ? t.noArchivedChatsFound : t.noArchivedChats}
        </p>
      )}
      {next && (
        <button type="button" onClick={(event) => void loadMore(event.currentTarget)}>
          {t.loadMore}
        </button>
      )}
    </div>
  );
}
