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

const isCjk = (code: number) =>
  (code >= 0x3040 && code <= 0x30ff) ||
  (code >= 0x3400 && code <= 0x4dbf) ||
  (code >= 0x4e00 && code <= 0x9fff) ||
  (code >= 0xf900 && code <= 0xfaff) ||
  (code >= 0xac00 && code <= 0xd7af);
const isWordChar = (code: number) =>
  (code >= 0x30 && code <= 0x39) ||
  (code >= 0x41 && code <= 0x5a) ||
  (code >= 0x61 && code <= 0x7a) ||
  (code >= 0xc0 && code <= 0x24f);
const isSpace = (code: number) =>
  code === 0x20 || code === 0x0a || code === 0x09 || code === 0x0d || code === 0xa0 || code === 0x3000;

/**
 * Tokens a text costs, estimated without a tokenizer: each CJK character about one token, each
 * Latin word about one per 6 letters, each punctuation mark one, plus 10% on non-CJK tokens
 * (BPE vocabularies split rarer words). One pass over the characters: this runs on every block.
 */
export function estimateTokens(text: string): number {
  let cjk = 0;
  let other = 0;
  let run = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (isWordChar(code)) {
      run++;
      continue;
    }
    if (run > 0) {
      other += Math.ceil(run / 6);
      run = 0;
    }
    if (isCjk(code)) cjk++;
    else if (!isSpace(code)) other++;
  }
  if (run > 0) other += Math.ceil(run / 6);
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
  /** headingPath joined, to compare sections cheaply. */
  section: string;
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
    const section = headingPath.join("\u0000");
    const heading = block.kind === "heading";
    if (tokens <= maxTokens) {
      units.push({
        page: block.page,
        headingPath,
        section,
        heading,
        start,
        end: text.length,
        tokens,
        blockStart: true,
      });
      continue;
    }
    const pieces =
      block.kind === "table" || block.kind === "code"
        ? splitAt(block.text, /\n/g)
        : splitAt(block.text, SENTENCE_END);
    let first = true;
    for (const piece of pieces) {
      for (const part of hardSplit(block.text, piece, maxTokens)) {
        const tokensOfPart = estimateTokens(block.text.slice(part.start, part.end));
        if (tokensOfPart === 0) continue;
        units.push({
          page: block.page,
          headingPath,
          section,
          heading,
          start: start + part.start,
          end: start + part.end,
          tokens: tokensOfPart,
          blockStart: first,
        });
        first = false;
      }
    }
  }

  const chunks: DocumentChunk[] = [];
  let open: Unit[] = [];
  let openTokens = 0;
  let openContent = 0; // units in `open` that are not headings
  const emit = () => {
    if (open.length === 0) return;
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
    const onlyHeadings = open.length > 0 && openContent === 0;
    const newPage = unit.page !== undefined && open.length > 0 && open.at(-1)!.page !== unit.page;
    // A heading, or a new page (so that a citation names one page), starts a new chunk.
    if (open.length > 0 && (unit.heading || newPage) && !onlyHeadings) {
      emit();
      open = [];
      openTokens = 0;
      openContent = 0;
    } else if (open.length > 0 && openTokens + unit.tokens > maxTokens) {
      emit();
      // Overlap: carry trailing units of the same section into the next chunk.
      let from = open.length;
      let carriedTokens = 0;
      for (let i = open.length - 1; i >= 0; i--) {
        const candidate = open[i]!;
        if (candidate.heading || candidate.section !== unit.section) break;
        if (
          carriedTokens + candidate.tokens > overlapTokens ||
          carriedTokens + candidate.tokens + unit.tokens > maxTokens
        )
          break;
        from = i;
        carriedTokens += candidate.tokens;
      }
      open = open.slice(from);
      openTokens = carriedTokens;
      openContent = open.length;
    }
    open.push(unit);
    openTokens += unit.tokens;
    if (!unit.heading) openContent++;
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
    // Very short pieces ("1.", a lone "!") stay with what follows: fewer, more meaningful units.
    if (end - start < 24) continue;
    parts.push(trim(text, start, end));
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

const TOKEN =
  /[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]|[A-Za-z0-9\u00c0-\u024f]+|[^\s]/g;

/**
 * A piece still over the budget (a code listing, a sentence of 2,000 characters) is cut in one
 * pass over its tokens, at the last space before the budget runs out when there is one.
 */
function hardSplit(
  text: string,
  piece: { start: number; end: number },
  maxTokens: number,
): Array<{ start: number; end: number }> {
  const slice = text.slice(piece.start, piece.end);
  if (estimateTokens(slice) <= maxTokens) return [piece];
  const parts: Array<{ start: number; end: number }> = [];
  // Budget per part with the estimator's 10% margin on non-CJK tokens, so each part estimates under max.
  const budget = Math.max(1, Math.floor(maxTokens / 1.1) - 1);
  let partStart = 0;
  let cost = 0;
  let lastSpace = -1;
  for (const match of slice.matchAll(TOKEN)) {
    const token = match[0];
    const tokenCost = /^[A-Za-z0-9\u00c0-\u024f]/.test(token) ? Math.max(1, Math.ceil(token.length / 6)) : 1;
    if (cost + tokenCost > budget && match.index > partStart) {
      const cut = lastSpace > partStart + (match.index - partStart) * 0.6 ? lastSpace : match.index;
      const part = trim(text, piece.start + partStart, piece.start + cut);
      if (part.end > part.start) parts.push(part);
      partStart = cut;
      cost = estimateTokens(slice.slice(partStart, match.index));
      lastSpace = -1;
    }
    cost += tokenCost;
    if (match.index > 0 && /\s/.test(slice[match.index - 1]!)) lastSpace = match.index;
  }
  const rest = trim(text, piece.start + partStart, piece.end);
  if (rest.end > rest.start) parts.push(rest);
  return parts;
}
