import { KNOWLEDGE_BASE_NAME_MAX_CHARS } from "@hearth/contracts/knowledge-base-name";
import { type DragEvent, type FormEvent, useCallback, useEffect, useRef, useState } from "react";
import { ApiError, api, type ModelsAnswer } from "./api.js";
import { DataTable } from "./data-table.js";
import {
  documentStatusText,
  knowledgeBaseBadgeText,
  type RequestIssue,
  viewPassagesText,
} from "./display-text.js";
import { DocumentPassages } from "./document-passages.js";
import { chosenFolderFiles, droppedFiles, firstOfEachName } from "./dropped-files.js";
import { keepFocusNear, PAGE_HEADING, usePageTitle } from "./focus.js";
import { fill, labelWithName, type Messages, useI18n } from "./i18n.js";
import {
  type KnowledgeBaseSettings,
  KnowledgeBaseSettingsForm,
  type SettingsNotice,
} from "./knowledge-base-settings.js";
import { startUploads, type UploadRow, useUploads } from "./knowledge-uploads.js";
import { CopyButton } from "./markdown.js";
import { RetrievalTest } from "./retrieval-test.js";
import { knowledgeBaseInPath, navigate, usePath } from "./router.js";
import { type DocumentRow, DocumentState, IN_PROGRESS, UploadProgress } from "./uploads.js";
import { ActionError, useAction } from "./use-action.js";

interface KnowledgeBase extends KnowledgeBaseSettings {
  updatedAt?: string;
  permission: "read" | "write" | "manage";
  visibility?: string;
  /** Made outside the web UI and not yet adopted: listed to administrators only, to adopt. */
  unowned?: boolean;
  documentCount?: number;
  /** Documents indexed with older settings (embedding model, chunking, or an earlier Hearth): a re-index brings them current. */
  staleDocumentCount?: number;
  /** A folder on the knowledge service's machine that the base mirrors (re-sync reads it again). */
  watchFolder?: string | null;
}

/** How many seconds a watched folder just set is looked at for its first files. */
const SYNC_POLLS = 30;

/** What an action on the base shown came to, said beside its documents (in the language of the moment). */
type PageNotice =
  | { key: "webPageAdding"; url: string }
  | { key: "repeatedFileNames"; names: string[] }
  | { key: "resyncStarted" }
  | { key: "reindexStarted" };

/** A notice in the reader's language. */
function noticeText(t: Messages, notice: PageNotice): string {
  switch (notice.key) {
    case "webPageAdding":
      return fill(t.webPageAdding, { url: notice.url });
    case "repeatedFileNames":
      return fill(t.repeatedFileNames, { names: notice.names.join(t.errorDetails.separator) });
    default:
      return t[notice.key];
  }
}

/** What is wrong with a new base's name, as the service would list it (details.issues), if anything. */
function nameIssue(name: string): RequestIssue | undefined {
  const length = name.trim().length;
  if (length === 0) return { path: "name", code: "too_small", origin: "string", minimum: 1 };
  if (length > KNOWLEDGE_BASE_NAME_MAX_CHARS)
    return { path: "name", code: "too_big", origin: "string", maximum: KNOWLEDGE_BASE_NAME_MAX_CHARS };
  return undefined;
}

interface Access {
  visibility: "private" | "shared" | "public";
  shares: Array<{ groupId: string; permission: "read" | "write" }>;
  groups: Array<{ id: string; name: string }>;
}

/**
 * Who may use a base (its manager only): private, shared with chosen groups (each reading or
 * editing), or public to every user (read; groups given edit keep it).
 */
