import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError, api } from "./api.js";
import {
  cancelOnEscape,
  describedField,
  focusLost,
  focusWhenShown,
  keepFocusNear,
  PAGE_HEADING,
} from "./focus.js";
import { fill, useI18n } from "./i18n.js";
import { ModalDialog } from "./modal-dialog.js";
import { navigate, usePath } from "./router.js";
import { ShareDialog } from "./share-dialog.js";
import { ActionError, describeError, errorCode, useAction } from "./use-action.js";

export interface ConversationSummary {
  id: string;
  title: string;
  updatedAt: string;
  pinned: boolean;
  /** The folder it is in; null: unfiled. */
  folderId: string | null;
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

/** The first bytes of a ZIP (a local file header, "PK\x03\x04"). */
const ZIP_SIGNATURE = [0x50, 0x4b, 0x03, 0x04];

/** How many skipped conversations an import's outcome names (the rest are counted). */
const SKIPPED_SHOWN = 10;

/**
 * Import: a button that opens the file picker, and what the import came to below it (announced),
 * in words: how many were imported, which were skipped and why, or why the file was refused. The
 * outcome stays until closed (its close button, focus back on Import) or another page is shown.
 */
function ImportConversations(props: { onImported(): void }) {
  const { t } = useI18n();
  const input = useRef<HTMLInputElement>(null);
  const button = useRef<HTMLButtonElement>(null);
  const [importing, setImporting] = useState<string | undefined>();
  const [outcome, setOutcome] = useState<{ file: string; answer: ImportAnswer } | undefined>();
  const [error, setError] = useState<unknown>();
  // Another page (another conversation, Settings…) leaves the last import's outcome behind.
  const path = usePath();
  const [outcomePath, setOutcomePath] = useState(path);
  if (path !== outcomePath) {
    setOutcomePath(path);
    setOutcome(undefined);
    setError(undefined);
  }
  const dismiss = () => {
    setOutcome(undefined);
    setError(undefined);
    button.current?.focus();
  };
  const importFile = async (file: File) => {
    setOutcome(undefined);
    setError(undefined);
    setImporting(file.name);
    try {
      // ChatGPT's data export as downloaded (a ZIP, by its name or first bytes), else a JSON export.
      const head = new Uint8Array(await file.slice(0, 4).arrayBuffer());
      const zip =
        /\.zip$/i.test(file.name) ||
        (head.length === 4 && head.every((byte, i) => byte === ZIP_SIGNATURE[i]));
      const answer = await api<ImportAnswer>("/api/conversations/import", {
        method: "POST",
        body: file,
        contentType: zip ? "application/zip" : "application/json",
      });
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
        accept=".json,application/json,.zip,application/zip"
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
        ref={button}
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
            <p className="import-done">
              <span>
                {fill(t.importDone, {
                  imported: outcome.answer.imported,
                  total: outcome.answer.imported + outcome.answer.skipped,
                  file: outcome.file,
                  format: t.importFormats[outcome.answer.format] ?? outcome.answer.format,
                })}
              </span>
              <button type="button" className="small" aria-label={t.dismissImportOutcome} onClick={dismiss}>
                ×
              </button>
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
        <div className="import-outcome">
          <p className="import-done">
            <span className="error-text" role="alert">
              {errorWords(error)}
            </span>
            <button type="button" className="small" aria-label={t.dismissImportOutcome} onClick={dismiss}>
              ×
            </button>
          </p>
        </div>
      )}
    </>
  );
}

/** A user's folder, with how many of its conversations are in the list. */
export interface Folder {
  id: string;
  name: string;
  conversationCount: number;
}

/** Which conversations a page of the list holds: a search's (any folder), the unfiled ones, or a folder's. */
type Filter = { query: string } | { folderId: string };

