import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { init, type WrappedPdfiumModule } from "@embedpdf/pdfium";
import { HearthError } from "@hearth/core";
import type { Block, ParsedDocument } from "./parsed-document.js";

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
  y: number;
  size: number;
}

/**
 * PDF text layer through PDFium (no OCR): PDFium's text page gives the characters in reading order
 * with its own line breaks; each line keeps its baseline and largest font size, paragraphs split on
 * vertical gaps, larger short lines taken as headings, every block tagged with its page.
 */
export async function parsePdf(bytes: Uint8Array, stride?: PageStride): Promise<ParsedDocument> {
  const pdfium = await loadPdfium();
  try {
    return extractPdf(pdfium, bytes, stride);
  } catch (error) {
    if (error instanceof HearthError) throw error;
    // A trap or abort inside PDFium leaves its instance unusable: the next document gets a new one.
    engine = undefined;
    throw new HearthError("DOCUMENT_CORRUPT", `The PDF is damaged: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

function extractPdf(pdfium: WrappedPdfiumModule, bytes: Uint8Array, stride?: PageStride): ParsedDocument {
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
  const scratch = wasmExports.malloc(16);
  try {
    const pageCount = pdfium.FPDF_GetPageCount(document);
    const pages: Array<{ number: number; lines: Line[] }> = [];
    for (let number = 1; number <= pageCount; number++) {
      if (stride && (number - 1) % stride.of !== stride.index) continue;
      pages.push({ number, lines: pageLines(pdfium, document, number - 1, scratch) });
    }
    const sizes = pages.flatMap((page) => page.lines.map((line) => line.size)).sort((a, b) => a - b);
    const bodySize = sizes[Math.floor(sizes.length / 2)] ?? 10;
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
    // One UTF-16 unit per character index, except where PDFium stores a pair per character.
    const aligned = text.length === count;
    const chars = charExports(pdfium);
    const lines: Line[] = [];
    let start = 0;
    while (start <= text.length) {
      let end = text.indexOf("\n", start);
      if (end < 0) end = text.length;
      const lineText = text.slice(start, end).replace(/\r$/, "");
      if (lineText.trim() !== "") {
        let size = 0;
        let y = 0;
        if (aligned) {
          for (let char = start; char < start + lineText.length; char++) {
            const charSize = chars.FPDFText_GetFontSize(textPage, char);
            if (charSize > size) {
              size = charSize;
              if (chars.FPDFText_GetCharOrigin(textPage, char, scratch, scratch + 8))
                y = heap(pdfium).HEAPF64[scratch / 8 + 1] ?? 0;
            }
          }
        }
        // PDFium marks a hyphen that breaks a word at the end of a line as U+FFFE and joins the
        // two lines: put the hyphen and the break back, for the cleaner to repair like any other.
        lines.push({ text: lineText.replaceAll("\uFFFE", "-\n"), y, size });
      }
      start = end + 1;
    }
    return lines;
  } finally {
    if (textPage) pdfium.FPDFText_ClosePage(textPage);
    pdfium.FPDF_ClosePage(page);
  }
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

function toBlocks(lines: Line[], page: number, bodySize: number): Block[] {
  const blocks: Block[] = [];
  let paragraph: string[] = [];
  const flush = () => {
    if (paragraph.length) blocks.push({ kind: "paragraph", text: paragraph.join("\n"), page });
    paragraph = [];
  };
  let previous: Line | undefined;
  for (const line of lines) {
    const text = line.text.trim();
    const isHeading = line.size >= bodySize * 1.25 && text.length <= 120 && !/[.。;；,，]$/.test(text);
    if (isHeading) {
      flush();
      const last = blocks.at(-1);
      // A heading that wraps onto two lines stays one heading.
      if (
        last?.kind === "heading" &&
        previous &&
        Math.abs(previous.size - line.size) < 0.5 &&
        previous.y - line.y < line.size * 2
      ) {
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
