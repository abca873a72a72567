import { type FormEvent, useCallback, useEffect, useState } from "react";
import { api, csrfHeader } from "./api.js";
import { useI18n } from "./i18n.js";

interface KnowledgeBase {
  id: string;
  name: string;
  permission: "read" | "write" | "manage";
  visibility?: string;
  documentCount?: number;
}

interface DocumentRow {
  id: string;
  title: string;
  status?: string;
  error?: string;
}

interface UploadRow {
  name: string;
  progress: number;
  status: "uploading" | "done" | "error";
  error?: string;
}

/** Uploads one file with progress (XMLHttpRequest reports upload progress; fetch does not). */
function uploadFile(
  knowledgeBaseId: string,
  file: File,
  onProgress: (fraction: number) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("POST", `/api/knowledge-bases/${knowledgeBaseId}/documents`);
    for (const [name, value] of Object.entries(csrfHeader())) request.setRequestHeader(name, value);
    request.upload.onprogress = (event) => event.lengthComputable && onProgress(event.loaded / event.total);
    request.onload = () => {
      if (request.status < 300) resolve();
      else {
        let message = request.statusText;
        try {
          message =
            (JSON.parse(request.responseText) as { error?: { message?: string } }).error?.message ?? message;
        } catch {
          // keep the status text
        }
        reject(new Error(message));
      }
    };
    request.onerror = () => reject(new Error("network error"));
    const form = new FormData();
    form.append("file", file, file.name);
    request.send(form);
  });
}

/** Knowledge bases: create, upload with per-file progress and errors, documents, delete, re-sync, sharing. */
export function KnowledgePage() {
  const { t } = useI18n();
  const [bases, setBases] = useState<KnowledgeBase[]>([]);
  const [selected, setSelected] = useState<string | undefined>();
  const [documents, setDocuments] = useState<DocumentRow[]>([]);
  const [uploads, setUploads] = useState<UploadRow[]>([]);
  const [name, setName] = useState("");
  const [error, setError] = useState("");

  const load = useCallback(async () => {
    try {
      const answer = await api<{ knowledgeBases: KnowledgeBase[] }>("/api/knowledge-bases");
      setBases(answer.knowledgeBases);
    } catch (caught) {
      setError((caught as Error).message);
    }
  }, []);
  const loadDocuments = useCallback(async (id: string) => {
    const answer = await api<{ documents: DocumentRow[] }>(`/api/knowledge-bases/${id}/documents`);
    setDocuments(answer.documents);
  }, []);

  useEffect(() => {
    void load();
  }, [load]);
  useEffect(() => {
    if (selected) void loadDocuments(selected);
  }, [selected, loadDocuments]);

  const create = async (event: FormEvent) => {
    event.preventDefault();
    const created = await api<KnowledgeBase>("/api/knowledge-bases", { method: "POST", body: { name } });
    setName("");
    await load();
    setSelected(created.id);
  };

  const upload = async (files: FileList | null) => {
    if (!files || !selected) return;
    const list = Array.from(files);
    setUploads(list.map((file) => ({ name: file.name, progress: 0, status: "uploading" })));
    await Promise.all(
      list.map(async (file, index) => {
        const set = (change: Partial<UploadRow>) =>
          setUploads((current) => current.map((row, i) => (i === index ? { ...row, ...change } : row)));
        try {
          await uploadFile(selected, file, (progress) => set({ progress }));
          set({ progress: 1, status: "done" });
        } catch (caught) {
          set({ status: "error", error: (caught as Error).message });
        }
      }),
    );
    await loadDocuments(selected);
  };

  const base = bases.find((b) => b.id === selected);
  return (
    <div className="page">
      <h2>{t.knowledgeBases}</h2>
      {error && (
        <p className="error-text" role="alert">
          {error}
        </p>
      )}
      <form className="inline-form" onSubmit={create}>
        <label>
          {t.newKnowledgeBase}
          <input value={name} onChange={(e) => setName(e.target.value)} required aria-label={t.name} />
        </label>
        <button type="submit">{t.create}</button>
      </form>
      <ul className="kb-list">
        {bases.map((b) => (
          <li key={b.id}>
            <button type="button" aria-pressed={b.id === selected} onClick={() => setSelected(b.id)}>
              {b.name}
            </button>{" "}
            <span className="badge">{b.visibility ? t[b.visibility as "private"] : b.permission}</span>
          </li>
        ))}
      </ul>
      {base && (
        <section aria-labelledby="kb-title">
          <h3 id="kb-title">{base.name}</h3>
          {base.permission !== "read" && (
            <label className="upload">
              {t.upload}
              <input type="file" multiple onChange={(e) => void upload(e.target.files)} />
            </label>
          )}
          {uploads.length > 0 && (
            <ul className="uploads" aria-live="polite">
              {uploads.map((row) => (
                <li key={row.name} data-status={row.status}>
                  {row.name} <progress value={row.progress} max={1} aria-label={row.name} />{" "}
                  {row.status === "error" ? <span className="error-text">{row.error}</span> : row.status}
                </li>
              ))}
            </ul>
          )}
          <h4>{t.documents}</h4>
          <table>
            <thead>
              <tr>
                <th>{t.name}</th>
                <th>{t.status}</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {documents.map((document) => (
                <tr key={document.id}>
                  <td>
                    <a
                      href={`/api/knowledge-bases/${base.id}/documents/${document.id}/file`}
                      target="_blank"
                      rel="noopener noreferrer"
                    >
                      {document.title}
                    </a>
                  </td>
                  <td>
                    {document.error ? <span className="error-text">{document.error}</span> : document.status}
                  </td>
                  <td>
                    {base.permission !== "read" && (
                      <button
                        type="button"
                        onClick={async () => {
                          await api(`/api/knowledge-bases/${base.id}/documents/${document.id}`, {
                            method: "DELETE",
                          });
                          await loadDocuments(base.id);
                        }}
                      >
                        {t.delete}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <div className="actions">
            {base.permission !== "read" && (
              <button
                type="button"
                onClick={() => void api(`/api/knowledge-bases/${base.id}/sync`, { method: "POST", body: {} })}
              >
                {t.resync}
              </button>
            )}
            {base.permission === "manage" && (
              <>
                <label>
                  {t.visibility}{" "}
                  <select
                    value={base.visibility}
                    onChange={async (e) => {
                      await api(`/api/knowledge-bases/${base.id}/access`, {
                        method: "PUT",
                        body: { visibility: e.target.value, shares: [] },
                      });
                      await load();
                    }}
                  >
                    <option value="private">{t.private}</option>
                    <option value="shared">{t.shared}</option>
                    <option value="public">{t.public}</option>
                  </select>
                </label>
                <button
                  type="button"
                  onClick={async () => {
                    await api(`/api/knowledge-bases/${base.id}`, { method: "DELETE" });
                    setSelected(undefined);
                    await load();
                  }}
                >
                  {t.delete}
                </button>
              </>
            )}
          </div>
        </section>
      )}
    </div>
  );
}
