import { useEffect, useRef, useState } from "react";
import { api } from "./api.js";
import { focusWhenShown, keepFocusNear, PAGE_HEADING } from "./focus.js";
import { fill, useI18n } from "./i18n.js";
import { navigate } from "./router.js";
import { ShareDialog } from "./share-dialog.js";
import { ActionError, describeError, errorCode, useAction } from "./use-action.js";

export interface ConversationSummary {
  id: string;
  title: string;
  updatedAt: string;
  pinned: boolean;
}

/** A page of the list: the pinned first, then the rest, each the latest first; `next` when there are more. */
interface Page {
  conversations: ConversationSummary[];
  next?: { updatedAt: string; id: string; pinned: boolean };
}

/** The list's order (the service's): the pinned first, then the latest activity, then the id. */
function listedBefore(a: Page["next"] & {}, b: Page["next"] & {}): boolean {
  if (a.pinned !== b.pinned) return a.pinned;
  if (a.updatedAt !== b.updatedAt) return a.updatedAt > b.updatedAt;
  return a.id > b.id;
}

const PAGE_SIZE = 50;

/** The service's answer to an import (POST /api/conversations/import). */
interface ImportAnswer {
  format: string;
  imported: number;
  skipped: number;
  skippedConversations: Array<{ index: number; title: string | null; reason: string }>;
}

/** How many skipped conversations an import's outcome names (the rest are counted). */
const SKIPPED_SHOWN = 10;

/**
 * Import: a button that opens the file picker, and what the import came to below it (announced),
 * in words: how many were imported, which were skipped and why, or why the file was refused.
 */
function ImportConversations(props: { onImported(): void }) {
  const { t } = useI18n();
  const input = useRef<HTMLInputElement>(null);
  const [importing, setImporting] = useState<string | undefined>();
  const [outcome, setOutcome] = useState<{ file: string; answer: ImportAnswer } | undefined>();
  const [error, setError] = useState<unknown>();
  const importFile = async (file: File) => {
    setOutcome(undefined);
    setError(undefined);
    setImporting(file.name);
    try {
      const answer = await api<ImportAnswer>("/api/conversations/import", { method: "POST", body: file });
      setOutcome({ file: file.name, answer });
      if (answer.imported > 0) props.onImported();
    } catch (caught) {
      setError(caught);
    } finally {
      setImporting(undefined);
    }
  };
  /** A refusal of the file, in words about a file where the general ones speak of a request. */
  const errorWords = (caught: unknown) => {
    const words = t.importErrors[errorCode(caught) ?? ""];
    return words ? fill(t.fieldValue, { field: t.error, value: words }) : describeError(t, caught);
  };
  const skipped = outcome?.answer.skippedConversations ?? [];
  return (
    <>
      <input
        ref={input}
        id="import-file"
        type="file"
        accept=".json,application/json"
        hidden
        onChange={(event) => {
          const file = event.currentTarget.files?.[0];
          // Cleared, so that choosing the same file again imports it again.
          event.currentTarget.value = "";
          if (file) void importFile(file);
        }}
      />
      {/* Unavailable while a file is imported, yet not disabled: a disabled button loses focus. */}
      <button
        type="button"
        className="wide"
        aria-describedby="import-hint"
        aria-disabled={importing !== undefined || undefined}
        onClick={() => {
          if (importing === undefined) input.current?.click();
        }}
      >
        {t.importConversations}
      </button>
      <p id="import-hint" className="muted import-hint">
        {t.importHint}
      </p>
      <div role="status" className="import-outcome">
        {importing !== undefined && <p className="muted">{fill(t.importing, { file: importing })}</p>}
        {outcome && (
          <>
            <p>
              {fill(t.importDone, {
                imported: outcome.answer.imported,
                total: outcome.answer.imported + outcome.answer.skipped,
                file: outcome.file,
                format: t.importFormats[outcome.answer.format] ?? outcome.answer.format,
              })}
            </p>
            {skipped.length > 0 && (
              <ul>
                {skipped.slice(0, SKIPPED_SHOWN).map((item) => {
                  const reason = t.importSkipReasons[item.reason] ?? item.reason;
                  return (
                    <li key={item.index}>
                      {item.title
                        ? fill(t.importSkipped, { title: item.title, reason })
                        : fill(t.importSkippedUntitled, { n: item.index + 1, reason })}
                    </li>
                  );
                })}
              </ul>
            )}
            {skipped.length > SKIPPED_SHOWN && (
              <p className="muted">{fill(t.importMoreSkipped, { n: skipped.length - SKIPPED_SHOWN })}</p>
            )}
          </>
        )}
      </div>
      {error !== undefined && (
        <p className="error-text" role="alert">
          {errorWords(error)}
        </p>
      )}
    </>
  );
}

