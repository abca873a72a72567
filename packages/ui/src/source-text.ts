/** A cited document's text as the source view shows it (pure: unit-tested). */

/** A document's passage as the knowledge service lists it (contracts: documentPassageSchema). */
export interface Passage {
  id: string;
  text: string;
  /** Where the passage lies in the document's text: `text` is exactly that stretch. */
  charStart: number;
  charEnd: number;
}

/**
 * The knowledge base and document a document citation links to: its link is the document's file,
 * `/api/knowledge-bases/{kb}/documents/{doc}/file`, with `#page=N` for a PDF's page.
 */
export function citedDocument(url: string): { knowledgeBaseId: string; documentId: string } | undefined {
  const match = /^\/api\/knowledge-bases\/([^/?#]+)\/documents\/([^/?#]+)\/file(?:#page=\d+)?$/.exec(url);
  if (!match) return undefined;
  return { knowledgeBaseId: decodeURIComponent(match[1]!), documentId: decodeURIComponent(match[2]!) };
}

export interface DocumentText {
  text: string;
  /** Where the cited passage is in `text`; absent when the document no longer holds it. */
  cited?: { start: number; end: number };
}

/**
 * A document's text from its passages, each stretch once (passages next to each other overlap),
 * with a blank line where text lies between two passages; and where in it the passage is that a
 * citation quotes. A citation keeps the start of its passage (its snippet): the passage that begins
 * so, else that text wherever it is (the document was cut into passages anew since).
 */
export function documentText(passages: Passage[], quoted: string | undefined): DocumentText {
  const ordered = [...passages].sort((a, b) => a.charStart - b.charStart || a.charEnd - b.charEnd);
  /** Stretches of the document in `text`: where each starts in both, and its length. */
  const stretches: Array<{ from: number; at: number; length: number }> = [];
  let text = "";
  /** How far into the document `text` reaches. */
  let reached = 0;
  for (const passage of ordered) {
    const end = passage.charStart + passage.text.length;
    if (end <= reached && stretches.length > 0) continue;
    const skip = Math.max(0, reached - passage.charStart);
    if (skip === 0 && text && passage.charStart > reached) text += "\n\n";
    stretches.push({ from: passage.charStart + skip, at: text.length, length: passage.text.length - skip });
    text += passage.text.slice(skip);
    reached = end;
  }
  /** Where a place in the document is in `text`. */
  const place = (offset: number) => {
    const stretch = stretches.find((s) => offset >= s.from && offset <= s.from + s.length);
    return stretch ? stretch.at + offset - stretch.from : undefined;
  };
  const quote = quoted?.replace(/…$/, "").trim();
  if (!quote) return { text };
  const passage = ordered.find((candidate) => candidate.text.startsWith(quote));
  if (passage) {
    const start = place(passage.charStart);
    const end = place(passage.charStart + passage.text.length);
    if (start !== undefined && end !== undefined) return { text, cited: { start, end } };
  }
  const found = text.indexOf(quote);
  return found === -1 ? { text } : { text, cited: { start: found, end: found + quote.length } };
}
