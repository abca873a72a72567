import { textLength } from "@hearth/contracts/text-length";
import { useEffect, useState } from "react";
import { api } from "./api.js";
import { numberText } from "./display-text.js";
import { fill, useI18n } from "./i18n.js";
import { MarkedText } from "./marked-text.js";
import { ModalDialog } from "./modal-dialog.js";
import { passagesHolding } from "./passage-find.js";
import type { Passage } from "./source-text.js";
import { ActionError } from "./use-action.js";

/** A passage as a document's passages route lists it (contracts: documentPassageSchema). */
export interface DocumentPassage extends Passage {
  ordinal: number;
  page: number | null;
  headingPath: string[];
}

/** A document's passages as the knowledge service lists them, in the document's order. */
export async function readPassages(knowledgeBaseId: string, documentId: string): Promise<DocumentPassage[]> {
  const path = `/api/knowledge-bases/${encodeURIComponent(knowledgeBaseId)}/documents/${encodeURIComponent(documentId)}/passages`;
  const answer = await api<{ passages: DocumentPassage[] }>(path);
  return [...answer.passages].sort((a, b) => a.ordinal - b.ordinal);
}

/** How many passages are shown at first, and added by each Show more (a long PDF has thousands). */
const PAGE_SIZE = 100;

/**
 * A document's passages as it was indexed (RAGFlow's and Dify's chunk view): each in order with its
 * number, page, headings and length, so that a writer sees how the document was cut and read (a
 * table split apart, a scanned page with no text); a find box keeps the passages holding a text,
 * marked. A modal dialog: Escape or Close returns to the knowledge base.
 */
export function DocumentPassages(props: {
  knowledgeBaseId: string;
  document: { id: string; name: string };
  onClose(): void;
}) {
  const { t } = useI18n();
  const { knowledgeBaseId, document } = props;
  const [passages, setPassages] = useState<DocumentPassage[]>();
  const [error, setError] = useState<unknown>();
  const [needle, setNeedle] = useState("");
  const [shown, setShown] = useState(PAGE_SIZE);
  useEffect(() => {
    let current = true;
    readPassages(knowledgeBaseId, document.id).then(
      (read) => {
        if (current) setPassages(read);
      },
      (caught: unknown) => {
        if (current) setError(caught);
      },
    );
    return () => {
      current = false;
    };
  }, [knowledgeBaseId, document.id]);

  const holding = passages ? passagesHolding(passages, needle) : [];
  return (
    <ModalDialog
      className="source-view document-passages"
      titleId="document-passages-title"
      title={fill(t.passagesOf, { name: document.name })}
      onClose={props.onClose}
    >
      {!passages && !error && <p role="status">{t.loading}</p>}
      <ActionError error={error} />
      {passages && (
        <>
          <label className="passage-find">
            {t.findInPassages}
            <input
              value={needle}
              onChange={(event) => {
                setNeedle(event.target.value);
                setShown(PAGE_SIZE);
              }}
            />
          </label>
          <p role="status" className="muted">
            {needle.trim()
              ? fill(t.passagesHolding, {
                  n: numberText(t, holding.length),
                  total: numberText(t, passages.length),
                })
              : fill(t.passageCount, { n: numberText(t, passages.length) })}
          </p>
          {/* Scrolls on its own (a keyboard user scrolls it once it has focus). */}
          {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region is reached by keyboard */}
          <ol className="passage-list" tabIndex={0} aria-label={fill(t.passagesOf, { name: document.name })}>
            {holding.slice(0, shown).map(({ passage, found }) => (
              <li key={passage.id}>
                <div className="retrieval-result-head">
                  <strong>{fill(t.passageNumber, { n: passage.ordinal + 1 })}</strong>
                  {passage.page !== null && (
                    <span className="muted">{fill(t.passagePage, { page: passage.page })}</span>
                  )}
                  {passage.headingPath.length > 0 && (
                    <span className="muted">{passage.headingPath.join(" › ")}</span>
                  )}
                  <span className="badge">
                    {fill(t.passageLength, { n: numberText(t, textLength(passage.text)) })}
                  </span>
                </div>
                <p className="retrieval-text">
                  <MarkedText text={passage.text} ranges={found} />
                </p>
              </li>
            ))}
          </ol>
          {holding.length > shown && (
            <button type="button" onClick={() => setShown((n) => n + PAGE_SIZE)}>
              {fill(t.showMorePassages, { n: numberText(t, holding.length - shown) })}
            </button>
          )}
        </>
      )}
    </ModalDialog>
  );
}
