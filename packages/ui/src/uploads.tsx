import type { KnowledgeDocument } from "@hearth/contracts";
import type { ReactNode } from "react";
import { ApiError, csrfHeader, signOutSignal } from "./api.js";
import { documentStatusText } from "./display-text.js";
import { fill, labelWithName, useI18n } from "./i18n.js";
import { errorMessage } from "./use-action.js";

/**
 * Uploading documents to the knowledge service through the web service, and showing how they
 * fare: the Knowledge page's uploads to a base and the files attached to a chat share them.
 */

/** A document as the knowledge service lists it: what a page shows of it. */
export type DocumentRow = Pick<
  KnowledgeDocument,
  "id" | "name" | "status" | "error" | "chunkCount" | "progress" | "jobId" | "enabled"
> &
  Partial<Pick<KnowledgeDocument, "source">>;

/** Statuses a document passes through while it is ingested; lists refresh until none is left. */
export const IN_PROGRESS = new Set<DocumentRow["status"]>(["queued", "parsing", "embedding"]);

/** The knowledge service's answer to an upload (202): the job and the documents it ingests. */
export interface UploadAnswer {
  job?: { id: string };
  documents?: Array<{ id: string }>;
}

/**
 * Uploads one file as a multipart `file` part to `url` (a base's documents, a chat's files), with
 * progress (XMLHttpRequest reports upload progress; fetch does not). A refusal rejects with the
 * service's error (an ApiError by its code, shown in the reader's language like any other). A file
 * larger than `maxBytes` (the knowledge service's limit, GET /api/knowledge-bases; unknown while it
 * is read) is refused at once, as the service would refuse it once the whole file had been sent.
 */
export function uploadFile(
  url: string,
  file: File,
  onProgress: (fraction: number) => void,
  maxBytes: number | undefined,
): Promise<UploadAnswer> {
  if (maxBytes !== undefined && file.size > maxBytes)
    return Promise.reject(
      new ApiError(413, "DOCUMENT_TOO_LARGE", `The file is larger than the limit of ${maxBytes} bytes`, {
        maxBytes,
      }),
    );
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("POST", url);
    for (const [name, value] of Object.entries(csrfHeader())) request.setRequestHeader(name, value);
    request.upload.onprogress = (event) => event.lengthComputable && onProgress(event.loaded / event.total);
    request.onload = () => {
      if (request.status < 300) {
        try {
          resolve(JSON.parse(request.responseText) as UploadAnswer);
        } catch {
          resolve({});
        }
      } else {
        let error: { code?: string; message?: string; details?: Record<string, unknown> } | undefined;
        try {
          error = (JSON.parse(request.responseText) as { error?: typeof error }).error;
        } catch {
          // no JSON body: the status text
        }
        reject(
          new ApiError(
            request.status,
            error?.code ?? "HTTP_ERROR",
            error?.message ?? request.statusText,
            error?.details,
          ),
        );
      }
    };
    request.onerror = () => reject(new ApiError(0, "NETWORK_ERROR", "network error"));
    request.onabort = () => reject(new ApiError(0, "NETWORK_ERROR", "upload stopped"));
    // A sign-out stops it, as it stops every other request of the account that left.
    const signal = signOutSignal();
    if (signal.aborted) return request.onabort(new ProgressEvent("abort"));
    signal.addEventListener("abort", () => request.abort(), { once: true });
    const form = new FormData();
    form.append("file", file, file.name);
    request.send(form);
  });
}

/**
 * A document's stage as ingestion goes (Queued, Reading, Embedding, Indexing, Indexed, Failed,
 * Cancelled), with how far a big one has got (a PDF's pages read, passages embedded, chunks indexed)
 * and why one stopped, in the reader's language: a failure in the error colour, a cancelled import
 * not. While it is worked on and the service says nothing of how far, a bar that moves shows that it is.
 */
export function DocumentState({ document }: { document: DocumentRow }) {
  const { t } = useI18n();
  const { progress } = document;
  const working = IN_PROGRESS.has(document.status) && document.status !== "queued";
  const { stage, note, failed } = documentStatusText(t, document);
  return (
    <>
      <span className="nowrap">{stage}</span>
      {working && (
        <span className="document-progress">
          {" "}
          <progress
            value={progress?.done}
            max={progress && Math.max(1, progress.total)}
            aria-label={labelWithName(t, document.name, stage)}
          />
          {progress && (
            <>
              {" "}
              <span className="nowrap">
                {fill(t.documentProgress[progress.phase], { done: progress.done, total: progress.total })}
              </span>
            </>
          )}
        </span>
      )}
      {note && <span className={failed ? "error-text document-error" : "muted document-error"}> {note}</span>}
    </>
  );
}

/**
 * A file's status beside its name, said whole when it changes: a live region reads the file's
 * name with its status ("report.pdf: Indexed"), not the status alone.
 */
export function FileStatus({ name, children }: { name: string; children: ReactNode }) {
  const { t } = useI18n();
  return (
    <span aria-atomic="true">
      <span className="visually-hidden">{fill(t.fieldValue, { field: name, value: "" })}</span>
      {children}
    </span>
  );
}

/**
 * A file being sent (a base's upload, a chat's attachment): how much of it has gone, then its
 * status (`children`), or why it was refused.
 */
export function UploadProgress(props: {
  upload: { name: string; progress: number; status: string; error?: unknown };
  /** Sent, but its ingestion failed: the bar is in the error colour, as for a file refused. */
  failed?: boolean | undefined;
  children: ReactNode;
}) {
  const { t } = useI18n();
  const { upload } = props;
  const failed = props.failed || upload.status === "error";
  return (
    <>
      <progress
        value={upload.progress}
        max={1}
        aria-label={upload.name}
        className={failed ? "failed" : undefined}
      />{" "}
      <FileStatus name={upload.name}>
        {upload.status === "error" ? (
          <span className="error-text">{errorMessage(t, upload.error)}</span>
        ) : (
          props.children
        )}
      </FileStatus>
    </>
  );
}
