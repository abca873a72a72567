import { useEffect, useRef, useState } from "react";
import { ApiError, type Citation } from "./api.js";
import { citationLabels, citationPage } from "./display-text.js";
import { readPassages } from "./document-passages.js";
import { fill, useI18n } from "./i18n.js";
import { ModalDialog } from "./modal-dialog.js";
import { citedDocument, type DocumentText, documentText } from "./source-text.js";
import { errorMessage } from "./use-action.js";

/** Whether a citation opens in the source view: a knowledge document's (a web page opens itself). */
export function opensInSourceView(citation: Citation): boolean {
  return citation.kind === "document" && citedDocument(citation.url) !== undefined;
}

type Shown =
  | { state: "loading" }
  | { state: "shown"; document: DocumentText }
  | { state: "gone"; code: string }
  | { state: "failed"; error: unknown };

/**
 * A knowledge citation's passage, in the document it comes from: the document's text as indexed,
 * the cited passage marked and scrolled to, with a link to the original file (a PDF at its page).
 * A document deleted since (or a base no longer there) is said so, with the passage as the answer
 * kept it. A modal dialog: Escape or Close returns to the conversation.
 */
export function SourceView({ citation, onClose }: { citation: Citation; onClose(): void }) {
  const { t } = useI18n();
  const cited = useRef<HTMLElement>(null);
  const [shown, setShown] = useState<Shown>({ state: "loading" });
  useEffect(() => {
    const target = citedDocument(citation.url);
    if (!target) return;
    let current = true;
    readPassages(target.knowledgeBaseId, target.documentId).then(
      (passages) => {
        if (current) setShown({ state: "shown", document: documentText(passages, citation.snippet) });
      },
      (error: unknown) => {
        if (!current) return;
        if (error instanceof ApiError && error.status === 404) setShown({ state: "gone", code: error.code });
        else setShown({ state: "failed", error });
      },
    );
    return () => {
      current = false;
    };
  }, [citation]);
  useEffect(() => {
    if (shown.state === "shown") cited.current?.scrollIntoView({ block: "center" });
  }, [shown]);

  const [{ label }] = citationLabels(t, [citation]);
  const page = citationPage(citation.url);
  const quote = citation.snippet?.trim();
  /** The passage as the answer kept it (the start of it), where the document no longer shows it. */
  const quoted = quote ? (
    <>
      <p>{t.sourceQuoted}</p>
      <blockquote className="source-quote">{quote}</blockquote>
    </>
  ) : null;
  return (
    <ModalDialog className="source-view" titleId="source-title" title={label} onClose={onClose}>
      {shown.state === "loading" && <p role="status">{t.loading}</p>}
      {shown.state === "gone" && (
        <>
          <p className="source-gone" role="status">
            {shown.code === "DOCUMENT_NOT_FOUND" ? t.sourceDocumentRemoved : t.sourceBaseGone}
          </p>
          {quoted}
        </>
      )}
      {shown.state === "failed" && (
        <p className="error-text" role="alert">
          {errorMessage(t, shown.error)}
        </p>
      )}
      {(shown.state === "shown" || shown.state === "failed") && (
        <p>
          <a className="source-original" href={citation.url} target="_blank" rel="noopener noreferrer">
            {page === undefined ? t.openOriginal : fill(t.openOriginalPage, { page })}
          </a>
        </p>
      )}
      {shown.state === "shown" && !shown.document.cited && (
        <>
          <p className="source-gone" role="status">
            {t.sourcePassageGone}
          </p>
          {quoted}
        </>
      )}
      {shown.state === "shown" && (
        // Scrolls on its own (a keyboard user scrolls it once it has focus).
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region is reached by keyboard
        <div className="source-text" tabIndex={0} role="document" aria-label={label}>
          {shown.document.cited ? (
            <>
              {shown.document.text.slice(0, shown.document.cited.start)}
              <mark ref={cited}>
                {shown.document.text.slice(shown.document.cited.start, shown.document.cited.end)}
              </mark>
              {shown.document.text.slice(shown.document.cited.end)}
            </>
          ) : (
            shown.document.text
          )}
        </div>
      )}
    </ModalDialog>
  );
}
