import { useEffect, useRef, useState } from "react";
import { api } from "./api.js";
import { focusWhenShown, keepFocusNear, PAGE_HEADING } from "./focus.js";
import { fill, useI18n } from "./i18n.js";
import { navigate } from "./router.js";
import { ActionError, useAction } from "./use-action.js";

export interface ConversationSummary {
  id: string;
  title: string;
  updatedAt: string;
}

/** A page of the list: the latest first; `next` when there are more. */
interface Page {
  conversations: ConversationSummary[];
  next?: { updatedAt: string; id: string };
}

const PAGE_SIZE = 50;

function pagePath(query: string, after?: Page["next"]): string {
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (query) params.set("q", query);
  if (after) {
    params.set("afterUpdatedAt", after.updatedAt);
    params.set("afterId", after.id);
  }
  return `/api/conversations?${params}`;
}

/** Closes the ⋯ menu holding `inside`, focus back on the menu's button. */
function closeMenu(inside: Element) {
  const menu = inside.closest("details");
  if (!menu) return;
  menu.open = false;
  menu.querySelector("summary")?.focus();
}

/** The conversation list: search, open, rename, export, delete. */
export function ConversationList(props: {
  activeId: string | undefined;
  refresh: number;
  onRenamed(id: string, title: string): void;
}) {
  const { t, locale } = useI18n();
  /** An export is written in the reader's language and time zone. */
  const exportHref = (id: string, format: "markdown" | "json") =>
    `/api/conversations/${id}/export?${new URLSearchParams({
      format,
      lang: locale,
      tz: Intl.DateTimeFormat().resolvedOptions().timeZone,
    })}`;
  const [query, setQuery] = useState("");
  const [items, setItems] = useState<ConversationSummary[]>([]);
  /** Where the next page of the list starts; none when the list is whole. */
  const [next, setNext] = useState<Page["next"]>();
  const [renaming, setRenaming] = useState<string | undefined>();
  const [title, setTitle] = useState("");
  const [open, setOpen] = useState(false);
  /** The search the shown list answers ("" for none): an empty answer to one says nothing matched. */
  const [answered, setAnswered] = useState("");
  const { error, run } = useAction();

  // biome-ignore lint/correctness/useExhaustiveDependencies: reload when a chat changes (refresh) or the query does
  useEffect(() => {
    let current = true;
    const timer = setTimeout(() => {
      void api<Page>(pagePath(query)).then((answer) => {
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
  }, [query, props.refresh]);

  /** A conversation's title; one not named yet (the service's "New chat") in the reader's language. */
  const titleOf = (item: ConversationSummary) => (item.title === "New chat" ? t.newChat : item.title);
  const loadMore = async (from: Element) => {
    const shown = items.length;
    // Loading the last page takes the button away: focus goes to the first conversation it added.
    const restoreFocus = keepFocusNear(from, () =>
      document.querySelector<HTMLElement>(`.conversation-list > li:nth-child(${shown + 1}) > a`),
    );
    await run(async () => {
      if (!next) return;
      const answer = await api<Page>(pagePath(query, next));
      setItems((current) => [...current, ...answer.conversations]);
      setNext(answer.next);
    });
    restoreFocus();
  };
  const remove = async (item: ConversationSummary, from: Element) => {
    if (!window.confirm(fill(t.deleteConversationConfirm, { title: titleOf(item) }))) return;
    const restoreFocus = keepFocusNear(from, () => document.getElementById("conversation-search"));
    if (!(await run(() => api(`/api/conversations/${item.id}`, { method: "DELETE" })))) return;
    setItems((current) => current.filter((c) => c.id !== item.id));
    if (props.activeId === item.id) navigate("/");
    restoreFocus();
  };
  const rename = async (id: string) => {
    const trimmed = title.trim();
    // An empty title is not sent (the Save button is off for it too).
    if (!trimmed) return;
    if (!(await run(() => api(`/api/conversations/${id}`, { method: "PATCH", body: { title: trimmed } }))))
      return;
    setItems((current) => current.map((c) => (c.id === id ? { ...c, title: trimmed } : c)));
    props.onRenamed(id, trimmed);
    stopRenaming(id);
  };
  /** The item whose menu button gets focus back once its rename form has gone. */
  const backToMenu = useRef<string | undefined>(undefined);
  /** Leaves the rename form; focus goes back to the item's menu button, where renaming began. */
  const stopRenaming = (id: string) => {
    backToMenu.current = id;
    setRenaming(undefined);
  };
  // The phone's drawer closes with Escape, wherever focus is (not while a menu or the rename form
  // uses the key), and once focus leaves it and its button: open, it covers what took focus.
  useEffect(() => {
    if (!open) return;
    const inDrawer = (target: EventTarget | null) =>
      target instanceof Node &&
      (document.getElementById("conversation-sidebar")?.contains(target) ||
        document.getElementById("conversation-sidebar-toggle")?.contains(target));
    const onKeyDown = (event: globalThis.KeyboardEvent) => {
      if (event.key !== "Escape" || event.defaultPrevented) return;
      setOpen(false);
      if (inDrawer(document.activeElement)) document.getElementById("conversation-sidebar-toggle")?.focus();
    };
    const onFocusIn = (event: FocusEvent) => {
      if (!inDrawer(event.target)) setOpen(false);
    };
    addEventListener("keydown", onKeyDown);
    addEventListener("focusin", onFocusIn);
    return () => {
      removeEventListener("keydown", onKeyDown);
      removeEventListener("focusin", onFocusIn);
    };
  }, [open]);
  // The title field takes focus, its text selected, when renaming starts; the menu button once it
  // ends (after the render that puts the button back: a save's render comes a moment later).
  useEffect(() => {
    if (!renaming) {
      const id = backToMenu.current;
      backToMenu.current = undefined;
      if (id) document.querySelector<HTMLElement>(`#menu-${CSS.escape(id)} > summary`)?.focus();
      return;
    }
    const input = document.getElementById(`rename-${renaming}`) as HTMLInputElement | null;
    input?.focus();
    input?.select();
  }, [renaming]);

  return (
    <>
      <button
        type="button"
        id="conversation-sidebar-toggle"
        className="sidebar-toggle"
        aria-expanded={open}
        aria-controls="conversation-sidebar"
        onClick={() => setOpen(!open)}
      >
        {t.conversations}
      </button>
      <nav
        id="conversation-sidebar"
        className={open ? "sidebar open" : "sidebar"}
        aria-label={t.conversations}
      >
        <button
          type="button"
          className="primary wide"
          onClick={() => {
            setOpen(false);
            navigate("/");
            focusWhenShown("#message-input");
          }}
        >
          + {t.newChat}
        </button>
        <label className="visually-hidden" htmlFor="conversation-search">
          {t.searchConversations}
        </label>
        <input
          id="conversation-search"
          type="search"
          placeholder={t.searchConversations}
          value={query}
          onChange={(e) => setQuery(e.target.value)}
        />
        <ActionError error={error} />
        <ul className="conversation-list">
          {items.map((item) => (
            <li key={item.id} className={item.id === props.activeId ? "active" : undefined}>
              {renaming === item.id ? (
                <form
                  className="rename-form"
                  onSubmit={(event) => {
                    event.preventDefault();
                    void rename(item.id);
                  }}
                  onKeyDown={(event) => {
                    if (event.key !== "Escape") return;
                    event.preventDefault();
                    stopRenaming(item.id);
                  }}
                >
                  <label className="visually-hidden" htmlFor={`rename-${item.id}`}>
                    {t.rename}
                  </label>
                  <input
                    id={`rename-${item.id}`}
                    value={title}
                    onChange={(e) => setTitle(e.target.value)}
                    required
                    maxLength={200}
                  />
                  <button type="submit" className="small" disabled={!title.trim()}>
                    {t.save}
                  </button>
                  <button type="button" className="small" onClick={() => stopRenaming(item.id)}>
                    {t.cancel}
                  </button>
                </form>
              ) : (
                <a
                  href={`/c/${item.id}`}
                  aria-current={item.id === props.activeId ? "page" : undefined}
                  onClick={(event) => {
                    event.preventDefault();
                    setOpen(false);
                    navigate(`/c/${item.id}`);
                    focusWhenShown(`#${PAGE_HEADING}`);
                  }}
                >
                  {titleOf(item)}
                </a>
              )}
              {/* While the item is renamed, its form has the row (Cancel stands for the menu). */}
              {renaming !== item.id && (
                <details
                  className="item-menu"
                  id={`menu-${item.id}`}
                  onKeyDown={(event) => {
                    // Escape closes the menu, focus back on its button.
                    if (event.key !== "Escape" || !event.currentTarget.open) return;
                    event.preventDefault();
                    closeMenu(event.currentTarget);
                  }}
                  onBlur={(event) => {
                    // Focus gone elsewhere (Tab, another menu) closes the menu: one open at a time,
                    // none left covering the list. A click on nothing focusable keeps it open.
                    const to = event.relatedTarget;
                    if (to && !event.currentTarget.contains(to)) event.currentTarget.open = false;
                  }}
                >
                  <summary aria-label={fill(t.moreActions, { title: titleOf(item) })}>⋯</summary>
                  <div className="item-menu-actions">
                    <button
                      type="button"
                      onClick={() => {
                        // The menu goes with it: it is not shown while the item is renamed.
                        setRenaming(item.id);
                        setTitle(item.title);
                      }}
                    >
                      {t.rename}
                    </button>
                    <a
                      href={exportHref(item.id, "markdown")}
                      download
                      onClick={(event) => closeMenu(event.currentTarget)}
                    >
                      {t.exportMarkdown}
                    </a>
                    <a
                      href={exportHref(item.id, "json")}
                      download
                      onClick={(event) => closeMenu(event.currentTarget)}
                    >
                      {t.exportJson}
                    </a>
                    <button type="button" onClick={(event) => void remove(item, event.currentTarget)}>
                      {t.delete}
                    </button>
                  </div>
                </details>
              )}
            </li>
          ))}
        </ul>
        {answered && items.length === 0 && (
          <p className="muted" role="status">
            {t.noConversationsFound}
          </p>
        )}
        {next && (
          <button type="button" className="wide" onClick={(event) => void loadMore(event.currentTarget)}>
            {t.loadMore}
          </button>
        )}
      </nav>
    </>
  );
}
