import { createHash } from "node:crypto";
import type { ParsedDocument } from "../parsing/parsed-document.js";

/** One chunk of a cleaned document, before it gets its stable id and embedding. */
export interface DocumentChunk {
  ordinal: number;
  /** Exactly `documentText.slice(charStart, charEnd)`. */
  text: string;
  contentHash: string;
  page?: number;
  headingPath: string[];
  charStart: number;
  charEnd: number;
  tokenCount: number;
}

export interface ChunkedDocument {
  /** The cleaned document text the chunk offsets point into. */
  text: string;
  chunks: DocumentChunk[];
}

export interface ChunkingOptions {
  maxTokens: number;
  overlapTokens: number;
}

const CJK_CHAR = /[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]/g;
const WORD = /[A-Za-z0-9\u00c0-\u024f]+|[^\sA-Za-z0-9\u00c0-\u024f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]/g;

/**
 * Tokens a text costs, estimated without a tokenizer: each CJK character about one token, each
 * Latin word about 1.3 (BPE vocabularies split longer words), each punctuation mark one.
 */
export function estimateTokens(text: string): number {
  const cjk = text.match(CJK_CHAR)?.length ?? 0;
  let other = 0;
  for (const match of text.matchAll(WORD)) other += /^[A-Za-z0-9\u00c0-\u024f]/.test(match[0]) ? Math.max(1, Math.ceil(match[0].length / 6)) : 1;
  return cjk + Math.ceil(other * 1.1);
}

/** Sentence ends: Chinese 。！？；… (with closing quotes) and Latin .!? before a space. */
const SENTENCE_END = /[。！？；!?…]+[”’」』）)]*|\.(?=\s)|\n/g;

interface Unit {
  start: number;
  end: number;
  tokens: number;
  page?: number;
  headingPath: string[];
  /** A heading: the next chunk starts here unless the open chunk holds only headings. */
  heading: boolean;
  /** First unit of a block (splitting inside a block never breaks a table row or code line). */
  blockStart: boolean;
}

export function contentHash(text: string): string {
  return createHash("sha256").update(text.replace(/\s+/g, " ").trim()).digest("hex");
}

/**
 * Structure-aware chunking: blocks (paragraphs, lists, tables, code) stay whole when they fit,
 * a heading or a page break starts a new chunk, an oversized block splits at sentence ends (Chinese punctuation
 * included) or, for tables and code, at line ends; chunks stay under maxTokens and consecutive
 * chunks of one section share up to overlapTokens of trailing text.
 */