function Sharing(props: {
  knowledgeBase: KnowledgeBase;
  run(action: () => Promise<unknown>): Promise<boolean>;
  onChanged(): Promise<unknown>;
}) {
  const { t } = useI18n();
  const { knowledgeBase, run, onChanged } = props;
  const [access, setAccess] = useState<Access | undefined>();
  // Each change sends the whole sharing: one at a time, each from the last one saved.
  const [saving, setSaving] = useState(false);
  const path = `/api/knowledge-bases/${knowledgeBase.id}/access`;
  useEffect(() => {
    let current = true;
    void run(async () => {
      const answer = await api<Access>(path);
      if (current) setAccess(answer);
    });
    return () => {
      current = false;
    };
  }, [path, run]);
  if (!access) return null;
  // A change made while one is saved is not taken (the select shows the saved choice); the selects
  // stay enabled meanwhile, marked aria-disabled, so focus stays on them (a disabled one loses it,
  // and each arrow key would send the keyboard user back to the page's start).
  const save = async (change: Pick<Access, "visibility" | "shares">) => {
    if (saving) return;
    setSaving(true);
    const saved = await run(() => api(path, { method: "PUT", body: change }));
    if (saved) setAccess({ ...access, ...change });
    setSaving(false);
    if (saved) await onChanged();
  };
  const shareOf = (groupId: string) =>
    access.shares.find((share) => share.groupId === groupId)?.permission ?? "";
  const setShare = (groupId: string, permission: string) => {
    const others = access.shares.filter((share) => share.groupId !== groupId);
    void save({
      visibility: access.visibility,
      shares: permission ? [...others, { groupId, permission: permission as "read" | "write" }] : others,
    });
  };
  return (
    <fieldset className="sharing">
      <legend>{t.visibility}</legend>
      <select
        aria-label={t.visibility}
        aria-disabled={saving}
        value={access.visibility}
        onChange={(e) => {
          // Public asks first: an arrow key passing over it (a select changes on each) opens nothing.
          const visibility = e.target.value as Access["visibility"];
          if (saving) return;
          if (
            visibility === "public" &&
            !window.confirm(fill(t.makePublicConfirm, { name: knowledgeBase.name }))
          )
            return;
          void save({ visibility, shares: access.shares });
        }}
      >
        <option value="private">{t.private}</option>
        <option value="shared">{t.shared}</option>
        <option value="public">{t.public}</option>
      </select>
      {access.visibility !== "private" &&
        (access.groups.length === 0 ? (
          <p className="muted">{t.noGroupsToShare}</p>
        ) : (
          <ul>
            {access.groups.map((group) => (
              <li key={group.id}>
                <label>
                  {group.name}{" "}
                  <select
                    aria-disabled={saving}
                    value={shareOf(group.id)}
                    onChange={(e) => setShare(group.id, e.target.value)}
                  >
                    <option value="">{t.notShared}</option>
                    <option value="read">{t.permissions.read}</option>
                    <option value="write">{t.permissions.write}</option>
                  </select>
                </label>
              </li>
            ))}
          </ul>
        ))}
    </fieldset>
  );
}

/**
 * Knowledge bases: create, upload with per-file progress and errors, documents (each switched on
 * or off for answers), delete, re-sync, sharing, and a retrieval test of the base shown.
 */
