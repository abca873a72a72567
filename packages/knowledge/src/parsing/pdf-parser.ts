import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { init, type WrappedPdfiumModule } from "@embedpdf/pdfium";
import { HearthError } from "@hearth/core";
import type { Block, PagesRead, ParsedDocument } from "./parsed-document.js";

let engine: Promise<WrappedPdfiumModule> | undefined;

/** PDFium compiled to WebAssembly, one instance per thread, loaded on first use. */
function loadPdfium(): Promise<WrappedPdfiumModule> {
  engine ??= (async () => {
    const wasmBinary = readFileSync(createRequire(import.meta.url).resolve("@embedpdf/pdfium/pdfium.wasm"));
    const pdfium = await init({ wasmBinary });
    pdfium.PDFiumExt_Init();
    return pdfium;
  })();
  return engine;
}

/** Emscripten's views of the WebAssembly memory (replaced when it grows: read them at each use). */
interface Heap {
  HEAPU8: Uint8Array;
  HEAPF32: Float32Array;
  HEAPF64: Float64Array;
}
const heap = (pdfium: WrappedPdfiumModule) => pdfium.pdfium as unknown as Heap;

/**
 * The per-character calls, straight to the WebAssembly exports: the wrapped versions cost ~5x more
 * (~90 ms vs ~18 ms for the 448,000 characters of a 175-page manual).
 */
interface CharExports {
  FPDFText_GetFontSize(textPage: number, index: number): number;
  FPDFText_GetCharOrigin(textPage: number, index: number, x: number, y: number): number;
  FPDFText_GetMatrix(textPage: number, index: number, matrix: number): number;
  FPDFText_GetUnicode(textPage: number, index: number): number;
}
const charExports = (pdfium: WrappedPdfiumModule) => pdfium.pdfium.wasmExports as unknown as CharExports;

/** FPDF_GetLastError codes (fpdfview.h). */
const FPDF_ERR_PASSWORD = 4;
const FPDF_ERR_SECURITY = 5;

/** Parse only pages p with (p - 1) % of === index: how several threads share one PDF. */
export interface PageStride {
  of: number;
  index: number;
}

interface Line {
  text: string;
  /** Baseline of the line's largest character. */
  y: number;
  /** Largest effective font size (the Tf size scaled by the text and page matrices). */
  size: number;
  /** Horizontal extent, from the first character's origin to past the last one's. */
  left: number;
  right: number;
}

/**
 * PDF text layer through PDFium (no OCR): PDFium's text page gives the characters in content-stream
 * order with its own line breaks; each line keeps its baseline, extent and largest effective font
 * size, lines are put in reading order (a line above another that it overlaps horizontally comes
 * first, so a header drawn last leads while columns stay whole), paragraphs split on vertical gaps,
 * larger short lines taken as headings, every block tagged with its page. `onPages` is told as each
 * page is read.
 */