export function chunkDocument(document: ParsedDocument, options: ChunkingOptions): ChunkedDocument {
  const maxTokens = Math.max(16, options.maxTokens);
  const overlapTokens = Math.min(options.overlapTokens, Math.floor(maxTokens / 2));
  let text = "";
  const units: Unit[] = [];
  const path: Array<{ level: number; text: string }> = [];
  for (const block of document.blocks) {
    if (text) text += "\n\n";
    const start = text.length;
    text += block.text;
    if (block.kind === "heading") {
      const level = block.level ?? 1;
      while (path.length && path.at(-1)!.level >= level) path.pop();
      path.push({ level, text: block.text });
    }
    const headingPath = path.map((entry) => entry.text);
    const tokens = estimateTokens(block.text);
    const base = { page: block.page, headingPath, heading: block.kind === "heading" };
    if (tokens <= maxTokens) {
      units.push({ ...base, start, end: text.length, tokens, blockStart: true });
      continue;
    }
    const pieces = block.kind === "table" || block.kind === "code" ? splitAt(block.text, /\n/g) : splitAt(block.text, SENTENCE_END);
    let first = true;
    for (const piece of pieces) {
      for (const part of hardSplit(block.text, piece, maxTokens)) {
        const tokensOfPart = estimateTokens(block.text.slice(part.start, part.end));
        if (tokensOfPart === 0) continue;
        units.push({ ...base, start: start + part.start, end: start + part.end, tokens: tokensOfPart, blockStart: first });
        first = false;
      }
    }
  }

  const chunks: DocumentChunk[] = [];
  let open: Unit[] = [];
  let openTokens = 0;
  const emit = () => {
    const content = open.filter((unit) => !unit.heading || open.every((u) => u.heading));
    if (content.length === 0 || open.length === 0) return;
    const first = open[0]!;
    const last = open.at(-1)!;
    const chunkText = text.slice(first.start, last.end);
    const anchor = open.find((unit) => !unit.heading) ?? first;
    chunks.push({
      ordinal: chunks.length,
      text: chunkText,
      contentHash: contentHash(chunkText),
      page: anchor.page ?? first.page,
      headingPath: anchor.headingPath,
      charStart: first.start,
      charEnd: last.end,
      tokenCount: openTokens,
    });
  };
  for (const unit of units) {
    const onlyHeadings = open.length > 0 && open.every((u) => u.heading);
    const newPage = unit.page !== undefined && open.length > 0 && open.at(-1)!.page !== unit.page;
    // A heading, or a new page (so that a citation names one page), starts a new chunk.
    if (open.length > 0 && (unit.heading || newPage) && !onlyHeadings) {
      emit();
      open = [];
      openTokens = 0;
    } else if (open.length > 0 && openTokens + unit.tokens > maxTokens) {
      emit();
      // Overlap: carry trailing units of the same section into the next chunk.
      const carried: Unit[] = [];
      let carriedTokens = 0;
      for (let i = open.length - 1; i >= 0; i--) {
        const candidate = open[i]!;
        if (candidate.heading || candidate.headingPath.join("\u0000") !== unit.headingPath.join("\u0000")) break;
        if (carriedTokens + candidate.tokens > overlapTokens || carriedTokens + candidate.tokens + unit.tokens > maxTokens) break;
        carried.unshift(candidate);
        carriedTokens += candidate.tokens;
      }
      open = carried;
      openTokens = carriedTokens;
    }
    open.push(unit);
    openTokens += unit.tokens;
  }
  emit();
  return { text, chunks };
}

/** Splits text after each match of a boundary pattern; offsets are relative to the text. */
function splitAt(text: string, boundary: RegExp): Array<{ start: number; end: number }> {
  const parts: Array<{ start: number; end: number }> = [];
  let start = 0;
  for (const match of text.matchAll(boundary)) {
    const end = match.index + match[0].length;
    if (end > start) parts.push(trim(text, start, end));
    start = end;
  }
  if (start < text.length) parts.push(trim(text, start, text.length));
  return parts.filter((part) => part.end > part.start);
}

function trim(text: string, start: number, end: number): { start: number; end: number } {
  while (start < end && /\s/.test(text[start]!)) start++;
  while (end > start && /\s/.test(text[end - 1]!)) end--;
  return { start, end };
}

/** A piece still over the budget (a sentence of 2,000 characters) is cut at spaces, else anywhere. */
function hardSplit(text: string, piece: { start: number; end: number }, maxTokens: number): Array<{ start: number; end: number }> {
  if (estimateTokens(text.slice(piece.start, piece.end)) <= maxTokens) return [piece];
  const parts: Array<{ start: number; end: number }> = [];
  let start = piece.start;
  while (start < piece.end) {
    // Grow a window while it fits: at most 4 characters per token for Latin text, 1 for CJK.
    let end = Math.min(piece.end, start + maxTokens);
    let next = Math.min(piece.end, start + maxTokens * 4);
    while (next > end && estimateTokens(text.slice(start, next)) > maxTokens) next = end + Math.floor((next - end) / 2);
    end = Math.max(end, next);
    if (end < piece.end) {
      const space = text.lastIndexOf(" ", end);
      if (space > start + (end - start) * 0.6) end = space;
    }
    const part = trim(text, start, end);
    if (part.end > part.start) parts.push(part);
    start = end;
  }
  return parts;
}