function pagePath(query: string, after?: Page["next"]): string {
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (query) params.set("q", query);
  if (after) {
    params.set("afterUpdatedAt", after.updatedAt);
    params.set("afterId", after.id);
    params.set("afterPinned", String(after.pinned));
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

/** The conversation list: search, open, rename, pin, share, export, delete; import. */
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
  /** Counted up when an import added conversations: the list loads again. */
  const [imports, setImports] = useState(0);
  /** The conversation whose Share dialog is open. */
  const [sharing, setSharing] = useState<ConversationSummary>();

  // biome-ignore lint/correctness/useExhaustiveDependencies: reload when a chat changes (refresh), an import added conversations or the query changes
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
  }, [query, props.refresh, imports]);

  /** A conversation's title; one not named yet (the service's "New chat") in the reader's language. */
  const titleOf = (item: ConversationSummary) => (item.title === "New chat" ? t.newChat : item.title);
  const loadMore = async (from: Element) => {
    /** The first conversation the page added. */
    let first: string | undefined;
    // Loading the last page takes the button away: focus goes to the first conversation it added.
    const restoreFocus = keepFocusNear(from, () =>
      first ? document.querySelector<HTMLElement>(`[data-conversation="${CSS.escape(first)}"] > a`) : null,
    );
    await run(async () => {
      if (!next) return;
      const answer = await api<Page>(pagePath(query, next));
      first = answer.conversations[0]?.id;
      setItems((current) => [...current, ...answer.conversations]);
      setNext(answer.next);
    });
    restoreFocus();
  };
  /**
   * Pins or unpins a conversation: it moves to its place in the list's other part. One whose place
   * is past the pages loaded leaves the list until "Load more" brings it (the next page has it).
   */
  const togglePin = async (item: ConversationSummary, from: Element) => {
    const pinned = !item.pinned;
    const restoreFocus = keepFocusNear(from, () => document.getElementById("conversation-search"));
    if (!(await run(() => api(`/api/conversations/${item.id}`, { method: "PATCH", body: { pinned } }))))
      return;
    const moved = { ...item, pinned };
    const listed = !next || listedBefore(moved, next);
    setItems((current) => {
      const rest = current.filter((c) => c.id !== item.id);
      if (!listed) return rest;
      const at = rest.findIndex((c) => listedBefore(moved, c));
      return at < 0 ? [...rest, moved] : [...rest.slice(0, at), moved, ...rest.slice(at)];
    });
    // Focus follows it to its new place (its menu's button), or stays near where it was.
    if (listed) backToMenu.current = item.id;
    setMenuFocus((n) => n + 1);
    if (!listed) restoreFocus();
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
  /** The item whose menu button gets focus back once its rename form has gone (or it moved). */
  const backToMenu = useRef<string | undefined>(undefined);
  /** Counted up when an item moved (pinned or unpinned): its menu button gets focus back. */
  const [menuFocus, setMenuFocus] = useState(0);
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
  // ends (after the render that puts the button back: a save's render comes a moment later), and
  // once its item moved to the list's other part.
  // biome-ignore lint/correctness/useExhaustiveDependencies: menuFocus asks for the menu button's focus
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
  }, [renaming, menuFocus]);

  /** One conversation of the list: its link (or its rename form) and its menu. */
  const renderItem = (item: ConversationSummary) => (
    <li
      key={item.id}
      data-conversation={item.id}
      className={item.id === props.activeId ? "active" : undefined}
    >
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
            <button type="button" onClick={(event) => void togglePin(item, event.currentTarget)}>
              {item.pinned ? t.unpin : t.pin}
            </button>
            <button
              type="button"
              aria-haspopup="dialog"
              onClick={(event) => {
                setSharing(item);
                event.currentTarget.closest("details")!.open = false;
              }}
            >
              {t.share}
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
  );
  const pinnedItems = items.filter((item) => item.pinned);
  const otherItems = items.filter((item) => !item.pinned);

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
        <ImportConversations onImported={() => setImports((n) => n + 1)} />
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
        {/* The pinned ones in a part of their own, first; the rest under a heading only beside them. */}
        {pinnedItems.length > 0 && (
          <>
            <h2 className="list-heading" id="pinned-heading">
              {t.pinnedConversations}
            </h2>
            <ul className="conversation-list" aria-labelledby="pinned-heading">
              {pinnedItems.map(renderItem)}
            </ul>
          </>
        )}
        {pinnedItems.length > 0 && otherItems.length > 0 && (
          <h2 className="list-heading" id="recent-heading">
            {t.recentConversations}
          </h2>
        )}
        {otherItems.length > 0 && (
          <ul
            className="conversation-list"
            aria-labelledby={pinnedItems.length > 0 ? "recent-heading" : undefined}
          >
            {otherItems.map(renderItem)}
          </ul>
        )}
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
      {sharing && (
        <ShareDialog
          conversationId={sharing.id}
          title={titleOf(sharing)}
          onClose={() => {
            // Back on the menu it was opened from (on a phone, whose drawer closed meanwhile, its button).
            const menu = document.querySelector<HTMLElement>(`#menu-${CSS.escape(sharing.id)} > summary`);
            (menu?.offsetParent ? menu : document.getElementById("conversation-sidebar-toggle"))?.focus();
            setSharing(undefined);
          }}
        />
      )}
    </>
  );
}
