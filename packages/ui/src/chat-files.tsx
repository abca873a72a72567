import { useCallback, useEffect, useRef, useState } from "react";
import { api } from "./api.js";
import { keepFocusNear } from "./focus.js";
import { labelWithName, useI18n } from "./i18n.js";
import {
  type DocumentRow,
  DocumentState,
  FileStatus,
  IN_PROGRESS,
  UploadProgress,
  uploadFile,
} from "./uploads.js";
import { ActionError } from "./use-action.js";

/** A file being attached to a chat, until the chat lists it as a document (or why it was refused). */
interface AttachmentRow {
  id: string;
  conversationId: string;
  name: string;
  progress: number;
  status: "uploading" | "error";
  error?: unknown;
}

/** A chat's files as the service lists them (GET /api/conversations/{id}/files). */
interface Listing {
  conversationId: string;
  /** The chat's own knowledge base (null until a file is attached). */
  knowledgeBaseId: string | null;
  documents: DocumentRow[];
}

/**
 * The files attached to the open chat (`conversationId`) and those being attached: listed, read
 * again every second while one is being ingested, attached (`attach`, to a chat already made; one
 * larger than `maxBytes` refused at once, as on the Knowledge page), removed. Each chat shows its
 * own; an upload goes on while another chat is opened.
 */
export function useChatFiles(conversationId: string | undefined, maxBytes: number | undefined) {
  const [listing, setListing] = useState<Listing>();
  const [uploads, setUploads] = useState<AttachmentRow[]>([]);
  const [error, setError] = useState<unknown>();
  // The chat shown now: an answer for another one (a slow load, a poll) is dropped.
  const shown = useRef(conversationId);
  shown.current = conversationId;
  const load = useCallback(async (id: string) => {
    const answer = await api<Omit<Listing, "conversationId">>(`/api/conversations/${id}/files`);
    if (shown.current === id) setListing({ conversationId: id, ...answer });
  }, []);
  useEffect(() => {
    setListing(undefined);
    setError(undefined);
    if (conversationId) void load(conversationId).catch(setError);
  }, [conversationId, load]);
  useEffect(() => {
    if (!listing?.documents.some((document) => IN_PROGRESS.has(document.status))) return;
    const timer = setTimeout(() => void load(listing.conversationId).catch(() => {}), 1000);
    return () => clearTimeout(timer);
  }, [listing, load]);

  /** Uploads the files to the chat `id`, each with its progress; a refused one stays, saying why. */
  const attach = async (id: string, files: File[]) => {
    setError(undefined);
    const rows: AttachmentRow[] = files.map((file) => ({
      // crypto.randomUUID needs a secure context, which a plain-HTTP deployment is not.
      id: `${Date.now()}-${Math.random()}`,
      conversationId: id,
      name: file.name,
      progress: 0,
      status: "uploading",
    }));
    // This chat's refused files give way to the new ones.
    setUploads((current) => [
      ...current.filter((row) => row.conversationId !== id || row.status === "uploading"),
      ...rows,
    ]);
    await Promise.all(
      files.map(async (file, index) => {
        const rowId = rows[index]!.id;
        const set = (change: Partial<AttachmentRow>) =>
          setUploads((current) => current.map((row) => (row.id === rowId ? { ...row, ...change } : row)));
        try {
          await uploadFile(`/api/conversations/${id}/files`, file, (progress) => set({ progress }), maxBytes);
          set({ progress: 1 });
          // Listed as a document (with its ingestion status) before its upload row goes.
          await load(id).catch(() => {});
          setUploads((current) => current.filter((row) => row.id !== rowId));
        } catch (caught) {
          set({ status: "error", error: caught });
        }
      }),
    );
  };

  /** Removes a file from the chat: the next answers are no longer grounded in it. */
  const remove = async (document: DocumentRow, from: Element) => {
    const id = listing?.conversationId;
    if (!id) return;
    const restoreFocus = keepFocusNear(from, () => window.document.getElementById("message-input"));
    setError(undefined);
    try {
      await api(`/api/conversations/${id}/files/${encodeURIComponent(document.id)}`, { method: "DELETE" });
      await load(id);
    } catch (caught) {
      setError(caught);
    }
    restoreFocus();
  };

  /** Takes a refused file's row away. */
  const dismiss = (rowId: string, from: Element) => {
    const restoreFocus = keepFocusNear(from, () => window.document.getElementById("message-input"));
    setUploads((current) => current.filter((row) => row.id !== rowId));
    restoreFocus();
  };

  return {
    listing: listing?.conversationId === conversationId ? listing : undefined,
    uploads: uploads.filter((row) => row.conversationId === conversationId),
    error,
    attach,
    remove,
    dismiss,
  };
}

/**
 * The chat's files over its message box: each with its upload's progress, then its ingestion's
 * status (Queued, Reading, Indexed; Failed and why, in the Knowledge page's words), a link that
 * opens it, and Remove. Every answer in the chat searches them.
 */
export function ChatFiles({ files }: { files: ReturnType<typeof useChatFiles> }) {
  const { t } = useI18n();
  const documents = files.listing?.documents ?? [];
  const knowledgeBaseId = files.listing?.knowledgeBaseId;
  if (documents.length === 0 && files.uploads.length === 0 && !files.error) return null;
  return (
    <section className="chat-files" aria-labelledby="chat-files-title">
      <h3 id="chat-files-title" className="visually-hidden">
        {t.chatFiles}
      </h3>
      <ActionError error={files.error} />
      <ul aria-live="polite" title={t.chatFilesHint}>
        {files.uploads.map((row) => (
          <li key={row.id} data-status={row.status}>
            <span className="file-name">{row.name}</span>{" "}
            <UploadProgress upload={row}>{t.uploadStatuses.uploading}</UploadProgress>
            {row.status === "error" && (
              <button
                type="button"
                className="remove-file"
                aria-label={labelWithName(t, t.removeFile, row.name)}
                title={t.removeFile}
                onClick={(event) => files.dismiss(row.id, event.currentTarget)}
              >
                ×
              </button>
            )}
          </li>
        ))}
        {documents.map((document) => (
          <li key={document.id} data-status={document.status}>
            <a
              className="file-name"
              href={`/api/knowledge-bases/${knowledgeBaseId}/documents/${document.id}/file`}
              target="_blank"
              rel="noopener noreferrer"
            >
              {document.name}
            </a>{" "}
            <FileStatus name={document.name}>
              <DocumentState document={document} />
            </FileStatus>
            <button
              type="button"
              className="remove-file"
              aria-label={labelWithName(t, t.removeFile, document.name)}
              title={t.removeFile}
              onClick={(event) => void files.remove(document, event.currentTarget)}
            >
              ×
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
