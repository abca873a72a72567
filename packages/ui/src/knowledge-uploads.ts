import { useSyncExternalStore } from "react";
import { type UploadAnswer, uploadFile } from "./uploads.js";

/**
 * The knowledge page's uploads, kept for the whole tab rather than the page: they go on while the
 * user moves to another page of the app (the page shows them again when they come back), and while
 * one is still being sent, leaving the app itself (closing or reloading the tab, another site) asks
 * first, since the files not yet sent would be lost. Signing out stops them (app.tsx asks first).
 */

export interface UploadRow {
  id: string;
  /** The base it was uploaded to: each base shows its own uploads (one still running goes on meanwhile). */
  knowledgeBaseId: string;
  name: string;
  progress: number;
  status: "uploading" | "done" | "error";
  /** Why it failed (shown in the language of the moment). */
  error?: unknown;
  /** The ingestion job the upload started, and its documents: what its ingestion came to. */
  job?: { id: string; documentIds: string[] };
}

interface UploadState {
  rows: readonly UploadRow[];
  /** How many uploads have ended (sent or failed) in this tab: a page shown reloads its documents on each. */
  settled: number;
}

let state: UploadState = { rows: [], settled: 0 };
const listeners = new Set<() => void>();

/** Asks before the tab is left (the browser's own question; browsers show no text of a page's). */
function askBeforeLeaving(event: BeforeUnloadEvent): void {
  event.preventDefault();
  // Older browsers ask only when returnValue is set.
  event.returnValue = "";
}
let asking = false;

function update(change: (current: UploadState) => UploadState): void {
  state = change(state);
  // Asked only while a file is being sent: a page with a beforeunload listener loses the
  // back/forward cache in some browsers.
  const pending = uploadsPending();
  if (pending !== asking) {
    asking = pending;
    if (pending) addEventListener("beforeunload", askBeforeLeaving);
    else removeEventListener("beforeunload", askBeforeLeaving);
  }
  for (const listener of listeners) listener();
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The tab's uploads, and how many have ended, as a component sees them (it renders again on each change). */
export function useUploads(): UploadState {
  return useSyncExternalStore(subscribe, () => state);
}

/** Whether a file is still being sent (leaving the tab now would lose it). */
export function uploadsPending(): boolean {
  return state.rows.some((row) => row.status === "uploading");
}

/**
 * Sends files to a base, each with its own row (progress, then how it went); the base's finished
 * uploads give way to them, other bases' stay theirs. One larger than `maxBytes` is refused at once
 * (uploadFile). Resolves once every file has been answered.
 */
export async function startUploads(
  knowledgeBaseId: string,
  files: readonly File[],
  maxBytes: number | undefined,
): Promise<void> {
  const rows = files.map((file) => ({
    // crypto.randomUUID needs a secure context, which a plain-HTTP deployment is not.
    id: `${Date.now()}-${Math.random()}`,
    knowledgeBaseId,
    name: file.name,
    progress: 0,
    status: "uploading" as const,
  }));
  update((current) => ({
    ...current,
    rows: [
      ...current.rows.filter((row) => row.knowledgeBaseId !== knowledgeBaseId || row.status === "uploading"),
      ...rows,
    ],
  }));
  await Promise.all(
    files.map(async (file, index) => {
      const id = rows[index]!.id;
      const set = (change: Partial<UploadRow>, ended = false) =>
        update((current) => ({
          rows: current.rows.map((row) => (row.id === id ? { ...row, ...change } : row)),
          settled: current.settled + (ended ? 1 : 0),
        }));
      try {
        const answer: UploadAnswer = await uploadFile(
          `/api/knowledge-bases/${knowledgeBaseId}/documents`,
          file,
          (progress) => set({ progress }),
          maxBytes,
        );
        set(
          {
            progress: 1,
            status: "done",
            ...(answer.job
              ? { job: { id: answer.job.id, documentIds: (answer.documents ?? []).map((d) => d.id) } }
              : {}),
          },
          true,
        );
      } catch (caught) {
        set({ status: "error", error: caught }, true);
      }
    }),
  );
}

/** Forgets every upload (a sign-out, which has stopped those still being sent). */
export function forgetUploads(): void {
  update((current) => ({ ...current, rows: [] }));
}
