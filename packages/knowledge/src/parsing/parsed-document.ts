/** What a parser produces: the document's text as structured blocks, before cleaning and chunking. */
export type BlockKind = "heading" | "paragraph" | "list" | "table" | "code";

export interface Block {
  kind: BlockKind;
  text: string;
  /** Heading level, 1 for the top. */
  level?: number;
  /** 1-based page (PDF) or slide (PPTX) the block is on. */
  page?: number;
}

export interface ParsedDocument {
  title?: string;
  blocks: Block[];
  /** Number of pages for paged formats. */
  pageCount?: number;
  /** True for PDFs: their lines break mid-sentence and pages repeat headers and footers. */
  paged?: boolean;
}

export type DocumentFormat =
  | "pdf"
  | "docx"
  | "pptx"
  | "xlsx"
  | "odt"
  | "html"
  | "markdown"
  | "text"
  | "csv"
  | "json";

export const CONTENT_TYPES: Record<DocumentFormat, string> = {
  pdf: "application/pdf",
  docx: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  pptx: "application/vnd.openxmlformats-officedocument.presentationml.presentation",
  xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  odt: "application/vnd.oasis.opendocument.text",
  html: "text/html",
  markdown: "text/markdown",
  text: "text/plain",
  csv: "text/csv",
  json: "application/json",
};

/**
 * Told as a paged document (a PDF) is read: the pages this parse has read so far, of the document's
 * pages (a parse sharing a PDF with other threads reads only its share of them).
 */
export type PagesRead = (read: number, pageCount: number) => void;

/** Options a parse needs; plain data so it can cross to a worker thread. */
export interface ParseOptions {
  maxExtractedBytes: number;
}
