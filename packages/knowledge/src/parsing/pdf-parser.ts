import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { HearthError } from "@hearth/core";
import type { Block, ParsedDocument } from "./parsed-document.js";

type PdfJs = typeof import("pdfjs-dist/legacy/build/pdf.mjs");
let pdfjs: Promise<PdfJs> | undefined;

/**
 * Built-ins that the legacy build's bundled core-js replaces, on import and for the whole thread,
 * with JavaScript versions although Node 20 has them natively: they are forced only for edge cases
 * (push onto an array whose length is read-only, JSON.rawJSON) that pdf.js never meets. The
 * replacements made pdf.js text extraction ~25% slower (CPU time, zh-ctex-manual.pdf), and every
 * JSON.stringify and push in the thread with it, so the natives are put back once pdf.js is loaded.
 * Everything core-js only adds (Promise.withResolvers, Map.prototype.getOrInsertComputed, ...) stays.
 */
const NATIVE_BUILT_INS: ReadonlyArray<readonly [object, string]> = [
  [Array.prototype, "push"],
  [JSON, "parse"],
  [JSON, "stringify"],
];

function loadPdfJs(): Promise<PdfJs> {
  pdfjs ??= (async () => {
    // Another pdf.js copy in the process (a benchmark's LangChain) leaves its worker on
    // globalThis.pdfjsWorker, and pdf.js then refuses to run ("API version does not match").
    delete (globalThis as { pdfjsWorker?: unknown }).pdfjsWorker;
    const natives = NATIVE_BUILT_INS.map(([owner, key]) => {
      const descriptor = Object.getOwnPropertyDescriptor(owner, key);
      if (!descriptor) throw new Error(`built-in ${key} is missing`);
      return [owner, key, descriptor] as const;
    });
    const module = await import("pdfjs-dist/legacy/build/pdf.mjs");
    const workerSrc = pathToFileURL(
      createRequire(import.meta.url).resolve("pdfjs-dist/legacy/build/pdf.worker.mjs"),
    ).href;
    module.GlobalWorkerOptions.workerSrc = workerSrc;
    // pdf.js runs its "worker" in this thread (Node has no web worker) by importing this module:
    // import it now, so that its polyfills too are in place before the natives are put back.
    await import(workerSrc);
    for (const [owner, key, descriptor] of natives) Object.defineProperty(owner, key, descriptor);
    return module;
  })();
  return pdfjs;
}

/** A data folder shipped with pdfjs-dist; pdf.js in Node reads it from the file system (trailing slash required). */
function pdfjsDataDirectory(name: string): string {
  return `${join(dirname(createRequire(import.meta.url).resolve("pdfjs-dist/package.json")), name)}/`;
}

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
 * PDF text layer through pdf.js (no OCR): lines rebuilt from positioned text items, paragraphs split
 * on vertical gaps, larger short lines taken as headings, every block tagged with its page.
 */
export async function parsePdf(bytes: Uint8Array, stride?: PageStride): Promise<ParsedDocument> {
  const { getDocument } = await loadPdfJs();
  const task = getDocument({
    data: new Uint8Array(bytes),
    // Chinese, Japanese and Korean PDFs often use a predefined CMap (UniGB-UCS2-H, ...) with a font
    // that is not embedded: without pdf.js's CMap files their text comes out empty.
    cMapUrl: pdfjsDataDirectory("cmaps"),
    cMapPacked: true,
    standardFontDataUrl: pdfjsDataDirectory("standard_fonts"),
    isEvalSupported: false,
    disableFontFace: true,
    useSystemFonts: false,
    stopAtErrors: false,
    verbosity: 0,
  });
  let document: Awaited<typeof task.promise>;
  try {
    document = await task.promise;
  } catch (error) {
    await task.destroy().catch(() => {});
    const name = (error as Error).name;
    if (name === "PasswordException")
      throw new HearthError("DOCUMENT_ENCRYPTED", "The PDF is encrypted and needs a password", {
        cause: error,
      });
    throw new HearthError("DOCUMENT_CORRUPT", `The PDF cannot be read: ${(error as Error).message}`, {
      cause: error,
    });
  }
  try {
    const pages: Array<{ number: number; lines: Line[] }> = [];
    for (let number = 1; number <= document.numPages; number++) {
      if (stride && (number - 1) % stride.of !== stride.index) continue;
      const page = await document.getPage(number);
      const content = await page.getTextContent();
      pages.push({
        number,
        lines: toLines(
          content.items as Array<{ str?: string; transform?: number[]; hasEOL?: boolean; height?: number }>,
        ),
      });
      page.cleanup();
    }
    const sizes = pages.flatMap((page) => page.lines.map((line) => line.size)).sort((a, b) => a - b);
    const bodySize = sizes[Math.floor(sizes.length / 2)] ?? 10;
    const blocks: Block[] = [];
    for (const page of pages) blocks.push(...toBlocks(page.lines, page.number, bodySize));
    let title: string | undefined;
    if (!stride || stride.index === 0)
      try {
        const metadata = await document.getMetadata();
        const info = metadata.info as { Title?: unknown } | undefined;
        if (typeof info?.Title === "string" && info.Title.trim()) title = info.Title.trim();
      } catch {
        // Metadata is optional; the file name stands in.
      }
    return { title, blocks, pageCount: document.numPages, paged: true };
  } catch (error) {
    if (error instanceof HearthError) throw error;
    throw new HearthError("DOCUMENT_CORRUPT", `The PDF is damaged: ${(error as Error).message}`, {
      cause: error,
    });
  } finally {
    await document.destroy();
  }
}

function toLines(
  items: Array<{ str?: string; transform?: number[]; hasEOL?: boolean; height?: number }>,
): Line[] {
  const lines: Line[] = [];
  let current: Line | undefined;
  for (const item of items) {
    if (typeof item.str !== "string" || !item.transform) continue;
    const y = item.transform[5] ?? 0;
    const size = Math.abs(item.transform[3] ?? item.height ?? 0) || item.height || 0;
    if (current && item.str !== "" && Math.abs(current.y - y) > Math.max(2, current.size * 0.6)) {
      lines.push(current);
      current = undefined;
    }
    if (item.str !== "") {
      if (!current) current = { text: "", y, size };
      current.text += item.str;
      current.size = Math.max(current.size, size);
    }
    if (item.hasEOL && current) {
      lines.push(current);
      current = undefined;
    }
  }
  if (current) lines.push(current);
  return lines.filter((line) => line.text.trim() !== "");
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