export function KnowledgePage({ admin, models }: { admin: boolean; models: ModelsAnswer | undefined }) {
  const { t } = useI18n();
  // Unknown until the list is read: "none yet" is said of a list read empty, never while it loads.
  const [bases, setBases] = useState<KnowledgeBase[]>();
  /** The largest file the knowledge service takes, listed with the bases: a larger one is not sent. */
  const [maxUploadBytes, setMaxUploadBytes] = useState<number>();
  // The base shown is the address's (/knowledge/<id>): a reload opens it again, Back and Forward go
  // between the bases opened.
  const path = usePath();
  const selected = knowledgeBaseInPath(path);
  const setSelected = useCallback(
    (id: string | undefined) => navigate(id ? `/knowledge/${encodeURIComponent(id)}` : "/knowledge"),
    [],
  );
  const [documents, setDocuments] = useState<DocumentRow[]>([]);
  /** The base whose documents were last read: "none yet" is said of a list read empty, not while it loads. */
  const [documentsOf, setDocumentsOf] = useState<string>();
  // Kept for the tab, not this page: they go on while another page is shown (knowledge-uploads.ts).
  const { rows: uploads, settled } = useUploads();
  const [name, setName] = useState("");
  /** What the last action on the base shown came to: kept as what to say, said in the language of the moment. */
  const [notice, setNotice] = useState<PageNotice>();
  /** What the last save of the base's settings came to, said beside its Save button. */
  const [settingsNotice, setSettingsNotice] = useState<SettingsNotice>();
  /** A web page's address being typed, to add to the base shown. */
  const [pageUrl, setPageUrl] = useState("");
  /** The document whose passages are open in their dialog. */
  const [passagesOf, setPassagesOf] = useState<DocumentRow>();
  const { error, run } = useAction();
  /**
   * A write the service refused (403) because the user's access to the base shown was lowered
   * meanwhile: the refusal, and what the base's permissions read again came to ("read": its write
   * controls are gone; "none": it is gone from the list). Said instead of the bare refusal.
   */
  const [accessLowered, setAccessLowered] = useState<{ cause: unknown; now: "read" | "none" }>();
  usePageTitle(t.knowledge);

  const load = useCallback(
    () =>
      run(async () => {
        const answer = await api<{ knowledgeBases: KnowledgeBase[]; maxUploadBytes?: number }>(
          "/api/knowledge-bases",
        );
        setBases(answer.knowledgeBases);
        setMaxUploadBytes(answer.maxUploadBytes);
      }),
    [run],
  );
  /**
   * After a write to a base was refused (403), its permissions are read again: a member whose
   * access was lowered while the page was open (write to read, or removed) is told so, and the
   * base's write controls go, rather than each one being refused in turn.
   */
  const recheckAccess = useCallback(async (knowledgeBaseId: string, cause: unknown) => {
    const answer = await api<{ knowledgeBases: KnowledgeBase[]; maxUploadBytes?: number }>(
      "/api/knowledge-bases",
    ).catch(() => undefined);
    if (!answer) return;
    setBases(answer.knowledgeBases);
    const now = answer.knowledgeBases.find((b) => b.id === knowledgeBaseId);
    if (!now) setAccessLowered({ cause, now: "none" });
    else if (now.permission === "read") setAccessLowered({ cause, now: "read" });
  }, []);
  useEffect(() => {
    if (error instanceof ApiError && error.status === 403 && selected) void recheckAccess(selected, error);
  }, [error, selected, recheckAccess]);
  // The base shown now: an answer for another one (a slow load, a poll, an upload's reload) is dropped.
  const shown = useRef(selected);
  shown.current = selected;
  const loadDocuments = useCallback(async (id: string) => {
    const answer = await api<{ documents: DocumentRow[] }>(`/api/knowledge-bases/${id}/documents`);
    if (shown.current === id) {
      setDocuments(answer.documents);
      setDocumentsOf(id);
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);
  // A base without an owner has no documents to show until it is adopted (then they load).
  const selectedUnowned = !!bases?.some((b) => b.id === selected && b.unowned);
  useEffect(() => {
    setDocuments([]);
    setAccessLowered(undefined);
    setSyncPolls(0);
    setNotice(undefined);
    setSettingsNotice(undefined);
    setPassagesOf(undefined);
    if (selected && !selectedUnowned) void run(() => loadDocuments(selected));
  }, [selected, selectedUnowned, loadDocuments, run]);
  // Each upload that ends adds its documents (or its failure): the base shown is read again.
  const seenSettled = useRef(settled);
  useEffect(() => {
    if (seenSettled.current === settled) return;
    seenSettled.current = settled;
    if (selected && !selectedUnowned) void run(() => loadDocuments(selected));
    // An upload refused for want of access: the base's permissions may have been lowered meanwhile.
    const refused = uploads.find(
      (row) => row.knowledgeBaseId === selected && row.error instanceof ApiError && row.error.status === 403,
    );
    if (selected && refused) void recheckAccess(selected, refused.error);
  }, [settled, selected, selectedUnowned, loadDocuments, run, uploads, recheckAccess]);
  // The documents are read again every second while some are being ingested, and while a watched
  // folder just set is being read, until its documents show, for at most SYNC_POLLS seconds: one
  // read a second for both.
  const [syncPolls, setSyncPolls] = useState(0);
  useEffect(() => {
    if (documents.some((document) => document.source === "folder")) setSyncPolls(0);
  }, [documents]);
  useEffect(() => {
    const ingesting = documents.some((document) => IN_PROGRESS.has(document.status));
    if (!selected || (syncPolls <= 0 && !ingesting)) return;
    const timer = setTimeout(() => {
      void loadDocuments(selected).catch(() => {});
      if (syncPolls > 0) setSyncPolls((left) => left - 1);
    }, 1000);
    return () => clearTimeout(timer);
  }, [selected, syncPolls, documents, loadDocuments]);

  const create = async (event: FormEvent) => {
    event.preventDefault();
    await run(async () => {
      // The service's limits, said before the name is sent, in the words its refusal would get.
      const problem = nameIssue(name);
      // Kept as the refusal it stands for, so that it is said in the language of the moment.
      if (problem) throw new ApiError(400, "INVALID_REQUEST", "", { issues: [problem] });
      const created = await api<KnowledgeBase>("/api/knowledge-bases", { method: "POST", body: { name } });
      setName("");
      await load();
      setSelected(created.id);
    });
  };

  /**
   * Adds a web page by its address: the knowledge service fetches it (within the operator's network
   * rules, docs/knowledge.md) and indexes it as an upload; its row shows how that goes.
   */
  const addWebPage = async (event: FormEvent) => {
    event.preventDefault();
    if (!selected) return;
    const url = pageUrl.trim();
    await run(async () => {
      await api(`/api/knowledge-bases/${encodeURIComponent(selected)}/documents/from-url`, {
        method: "POST",
        body: { url },
      });
      setPageUrl("");
      setNotice({ key: "webPageAdding", url });
      await loadDocuments(selected);
    });
  };

  /**
   * Uploads files to the base shown, the first of each name only (a later upload of a name replaces
   * the earlier document): the names given more than once are said.
   */
  const upload = (given: readonly File[]) => {
    if (!selected || given.length === 0) return;
    const { files, repeated } = firstOfEachName(given);
    setNotice(repeated.length > 0 ? { key: "repeatedFileNames", names: repeated } : undefined);
    void startUploads(selected, files, maxUploadBytes);
  };
  /** A drag over the page's drop zone: files (and folders) are taken, not opened by the browser. */
  const [dragging, setDragging] = useState(false);
  const dragOver = (event: DragEvent<HTMLElement>) => {
    if (!event.dataTransfer.types.includes("Files")) return;
    event.preventDefault();
    setDragging(true);
  };
  const drop = (event: DragEvent<HTMLElement>) => {
    if (!event.dataTransfer.types.includes("Files")) return;
    event.preventDefault();
    setDragging(false);
    void droppedFiles(event.dataTransfer).then(upload);
  };

  /**
   * Stops the ingestion job a document is in (whoever started it, from whatever page load): its
   * documents not yet indexed are listed failed with JOB_CANCELLED, which reads Cancelled. A job
   * that has other documents still to do (several files at once, a folder's scan) asks first, naming
   * how many. The button goes: focus goes to the document's row.
   */
  const cancelImport = async (knowledgeBase: KnowledgeBase, document: DocumentRow, from: Element) => {
    const jobId = document.jobId;
    if (!jobId) return;
    const together = documents.filter((d) => d.jobId === jobId && IN_PROGRESS.has(d.status)).length;
    if (together > 1 && !window.confirm(fill(t.cancelImportConfirm, { n: together }))) return;
    const restoreFocus = keepFocusNear(from, () => window.document.getElementById("documents-title"));
    await run(async () => {
      await api(`/api/jobs/${encodeURIComponent(jobId)}/cancel`, { method: "POST", body: {} });
      await loadDocuments(knowledgeBase.id);
    });
    restoreFocus();
  };

  /**
   * What an upload's ingestion came to, once none of its documents is in progress any more:
   * indexed, or failed (or cancelled) and why (the uploads' live region says it once); undefined
   * before.
   */
  const outcome = (row: UploadRow): { failed: boolean; text: string } | undefined => {
    if (!row.job) return undefined;
    const ids = row.job.documentIds;
    const mine = documents.filter((document) => ids.includes(document.id));
    if (mine.length === 0 || mine.some((document) => IN_PROGRESS.has(document.status))) return undefined;
    const stopped = mine.find((document) => document.status === "failed");
    if (!stopped) return { failed: false, text: t.documentStatuses.indexed };
    const { stage, note, failed } = documentStatusText(t, stopped);
    // A cancelled import is not a failure (its bar not in the error colour), a refused file is.
    return { failed, text: note ? fill(t.fieldValue, { field: stage, value: note }) : stage };
  };

  const base = bases?.find((b) => b.id === selected);
  const baseUploads = uploads.filter((row) => row.knowledgeBaseId === selected);
  const removeDocument = async (knowledgeBase: KnowledgeBase, document: DocumentRow, from: Element) => {
    // One mirrored from the watched folder comes back at the next sync while its file is there: said first.
    const confirm = document.source === "folder" ? t.deleteFolderDocumentConfirm : t.deleteDocumentConfirm;
    if (!window.confirm(fill(confirm, { name: document.name }))) return;
    const restoreFocus = keepFocusNear(from, () => window.document.getElementById("documents-title"));
    await run(async () => {
      await api(`/api/knowledge-bases/${knowledgeBase.id}/documents/${document.id}`, { method: "DELETE" });
      await loadDocuments(knowledgeBase.id);
    });
    restoreFocus();
  };
  /**
   * Switches a document off for answers (chats, the API, the retrieval test), or on again: it stays
   * stored and indexed, at once either way. The row shows the new state while it is sent, and goes
   * back if the service refuses it.
   */
  const switchDocument = async (knowledgeBase: KnowledgeBase, document: DocumentRow, enabled: boolean) => {
    const show = (value: boolean) =>
      setDocuments((rows) => rows.map((row) => (row.id === document.id ? { ...row, enabled: value } : row)));
    show(enabled);
    const path = `/api/knowledge-bases/${knowledgeBase.id}/documents/${document.id}`;
    if (!(await run(() => api(path, { method: "PATCH", body: { enabled } })))) show(!enabled);
  };
  const resync = async (knowledgeBase: KnowledgeBase) => {
    setNotice(undefined);
    if (await run(() => api(`/api/knowledge-bases/${knowledgeBase.id}/sync`, { method: "POST", body: {} }))) {
      setNotice({ key: "resyncStarted" });
      await run(() => loadDocuments(knowledgeBase.id));
    }
  };
  const reindex = async (knowledgeBase: KnowledgeBase) => {
    setNotice(undefined);
    if (
      await run(() => api(`/api/knowledge-bases/${knowledgeBase.id}/reindex`, { method: "POST", body: {} }))
    ) {
      setNotice({ key: "reindexStarted" });
      await run(() => loadDocuments(knowledgeBase.id));
      await load();
    }
  };
  const adopt = async (knowledgeBase: KnowledgeBase) => {
    if (await run(() => api(`/api/knowledge-bases/${knowledgeBase.id}/adopt`, { method: "POST", body: {} })))
      await load();
  };
  const removeBase = async (knowledgeBase: KnowledgeBase) => {
    if (!window.confirm(fill(t.deleteKnowledgeBaseConfirm, { name: knowledgeBase.name }))) return;
    // Its section goes with it: focus goes to the base beside it in the list.
    const restoreFocus = keepFocusNear(window.document.getElementById(`kb-${knowledgeBase.id}`)!, () =>
      window.document.getElementById(PAGE_HEADING),
    );
    if (await run(() => api(`/api/knowledge-bases/${knowledgeBase.id}`, { method: "DELETE" }))) {
      setSelected(undefined);
      await load();
    }
    restoreFocus();
  };
  return (
    <div className="page">
      <h2 id={PAGE_HEADING} tabIndex={-1}>
        {t.knowledgeBases}
      </h2>
      {accessLowered && (
        <p className="error-text" role="alert">
          {accessLowered.now === "read" ? t.knowledgeBaseNowReadOnly : t.knowledgeBaseAccessLost}
        </p>
      )}
      {/* The refusal that showed the access lowered is said by the note above, not again. */}
      <ActionError error={error === accessLowered?.cause ? undefined : error} />
      <form className="inline-form" onSubmit={create}>
        <label>
          {t.newKnowledgeBase}
          <input value={name} onChange={(e) => setName(e.target.value)} required />
        </label>
        <button type="submit">{t.create}</button>
      </form>
      {bases?.length === 0 && <p className="muted">{t.noKnowledgeBases}</p>}
      <ul className="kb-list">
        {bases?.map((b) => (
          <li key={b.id} id={`kb-${b.id}`}>
            <button type="button" aria-pressed={b.id === selected} onClick={() => setSelected(b.id)}>
              {b.name}
            </button>{" "}
            <span className="badge">{knowledgeBaseBadgeText(t, b)}</span>
          </li>
        ))}
      </ul>
      {base?.unowned && (
        <section aria-labelledby="kb-title">
          <h3 id="kb-title">{base.name}</h3>
          <p>{t.unownedHint}</p>
          <div className="actions">
            <button type="button" onClick={() => void adopt(base)}>
              {t.adopt}
            </button>
          </div>
        </section>
      )}
      {base && !base.unowned && (
        <section aria-labelledby="kb-title">
          <h3 id="kb-title">{base.name}</h3>
          {base.description && <p className="knowledge-description">{base.description}</p>}
          <p className="muted">
            {base.embeddingModel
              ? fill(t.knowledgeSearchHybrid, { model: base.embeddingModel })
              : t.knowledgeSearchFullText}
          </p>
          <p className="muted">
            {t.knowledgeBaseId} <code>{base.id}</code>{" "}
            <CopyButton text={base.id} label={t.copyKnowledgeBaseId} />
          </p>
          {base.permission !== "read" && (
            // biome-ignore lint/a11y/noStaticElementInteractions: the pickers inside are the keyboard's way; the drop zone is a mouse's
            <div
              className={dragging ? "upload-drop dragging" : "upload-drop"}
              onDragOver={dragOver}
              onDragLeave={() => setDragging(false)}
              onDrop={drop}
            >
              <label className="upload">
                <span>{t.upload}</span>
                {/* A picker per base: the files chosen for one are not shown as chosen for the next. */}
                <input
                  key={base.id}
                  type="file"
                  multiple
                  onChange={(e) => upload(Array.from(e.target.files ?? []))}
                />
              </label>
              <label className="upload">
                <span>{t.uploadFolder}</span>
                <input
                  key={`${base.id}-folder`}
                  type="file"
                  {...{ webkitdirectory: "" }}
                  onChange={(e) => upload(chosenFolderFiles(Array.from(e.target.files ?? [])))}
                />
              </label>
              <p className="muted">{t.dropFilesHint}</p>
            </div>
          )}
          {base.permission !== "read" && (
            <form className="inline-form web-page-form" onSubmit={addWebPage}>
              <label>
                {t.addWebPage}
                <input
                  type="url"
                  value={pageUrl}
                  placeholder="https://"
                  onChange={(e) => setPageUrl(e.target.value)}
                  required
                />
              </label>
              <button type="submit">{t.addWebPageButton}</button>
            </form>
          )}
          {baseUploads.some((row) => row.status === "uploading") && <p className="muted">{t.uploadsGoOn}</p>}
          {baseUploads.length > 0 && (
            <ul className="uploads" aria-live="polite">
              {baseUploads.map((row) => {
                const ingested = outcome(row);
                return (
                  <li key={row.id} data-status={row.status}>
                    {row.name}{" "}
                    <UploadProgress upload={row} failed={ingested?.failed}>
                      {ingested ? (
                        <span className={ingested.failed ? "error-text" : undefined}>{ingested.text}</span>
                      ) : (
                        t.uploadStatuses[row.status]
                      )}
                    </UploadProgress>
                  </li>
                );
              })}
            </ul>
          )}
          {notice && <output>{noticeText(t, notice)}</output>}
          <h4 id="documents-title" tabIndex={-1}>
            {t.documents}
          </h4>
          {documentsOf === base.id && documents.length === 0 && <p className="muted">{t.noDocuments}</p>}
          {/* On a phone each document is a card (documents-table in styles.css): no sideways scrolling. */}
          {documents.length > 0 && (
            <DataTable
              label={t.documents}
              columns={[t.name, t.status, t.chunks]}
              nowrap={[1, 2]}
              actions
              pinFirst
              className="documents-table"
            >
              {documents.map((document) => {
                // Not indexed, and never will be as it is (a refused file, a cancelled import): no
                // switch for answers, no passages; its file still downloads (its uploader's own), muted.
                const failed = document.status === "failed";
                return (
                  <tr
                    key={document.id}
                    data-status={document.status}
                    className={document.enabled === false ? "document-off" : undefined}
                  >
                    <td className="document-name">
                      <a
                        href={`/api/knowledge-bases/${base.id}/documents/${document.id}/file`}
                        target="_blank"
                        rel="noopener noreferrer"
                        className={failed ? "document-file-failed" : undefined}
                        title={failed ? t.documentFileNotIndexed : undefined}
                      >
                        {document.name}
                      </a>
                      {document.source === "folder" && (
                        <>
                          {" "}
                          <span className="badge folder-badge" title={t.fromWatchedFolderHint}>
                            {t.fromWatchedFolder}
                          </span>
                        </>
                      )}
                      {document.enabled === false && (
                        <>
                          {" "}
                          <span className="badge" title={t.documentOffHint}>
                            {t.documentOff}
                          </span>
                        </>
                      )}
                    </td>
                    <td>
                      <DocumentState document={document} />
                    </td>
                    <td className="nowrap document-passages" data-label={t.chunks}>
                      {document.status === "indexed" && document.chunkCount > 0 ? (
                        <button
                          type="button"
                          className="link"
                          aria-label={viewPassagesText(t, document.chunkCount, document.name)}
                          onClick={() => setPassagesOf(document)}
                        >
                          {document.chunkCount}
                        </button>
                      ) : document.status === "indexed" ? (
                        document.chunkCount
                      ) : (
                        ""
                      )}
                    </td>
                    <td>
                      <div className="document-actions">
                        {base.permission !== "read" && failed && (
                          <span className="muted document-not-indexed">{t.documentNotIndexed}</span>
                        )}
                        {base.permission !== "read" && !failed && (
                          <label className="document-switch">
                            <input
                              type="checkbox"
                              checked={document.enabled !== false}
                              aria-label={fill(t.useDocumentInAnswers, { name: document.name })}
                              onChange={(event) => void switchDocument(base, document, event.target.checked)}
                            />
                            {t.inAnswers}
                          </label>
                        )}
                        {base.permission !== "read" && document.jobId && IN_PROGRESS.has(document.status) && (
                          <button
                            type="button"
                            aria-label={labelWithName(t, t.cancelImport, document.name)}
                            onClick={(event) => void cancelImport(base, document, event.currentTarget)}
                          >
                            {t.cancelImport}
                          </button>
                        )}
                        {base.permission !== "read" && (
                          <button
                            type="button"
                            aria-label={labelWithName(t, t.delete, document.name)}
                            onClick={(event) => void removeDocument(base, document, event.currentTarget)}
                          >
                            {t.delete}
                          </button>
                        )}
                      </div>
                    </td>
                  </tr>
                );
              })}
            </DataTable>
          )}
          <div className="actions">
            {base.permission !== "read" && base.watchFolder && (
              <button type="button" onClick={() => void resync(base)}>
                {t.resync}
              </button>
            )}
            {base.permission === "manage" && (base.staleDocumentCount ?? 0) > 0 && (
              <button type="button" title={t.reindexHint} onClick={() => void reindex(base)}>
                {fill(t.reindex, { n: String(base.staleDocumentCount) })}
              </button>
            )}
            {base.permission === "manage" && (
              <>
                <Sharing key={base.id} knowledgeBase={base} run={run} onChanged={load} />
                <button type="button" onClick={() => void removeBase(base)}>
                  {t.deleteKnowledgeBase}
                </button>
              </>
            )}
          </div>
          {base.permission === "manage" && (
            <details className="knowledge-settings-panel">
              <summary>{t.knowledgeSettings}</summary>
              {/* Made anew from the base as saved: a change saved elsewhere, or a refusal, shows as it is. */}
              <KnowledgeBaseSettingsForm
                key={`${base.id}:${base.updatedAt ?? ""}`}
                knowledgeBase={base}
                documentCount={documents.length}
                admin={admin}
                models={models}
                notice={settingsNotice}
                onSaved={async (saved) => {
                  setSettingsNotice(saved);
                  if (saved === "knowledgeSettingsSavedSyncing") setSyncPolls(SYNC_POLLS);
                  await load();
                  await run(() => loadDocuments(base.id));
                }}
              />
            </details>
          )}
          {/* A test per base: another base's question and passages are not shown for this one. */}
          <RetrievalTest
            key={base.id}
            knowledgeBaseId={base.id}
            minRelevance={base.minRelevance ?? 0}
            rerankModel={base.rerankModel ?? null}
            embeddingModel={base.embeddingModel ?? null}
          />
          {passagesOf && (
            <DocumentPassages
              knowledgeBaseId={base.id}
              document={passagesOf}
              onClose={() => setPassagesOf(undefined)}
            />
          )}
        </section>
      )}
    </div>
  );
}