function pagePath(filter: Filter, after?: Page["next"]): string {
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if ("folderId" in filter) params.set("folderId", filter.folderId);
  else if (filter.query) params.set("q", filter.query);
  else params.set("folderId", "none");
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

/**
 * `item` placed in a list at its place by the list's order; left out (the list is shorter) when
 * that place is past the pages loaded (`next`): "Load more" brings it then.
 */
function placed(items: ConversationSummary[], next: Page["next"], item: ConversationSummary) {
  const rest = items.filter((c) => c.id !== item.id);
  if (next && !listedBefore(item, next)) return { items: rest, listed: false };
  const at = rest.findIndex((c) => listedBefore(item, c));
  return {
    items: at < 0 ? [...rest, item] : [...rest.slice(0, at), item, ...rest.slice(at)],
    listed: true,
  };
}

/** The folders whose conversations are shown, kept on this browser. */
const OPEN_FOLDERS_KEY = "hearth.openFolders";
function readOpenFolders(): string[] {
  try {
    const saved = JSON.parse(localStorage.getItem(OPEN_FOLDERS_KEY) ?? "[]") as unknown;
    return Array.isArray(saved) ? saved.filter((id): id is string => typeof id === "string") : [];
  } catch {
    return [];
  }
}

/**
 * A folder's name typed in place (a new folder's, or a rename): Escape or Cancel leaves it. Why the
 * service refused the name (one the user's other folder has) is said beside it, the field marked.
 */
function FolderNameForm(props: {
  id: string;
  initial: string;
  submitLabel: string;
  onSubmit(name: string): Promise<unknown>;
  onCancel(): void;
}) {
  const { t } = useI18n();
  const [name, setName] = useState(props.initial);
  const { error, run } = useAction();
  const errorId = `${props.id}-error`;
  useEffect(() => {
    const input = document.getElementById(props.id) as HTMLInputElement | null;
    input?.focus();
    input?.select();
  }, [props.id]);
  return (
    <form
      className="rename-form folder-form"
      onSubmit={(event) => {
        event.preventDefault();
        const trimmed = name.trim();
        if (trimmed) void run(() => props.onSubmit(trimmed));
      }}
      onKeyDown={cancelOnEscape(props.onCancel)}
    >
      <label className="visually-hidden" htmlFor={props.id}>
        {t.folderName}
      </label>
      <input
        id={props.id}
        value={name}
        onChange={(event) => setName(event.target.value)}
        required
        maxLength={100}
        {...describedField(error !== undefined, undefined, errorId)}
      />
      <button type="submit" className="small" disabled={!name.trim()}>
        {props.submitLabel}
      </button>
      <button type="button" className="small" onClick={props.onCancel}>
        {t.cancel}
      </button>
      {error !== undefined && (
        <div className="folder-form-error">
          <ActionError id={errorId} error={error} />
        </div>
      )}
    </form>
  );
}

/**
 * Deleting a folder asks what becomes of the conversations it holds: back to the chat list, or
 * deleted with it.
 */
function DeleteFolderDialog(props: {
  folder: Folder;
  onDelete(withConversations: boolean): Promise<unknown>;
  onClose(): void;
}) {
  const { t } = useI18n();
  const { error, run } = useAction();
  const n = props.folder.conversationCount;
  return (
    <ModalDialog
      className="delete-folder-dialog"
      titleId="delete-folder-title"
      title={fill(t.deleteFolderTitle, { name: props.folder.name })}
      onClose={props.onClose}
    >
      <p>
        {n === 0
          ? t.deleteEmptyFolderHint
          : n === 1
            ? t.deleteFolderHintOne
            : fill(t.deleteFolderHint, { n })}
      </p>
      <p className="muted">{t.deleteFolderArchivedNote}</p>
      <div className="form-buttons">
        <button type="button" className="primary" onClick={() => void run(() => props.onDelete(false))}>
          {n === 0 ? t.deleteFolder : t.deleteFolderKeep}
        </button>
        {n > 0 && (
          <button type="button" className="stop" onClick={() => void run(() => props.onDelete(true))}>
            {t.deleteFolderWithChats}
          </button>
        )}
      </div>
      <ActionError error={error} />
    </ModalDialog>
  );
}

/**
 * The conversation list: search, open, rename, pin, move to a folder, archive, share, export,
 * delete; import. The user's folders come first (after the pinned conversations), each opened and
 * closed in place with its conversations; the unfiled conversations follow. A search looks in
 * every folder and lists what it finds in one list. Archived chats have a page of their own.
 */
export function ConversationList(props: {
  activeId: string | undefined;
  refresh: number;
  onRenamed(id: string, title: string): void;
  /** A conversation was archived from the list (the chat showing it says so). */
  onArchived(id: string, archivedAt: string): void;
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
  /** The main list: a search's answer, or (no search) the unfiled conversations. */
  const [items, setItems] = useState<ConversationSummary[]>([]);
  /** Where the next page of the list starts; none when the list is whole. */
  const [next, setNext] = useState<Page["next"]>();
  /** The user's folders (undefined until loaded). */
  const [folders, setFolders] = useState<Folder[]>();
  /** The folders shown open, and the conversations loaded of each. */
  const [openFolders, setOpenFolders] = useState<string[]>(readOpenFolders);
  const [folderPages, setFolderPages] = useState<Record<string, Page>>({});
  const [renaming, setRenaming] = useState<string | undefined>();
  const [title, setTitle] = useState("");
  /** A folder being made ("new") or renamed (its id). */
  const [editingFolder, setEditingFolder] = useState<string | undefined>();
  const [deletingFolder, setDeletingFolder] = useState<Folder>();
  const [open, setOpen] = useState(false);
  /** The search the shown list answers ("" for none): an empty answer to one says nothing matched. */
  const [answered, setAnswered] = useState("");
  /** What an action that moved a conversation out of sight came to, for screen readers. */
  const [status, setStatus] = useState("");
  const { error, run } = useAction();
  /** Counted up when an import added conversations: the list loads again. */
  const [imports, setImports] = useState(0);
  /** The conversation whose Share dialog is open. */
  const [sharing, setSharing] = useState<ConversationSummary>();
  const searching = answered !== "";
  const openFoldersRef = useRef(openFolders);
  openFoldersRef.current = openFolders;

  const loadFolder = useCallback(async (id: string) => {
    try {
      const page = await api<Page>(pagePath({ folderId: id }));
      setFolderPages((pages) => ({ ...pages, [id]: page }));
    } catch {
      // A folder deleted elsewhere: it leaves the list with the next load of the folders.
    }
  }, []);
  const loadFolders = useCallback(async () => {
    const answer = await api<{ folders: Folder[] }>("/api/folders");
    setFolders(answer.folders);
    const ids = new Set(answer.folders.map((folder) => folder.id));
    await Promise.all(openFoldersRef.current.filter((id) => ids.has(id)).map(loadFolder));
  }, [loadFolder]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: reload when a chat changes (refresh), an import added conversations or the query changes
  useEffect(() => {
    let current = true;
    const timer = setTimeout(() => {
      void api<Page>(pagePath({ query })).then(
        (answer) => {
          if (!current) return;
          setItems(answer.conversations);
          setNext(answer.next);
          setAnswered(query);
        },
        // Not read (the server cannot be reached): the list stays as shown until the next change.
        () => {},
      );
      if (!query) void loadFolders().catch(() => {});
    }, 150);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [query, props.refresh, imports]);

  /** The folders' counts when a conversation leaves one (-1) or goes into one (+1). */
  const count = (folderId: string | null, by: number) => {
    if (folderId)
      setFolders((current) =>
        current?.map((folder) =>
          folder.id === folderId ? { ...folder, conversationCount: folder.conversationCount + by } : folder,
        ),
      );
  };
  /** Changes a conversation wherever it is listed. */
  const changeEverywhere = (
    id: string,
    change: (item: ConversationSummary) => ConversationSummary | null,
  ) => {
    const apply = (list: ConversationSummary[]) =>
      list.flatMap((item) => {
        if (item.id !== id) return [item];
        const changed = change(item);
        return changed ? [changed] : [];
      });
    setItems(apply);
    setFolderPages((pages) =>
      Object.fromEntries(
        Object.entries(pages).map(([key, page]) => [
          key,
          { ...page, conversations: apply(page.conversations) },
        ]),
      ),
    );
  };

  /** A conversation's title; one not named yet (the service's "New chat") in the reader's language. */
  const titleOf = (item: ConversationSummary) => (item.title === "New chat" ? t.newChat : item.title);
  const folderName = (id: string | null) => folders?.find((folder) => folder.id === id)?.name;
  /** The button of the folder a conversation is in (where focus goes when its last one there leaves). */
  const folderButton = (folderId: string | null) =>
    folderId ? document.querySelector<HTMLElement>(`#folder-${CSS.escape(folderId)} .folder-toggle`) : null;
  const nearFallback = (item: ConversationSummary) => () =>
    folderButton(item.folderId) ?? document.getElementById("conversation-search");

  const loadMore = async (from: Element, folderId?: string) => {
    /** The first conversation the page added. */
    let first: string | undefined;
    // Loading the last page takes the button away: focus goes to the first conversation it added.
    const restoreFocus = keepFocusNear(from, () =>
      first ? document.querySelector<HTMLElement>(`[data-conversation="${CSS.escape(first)}"] > a`) : null,
    );
    await run(async () => {
      if (folderId) {
        const after = folderPages[folderId]?.next;
        if (!after) return;
        const answer = await api<Page>(pagePath({ folderId }, after));
        first = answer.conversations[0]?.id;
        setFolderPages((pages) => ({
          ...pages,
          [folderId]: {
            conversations: [...(pages[folderId]?.conversations ?? []), ...answer.conversations],
            ...(answer.next ? { next: answer.next } : {}),
          },
        }));
        return;
      }
      if (!next) return;
      const answer = await api<Page>(pagePath({ query: answered }, next));
      first = answer.conversations[0]?.id;
      setItems((current) => [...current, ...answer.conversations]);
      setNext(answer.next);
    });
    restoreFocus();
  };

  /** Puts a conversation in its place in the list it belongs in (that list's order); whether it is shown there. */
  const place = (item: ConversationSummary): boolean => {
    if (searching || item.folderId === null) {
      const { items: list, listed } = placed(items, next, item);
      setItems(list);
      return listed;
    }
    const page = folderPages[item.folderId];
    if (!page || !openFolders.includes(item.folderId)) return false;
    const { items: list, listed } = placed(page.conversations, page.next, item);
    setFolderPages((pages) => ({ ...pages, [item.folderId!]: { ...page, conversations: list } }));
    return listed;
  };
  /** Focus on the menu button of a conversation that moved, once it is drawn in its new place. */
  const focusMenuOf = (id: string) => {
    focusAfter.current = `#menu-${CSS.escape(id)} > summary`;
    setMenuFocus((n) => n + 1);
  };

  /**
   * Pins or unpins a conversation: it moves to its place in the list's other part. One whose place
   * is past the pages loaded leaves the list until "Load more" brings it (the next page has it).
   */
  const togglePin = async (item: ConversationSummary, from: Element) => {
    const pinned = !item.pinned;
    const restoreFocus = keepFocusNear(from, nearFallback(item));
    if (!(await run(() => api(`/api/conversations/${item.id}`, { method: "PATCH", body: { pinned } }))))
      return;
    // Focus follows it to its new place (its menu's button), or stays near where it was.
    if (place({ ...item, pinned })) focusMenuOf(item.id);
    restoreFocus();
  };
  /** Moves a conversation into a folder, or out of its folder (null); focus follows it where it is shown. */
  const move = async (item: ConversationSummary, folderId: string | null, from: Element) => {
    if (folderId === item.folderId) {
      closeMenu(from);
      return;
    }
    const restoreFocus = keepFocusNear(from, nearFallback(item));
    if (!(await run(() => api(`/api/conversations/${item.id}`, { method: "PATCH", body: { folderId } }))))
      return;
    const moved = { ...item, folderId };
    count(item.folderId, -1);
    count(folderId, 1);
    if (searching) {
      // Still found by the search, where it is: its menu closes.
      changeEverywhere(item.id, () => moved);
      closeMenu(from);
    } else {
      changeEverywhere(item.id, () => null);
      if (place(moved)) focusMenuOf(item.id);
    }
    setStatus(
      folderId
        ? fill(t.movedToFolder, { title: titleOf(item), folder: folderName(folderId) ?? "" })
        : fill(t.movedOutOfFolder, { title: titleOf(item) }),
    );
    restoreFocus();
  };
  const archive = async (item: ConversationSummary, from: Element) => {
    const restoreFocus = keepFocusNear(from, nearFallback(item));
    let archivedAt = "";
    const done = await run(async () => {
      archivedAt = (
        await api<{ archivedAt: string }>(`/api/conversations/${item.id}`, {
          method: "PATCH",
          body: { archived: true },
        })
      ).archivedAt;
    });
    if (!done) return;
    changeEverywhere(item.id, () => null);
    count(item.folderId, -1);
    setStatus(fill(t.conversationArchived, { title: titleOf(item) }));
    props.onArchived(item.id, archivedAt);
    restoreFocus();
  };
  const remove = async (item: ConversationSummary, from: Element) => {
    if (!window.confirm(fill(t.deleteConversationConfirm, { title: titleOf(item) }))) return;
    const restoreFocus = keepFocusNear(from, nearFallback(item));
    if (!(await run(() => api(`/api/conversations/${item.id}`, { method: "DELETE" })))) return;
    changeEverywhere(item.id, () => null);
    count(item.folderId, -1);
    if (props.activeId === item.id) navigate("/");
    restoreFocus();
  };
  const rename = async (id: string) => {
    const trimmed = title.trim();
    // An empty title is not sent (the Save button is off for it too).
    if (!trimmed) return;
    if (!(await run(() => api(`/api/conversations/${id}`, { method: "PATCH", body: { title: trimmed } }))))
      return;
    changeEverywhere(id, (c) => ({ ...c, title: trimmed }));
    props.onRenamed(id, trimmed);
    stopRenaming(id);
  };

  /** Opens or closes a folder; opened, its conversations load. */
  const toggleFolder = (id: string) => {
    const opened = !openFolders.includes(id);
    const ids = opened ? [...openFolders, id] : openFolders.filter((other) => other !== id);
    setOpenFolders(ids);
    localStorage.setItem(OPEN_FOLDERS_KEY, JSON.stringify(ids));
    if (opened) void loadFolder(id);
  };
  const createFolder = async (name: string) => {
    const folder = await api<Folder>("/api/folders", { method: "POST", body: { name } });
    await loadFolders();
    setEditingFolder(undefined);
    focusAfter.current = `#folder-${CSS.escape(folder.id)} .folder-toggle`;
    setMenuFocus((n) => n + 1);
  };
  const renameFolder = async (folder: Folder, name: string) => {
    await api(`/api/folders/${folder.id}`, { method: "PATCH", body: { name } });
    await loadFolders();
    stopEditingFolder(folder.id);
  };
  /** Leaves a folder's name form; focus back where it began (its menu, or the New folder button). */
  const stopEditingFolder = (id: string | undefined) => {
    focusAfter.current = id ? `#folder-menu-${CSS.escape(id)} > summary` : "#new-folder";
    setEditingFolder(undefined);
    setMenuFocus((n) => n + 1);
  };
  /**
   * Deletes a folder, keeping its conversations (back in the main list) or with them. Focus goes to
   * the folder after it, else the one before, else New folder (on a phone whose drawer closed for
   * the dialog, to the drawer's button).
   */
  const deleteFolder = async (folder: Folder, withConversations: boolean) => {
    const row = document.getElementById(`folder-${folder.id}`);
    const candidates = [row?.nextElementSibling, row?.previousElementSibling].map((sibling) =>
      sibling?.querySelector<HTMLElement>(".folder-toggle"),
    );
    await api(`/api/folders/${folder.id}${withConversations ? "?withConversations=true" : ""}`, {
      method: "DELETE",
    });
    const deleted = new Set((folderPages[folder.id]?.conversations ?? []).map((c) => c.id));
    setDeletingFolder(undefined);
    setStatus(fill(t.folderDeleted, { name: folder.name }));
    setFolders((current) => current?.filter((other) => other.id !== folder.id));
    setFolderPages((pages) => Object.fromEntries(Object.entries(pages).filter(([id]) => id !== folder.id)));
    const ids = openFolders.filter((id) => id !== folder.id);
    setOpenFolders(ids);
    localStorage.setItem(OPEN_FOLDERS_KEY, JSON.stringify(ids));
    // Its conversations are back in the main list (or gone with it): the list loads again.
    setImports((n) => n + 1);
    const restoreFocus = () =>
      requestAnimationFrame(() =>
        setTimeout(() => {
          if (!focusLost()) return;
          const shown = [...candidates, document.getElementById("new-folder")].find(
            (candidate) => candidate?.isConnected && candidate.offsetParent !== null,
          );
          (shown ?? document.getElementById("conversation-sidebar-toggle"))?.focus();
        }),
      );
    if (withConversations && props.activeId) {
      if (deleted.has(props.activeId)) navigate("/");
      else
        await api(`/api/conversations/${props.activeId}`).catch((caught: unknown) => {
          if (caught instanceof ApiError && caught.status === 404) navigate("/");
        });
    }
    restoreFocus();
  };

  /** A control to focus once the list has drawn a change (a moved item's menu button, a new folder). */
  const focusAfter = useRef<string | undefined>(undefined);
  /** Counted up when something moved or a form closed: focusAfter gets focus. */
  const [menuFocus, setMenuFocus] = useState(0);
  /** Leaves the rename form; focus goes back to the item's menu button, where renaming began. */
  const stopRenaming = (id: string) => {
    focusAfter.current = `#menu-${CSS.escape(id)} > summary`;
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
  // once its item moved to another place in the list.
  // biome-ignore lint/correctness/useExhaustiveDependencies: menuFocus asks for focusAfter's focus
  useEffect(() => {
    if (!renaming) {
      const selector = focusAfter.current;
      focusAfter.current = undefined;
      if (selector) document.querySelector<HTMLElement>(selector)?.focus();
      return;
    }
    const input = document.getElementById(`rename-${renaming}`) as HTMLInputElement | null;
    input?.focus();
    input?.select();
  }, [renaming, menuFocus]);

  /** The ⋯ menu's "Move to folder": a folder chosen in the select, moved there by its button. */
  const renderMove = (item: ConversationSummary) =>
    folders &&
    folders.length > 0 && (
      <div className="move-to-folder">
        <label htmlFor={`move-${item.id}`}>{t.moveToFolder}</label>
        <select id={`move-${item.id}`} defaultValue={item.folderId ?? ""}>
          <option value="">{t.noFolder}</option>
          {folders.map((folder) => (
            <option key={folder.id} value={folder.id} title={folder.name}>
              {folder.name}
            </option>
          ))}
        </select>
        <button
          type="button"
          onClick={(event) => {
            const select = document.getElementById(`move-${item.id}`) as HTMLSelectElement;
            void move(item, select.value || null, event.currentTarget);
          }}
        >
          {t.move}
        </button>
      </div>
    );

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
          onKeyDown={cancelOnEscape(() => stopRenaming(item.id))}
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
        <ItemMenu id={`menu-${item.id}`} label={fill(t.moreActions, { title: titleOf(item) })}>
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
          {renderMove(item)}
          <button type="button" onClick={(event) => void archive(item, event.currentTarget)}>
            {t.archive}
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
          <a href={exportHref(item.id, "json")} download onClick={(event) => closeMenu(event.currentTarget)}>
            {t.exportJson}
          </a>
          <button type="button" onClick={(event) => void remove(item, event.currentTarget)}>
            {t.delete}
          </button>
        </ItemMenu>
      )}
    </li>
  );

  /** One folder: its button (opening it, named with its count), its menu, and its conversations when open. */
  const renderFolder = (folder: Folder) => {
    const shown = openFolders.includes(folder.id);
    const page = folderPages[folder.id];
    const named =
      folder.conversationCount === 1
        ? fill(t.folderWithOne, { name: folder.name })
        : fill(t.folderWithCount, { name: folder.name, n: folder.conversationCount });
    return (
      <li key={folder.id} id={`folder-${folder.id}`} className="folder">
        <div className="folder-row">
          {editingFolder === folder.id ? (
            <FolderNameForm
              id={`folder-name-${folder.id}`}
              initial={folder.name}
              submitLabel={t.save}
              onSubmit={(name) => renameFolder(folder, name)}
              onCancel={() => stopEditingFolder(folder.id)}
            />
          ) : (
            <>
              <button
                type="button"
                className="folder-toggle"
                aria-expanded={shown}
                aria-label={named}
                {...(shown ? { "aria-controls": `folder-items-${folder.id}` } : {})}
                onClick={() => toggleFolder(folder.id)}
              >
                <span className="folder-caret" aria-hidden="true">
                  {shown ? "▾" : "▸"}
                </span>
                <span className="folder-name">{folder.name}</span>
                <span className="folder-count" aria-hidden="true">
                  {folder.conversationCount}
                </span>
              </button>
              <ItemMenu id={`folder-menu-${folder.id}`} label={fill(t.folderActions, { name: folder.name })}>
                <button type="button" onClick={() => setEditingFolder(folder.id)}>
                  {t.renameFolder}
                </button>
                <button
                  type="button"
                  aria-haspopup="dialog"
                  onClick={(event) => {
                    event.currentTarget.closest("details")!.open = false;
                    setDeletingFolder(folder);
                  }}
                >
                  {t.deleteFolder}
                </button>
              </ItemMenu>
            </>
          )}
        </div>
        {shown && (
          <div id={`folder-items-${folder.id}`} className="folder-items">
            {page && page.conversations.length > 0 && (
              <ul className="conversation-list" aria-label={folder.name}>
                {page.conversations.map(renderItem)}
              </ul>
            )}
            {page && page.conversations.length === 0 && <p className="muted folder-empty">{t.folderEmpty}</p>}
            {page?.next && (
              <button
                type="button"
                className="wide small"
                onClick={(event) => void loadMore(event.currentTarget, folder.id)}
              >
                {t.loadMore}
              </button>
            )}
          </div>
        )}
      </li>
    );
  };

  const pinnedItems = items.filter((item) => item.pinned);
  const otherItems = items.filter((item) => !item.pinned);
  const hasFolders = !searching && folders !== undefined && folders.length > 0;

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
        <p className="visually-hidden" role="status">
          {status}
        </p>
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
        {/* The folders, between the pinned conversations and the rest; none while searching. */}
        {!searching && (
          <div className="folders">
            <div className="folders-header">
              {hasFolders && (
                <h2 className="list-heading" id="folders-heading">
                  {t.folders}
                </h2>
              )}
              {editingFolder !== "new" && (
                <button
                  type="button"
                  id="new-folder"
                  className="small new-folder"
                  onClick={() => setEditingFolder("new")}
                >
                  + {t.newFolder}
                </button>
              )}
            </div>
            {editingFolder === "new" && (
              <FolderNameForm
                id="folder-name-new"
                initial=""
                submitLabel={t.createFolder}
                onSubmit={createFolder}
                onCancel={() => stopEditingFolder(undefined)}
              />
            )}
            {hasFolders && (
              <ul className="folder-list" aria-labelledby="folders-heading">
                {folders.map(renderFolder)}
              </ul>
            )}
          </div>
        )}
        {(pinnedItems.length > 0 || hasFolders) && otherItems.length > 0 && (
          <h2 className="list-heading" id="recent-heading">
            {t.recentConversations}
          </h2>
        )}
        {otherItems.length > 0 && (
          <ul
            className="conversation-list"
            aria-labelledby={pinnedItems.length > 0 || hasFolders ? "recent-heading" : undefined}
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
        <a
          href="/archived"
          className="archived-link accent-link"
          onClick={(event) => {
            event.preventDefault();
            setOpen(false);
            navigate("/archived");
            focusWhenShown(`#${PAGE_HEADING}`);
          }}
        >
          {t.archivedChats}
        </a>
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
      {deletingFolder && (
        <DeleteFolderDialog
          folder={deletingFolder}
          onDelete={(withConversations) => deleteFolder(deletingFolder, withConversations)}
          onClose={() => {
            // Cancelled: back on the folder's menu.
            const menu = document.querySelector<HTMLElement>(
              `#folder-menu-${CSS.escape(deletingFolder.id)} > summary`,
            );
            (menu?.offsetParent ? menu : document.getElementById("conversation-sidebar-toggle"))?.focus();
            setDeletingFolder(undefined);
          }}
        />
      )}
    </>
  );
}

/**
 * A ⋯ menu (a conversation's, a folder's): Escape closes it, focus back on its button; focus gone
 * elsewhere closes it.
 */
function ItemMenu(props: { id: string; label: string; children: React.ReactNode }) {
  return (
    <details
      className="item-menu"
      id={props.id}
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
      <summary aria-label={props.label}>⋯</summary>
      <div className="item-menu-actions">{props.children}</div>
    </details>
  );
}