export async function parsePdf(
  bytes: Uint8Array,
  stride?: PageStride,
  onPages?: PagesRead,
): Promise<ParsedDocument> {
  const pdfium = await loadPdfium();
  try {
    return extractPdf(pdfium, bytes, stride, onPages);
  } catch (error) {
    if (error instanceof HearthError) throw error;
    // A trap or abort inside PDFium leaves its instance unusable: the next document gets a new one.
    engine = undefined;
    throw new HearthError("DOCUMENT_CORRUPT", `The PDF is damaged: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

function extractPdf(
  pdfium: WrappedPdfiumModule,
  bytes: Uint8Array,
  stride: PageStride | undefined,
  onPages: PagesRead | undefined,
): ParsedDocument {
  const { wasmExports } = pdfium.pdfium;
  const data = wasmExports.malloc(bytes.length);
  if (!data) throw new HearthError("DOCUMENT_TOO_LARGE", "The PDF is too large to open");
  heap(pdfium).HEAPU8.set(bytes, data);
  const document = pdfium.FPDF_LoadMemDocument(data, bytes.length, "");
  if (!document) {
    const error = pdfium.FPDF_GetLastError();
    wasmExports.free(data);
    if (error === FPDF_ERR_PASSWORD || error === FPDF_ERR_SECURITY)
      throw new HearthError("DOCUMENT_ENCRYPTED", "The PDF is encrypted and needs a password");
    throw new HearthError("DOCUMENT_CORRUPT", `The PDF cannot be read (PDFium error ${error})`);
  }
  // Room for two doubles (a character's origin) or an FS_MATRIX (six floats).
  const scratch = wasmExports.malloc(24);
  try {
    const pageCount = pdfium.FPDF_GetPageCount(document);
    // Not a scan awaiting OCR, which the pages without text of a PDF that has some would be.
    if (pageCount <= 0)
      throw new HearthError("DOCUMENT_NO_TEXT", "The PDF has no pages: there is nothing in it to index", {
        details: { reason: "no-pages" },
      });
    const pages: Array<{ number: number; lines: Line[] }> = [];
    for (let number = 1; number <= pageCount; number++) {
      if (stride && (number - 1) % stride.of !== stride.index) continue;
      pages.push({ number, lines: pageLines(pdfium, document, number - 1, scratch) });
      onPages?.(pages.length, pageCount);
    }
    const bodySize = medianCharacterSize(pages.flatMap((page) => page.lines)) ?? 10;
    const blocks: Block[] = [];
    for (const page of pages) blocks.push(...toBlocks(page.lines, page.number, bodySize));
    const title = !stride || stride.index === 0 ? metaText(pdfium, document, "Title") : undefined;
    return { title, blocks, pageCount, paged: true };
  } finally {
    wasmExports.free(scratch);
    pdfium.FPDF_CloseDocument(document);
    wasmExports.free(data);
  }
}

function pageLines(pdfium: WrappedPdfiumModule, document: number, index: number, scratch: number): Line[] {
  const page = pdfium.FPDF_LoadPage(document, index);
  if (!page) throw new HearthError("DOCUMENT_CORRUPT", `The PDF's page ${index + 1} cannot be read`);
  const textPage = pdfium.FPDFText_LoadPage(page);
  try {
    if (!textPage) throw new HearthError("DOCUMENT_CORRUPT", `The PDF's page ${index + 1} cannot be read`);
    const count = pdfium.FPDFText_CountChars(textPage);
    if (count <= 0) return [];
    const text = readUtf16(pdfium, (count + 1) * 2, (buffer) =>
      pdfium.FPDFText_GetText(textPage, 0, count, buffer),
    );
    const chars = charExports(pdfium);
    const charAt = characterIndexes(chars, textPage, count, text);
    const lines: Line[] = [];
    let start = 0;
    while (start <= text.length) {
      let end = text.indexOf("\n", start);
      if (end < 0) end = text.length;
      const lineText = text.slice(start, end).replace(/\r$/, "");
      if (lineText.trim() !== "") {
        let size = 0;
        let y = 0;
        let left = 0;
        let right = 0;
        const lineEnd = start + lineText.length;
        let first = -1;
        let last = -1;
        for (let at = start; at < lineEnd; at++) {
          const char = charAt[at] ?? -1;
          if (char < 0) continue;
          if (first < 0) first = char;
          last = char;
        }
        for (let at = start; at < lineEnd; at++) {
          const char = charAt[at] ?? -1;
          if (char < 0 || (at > start && charAt[at - 1] === char)) continue;
          // Tf 1 with the size in the text matrix (11 0 0 11 Tm) is common: FPDFText_GetFontSize
          // then says 1, so the size is scaled by the character's matrix (its vertical axis).
          let charSize = chars.FPDFText_GetFontSize(textPage, char);
          if (chars.FPDFText_GetMatrix(textPage, char, scratch)) {
            const matrix = heap(pdfium).HEAPF32;
            const scale = Math.hypot(matrix[scratch / 4 + 2] ?? 0, matrix[scratch / 4 + 3] ?? 0);
            if (scale > 0) charSize *= scale;
          }
          const edge = char === first || char === last;
          if (
            (charSize > size || edge) &&
            chars.FPDFText_GetCharOrigin(textPage, char, scratch, scratch + 8)
          ) {
            const origin = heap(pdfium).HEAPF64;
            if (charSize > size) y = origin[scratch / 8 + 1] ?? 0;
            if (char === first) left = origin[scratch / 8] ?? 0;
            if (char === last) right = (origin[scratch / 8] ?? 0) + Math.max(charSize, size) * 0.6;
          }
          if (charSize > size) size = charSize;
        }
        // PDFium marks a hyphen that breaks a word at the end of a line as U+FFFE and joins the
        // two lines: put the hyphen and the break back, for the cleaner to repair like any other.
        lines.push({ text: lineText.replaceAll("\uFFFE", "-\n"), y, size, left, right });
      }
      start = end + 1;
    }
    return readingOrder(lines);
  } finally {
    if (textPage) pdfium.FPDFText_ClosePage(textPage);
    pdfium.FPDF_ClosePage(page);
  }
}

/**
 * The character index of each UTF-16 unit of the page text. Usually unit i is character i, but
 * PDFium leaves out of the text the characters whose Unicode value is a control code (a glyph the
 * font maps to U+0003, common in figure and table fonts) and stores some characters as a surrogate
 * pair: then the text is walked beside the characters' own Unicode values; a unit that matches no
 * character gets -1 (no size or position).
 */
function characterIndexes(chars: CharExports, textPage: number, count: number, text: string): Int32Array {
  const indexes = new Int32Array(text.length + 1).fill(-1);
  if (text.length === count) {
    for (let unit = 0; unit < count; unit++) indexes[unit] = unit;
    return indexes;
  }
  let char = 0;
  for (let unit = 0; unit < text.length && char < count; ) {
    const code = chars.FPDFText_GetUnicode(textPage, char);
    const shown = code > 0xffff ? String.fromCodePoint(code) : String.fromCharCode(code);
    if (text.startsWith(shown, unit)) {
      for (let k = 0; k < shown.length; k++) indexes[unit + k] = char;
      unit += shown.length;
      char++;
    } else if (code < 0x20 && code !== 0x0a && code !== 0x0d) {
      char++; // left out of the text
    } else {
      // A unit with no character of its own (the low half of a pair stored per unit, or text
      // PDFium generated): keep the character for the next unit.
      unit++;
    }
  }
  return indexes;
}

/**
 * Lines in reading order: a line comes after every line that lies wholly above it and overlaps it
 * horizontally (by more than a character); otherwise the content-stream order is kept, and only the
 * lines a line must follow are moved ahead of it. A header drawn last moves to the top and a footer
 * drawn first to the bottom, while side-by-side columns and margin notes (which do not overlap
 * the body) stay where the stream put them.
 */
function readingOrder(lines: Line[]): Line[] {
  const count = lines.length;
  if (count < 2) return lines;
  const above = (a: Line, b: Line) => a.size > 0 && b.size > 0 && a.y - a.size * 0.25 > b.y + b.size;
  const overlap = (a: Line, b: Line) =>
    Math.min(a.right, b.right) - Math.max(a.left, b.left) > Math.min(a.size, b.size);
  // before[j]: the lines that must precede line j, in stream order.
  const before: number[][] = Array.from({ length: count }, () => []);
  let inOrder = true;
  for (let j = 0; j < count; j++) {
    for (let i = 0; i < count; i++) {
      if (i === j || !above(lines[i]!, lines[j]!) || !overlap(lines[i]!, lines[j]!)) continue;
      before[j]!.push(i);
      if (i > j) inOrder = false;
    }
  }
  if (inOrder) return lines;
  // Depth first without recursion (a page can have thousands of lines); "above" is acyclic.
  const placed = new Array<boolean>(count).fill(false);
  const ordered: Line[] = [];
  for (let first = 0; first < count; first++) {
    const stack: Array<{ line: number; next: number }> = [{ line: first, next: 0 }];
    while (stack.length > 0) {
      const top = stack.at(-1)!;
      if (placed[top.line]) {
        stack.pop();
        continue;
      }
      const predecessors = before[top.line]!;
      while (top.next < predecessors.length && placed[predecessors[top.next]!]) top.next++;
      if (top.next < predecessors.length) stack.push({ line: predecessors[top.next]!, next: 0 });
      else {
        placed[top.line] = true;
        ordered.push(lines[top.line]!);
        stack.pop();
      }
    }
  }
  return ordered;
}

/** A document information string (UTF-16LE, NUL-terminated), or undefined when absent or blank. */
function metaText(pdfium: WrappedPdfiumModule, document: number, key: string): string | undefined {
  const length = pdfium.FPDF_GetMetaText(document, key, 0, 0);
  if (length <= 2) return undefined;
  const text = readUtf16(pdfium, length, (buffer) => pdfium.FPDF_GetMetaText(document, key, buffer, length));
  return text.trim() || undefined;
}

/** Lets `fill` write a UTF-16LE string into a fresh `bytes`-byte buffer in PDFium's memory, and reads it. */
function readUtf16(pdfium: WrappedPdfiumModule, bytes: number, fill: (buffer: number) => unknown): string {
  const { wasmExports } = pdfium.pdfium;
  const buffer = wasmExports.malloc(bytes);
  try {
    fill(buffer);
    return pdfium.pdfium.UTF16ToString(buffer, bytes);
  } finally {
    wasmExports.free(buffer);
  }
}

/**
 * The body font size: the median size over characters, not lines, so that the many one-word lines
 * of a figure (tick labels, axis names) or a table's short cells do not outvote the body text.
 */
function medianCharacterSize(lines: Line[]): number | undefined {
  const sized = lines
    .filter((line) => line.size > 0)
    .map((line) => ({ size: line.size, weight: line.text.replace(/\s/g, "").length }))
    .sort((a, b) => a.size - b.size);
  const total = sized.reduce((sum, line) => sum + line.weight, 0);
  let seen = 0;
  for (const line of sized) {
    seen += line.weight;
    if (seen * 2 >= total) return line.size;
  }
  return undefined;
}

/** A number as a table cell or an axis tick shows it: "10", "0.0382", "5.39E-05", "−3", "(2)". */
const NUMBER = /^[-+−(]?\d[\d.,:/%]*(?:E[-+−]?\d+)?\)?$/i;
/** A sentence that ends and another that starts within the line: body text, not a title. */
const SENTENCE_BREAK = /\p{Ll}{2,}[.!?]\s+\p{Lu}\p{Ll}|[。！？].+/u;

/** Three numbers or more making up two thirds of the line: a table row or axis ticks, not a title. */
function isNumericRow(text: string): boolean {
  const words = text.split(/\s+/);
  const numbers = words.filter((word) => NUMBER.test(word)).length;
  return numbers >= 3 && numbers * 3 >= words.length * 2;
}

/** Whether a line set larger than the body reads like a heading rather than text or a table row. */
function looksLikeHeading(text: string): boolean {
  return (
    text.length <= 120 && !/[.。;；,，]$/.test(text) && !isNumericRow(text) && !SENTENCE_BREAK.test(text)
  );
}

/** Lines of one size set closely one under the other: a wrapped heading or a paragraph. */
const continues = (previous: Line, line: Line) =>
  Math.abs(previous.size - line.size) < 0.5 &&
  previous.y - line.y >= 0 &&
  previous.y - line.y < line.size * 2;

/**
 * Which lines are headings: set larger than the body and reading like a title, unless they belong
 * to a run of closely set lines of their size that is a paragraph (more than three lines, or one
 * with a line that is sentence text): on a page whose captions and tables outweigh its body text,
 * the body is larger than the median and would otherwise become a heading per line.
 */
function headingLines(lines: Line[], bodySize: number): boolean[] {
  const headings = lines.map((line) => line.size >= bodySize * 1.25 && looksLikeHeading(line.text.trim()));
  let start = 0;
  for (let end = 1; end <= lines.length; end++) {
    if (end < lines.length && continues(lines[end - 1]!, lines[end]!)) continue;
    const run = end - start;
    if (
      run > 1 &&
      lines[start]!.size >= bodySize * 1.25 &&
      (run > 3 || headings.slice(start, end).includes(false))
    )
      headings.fill(false, start, end);
    start = end;
  }
  return headings;
}

function toBlocks(lines: Line[], page: number, bodySize: number): Block[] {
  const blocks: Block[] = [];
  let paragraph: string[] = [];
  const flush = () => {
    if (paragraph.length) blocks.push({ kind: "paragraph", text: paragraph.join("\n"), page });
    paragraph = [];
  };
  const headings = headingLines(lines, bodySize);
  let previous: Line | undefined;
  for (const [index, line] of lines.entries()) {
    const text = line.text.trim();
    const isHeading = headings[index]!;
    if (isHeading) {
      flush();
      const last = blocks.at(-1);
      // A heading that wraps onto two lines stays one heading.
      if (last?.kind === "heading" && previous && continues(previous, line)) {
        last.text += ` ${text}`;
      } else {
        blocks.push({ kind: "heading", level: line.size >= bodySize * 1.6 ? 1 : 2, text, page });
      }
    } else {
      const gap = previous ? previous.y - line.y : 0;
      if (previous && (gap > Math.max(line.size, previous.size) * 1.75 || gap < 0)) flush();
      paragraph.push(text);
    }
    previous = line;
  }
  flush();
  return blocks;
}
