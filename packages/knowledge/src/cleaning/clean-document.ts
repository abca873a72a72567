import { Converter } from "opencc-js/t2cn";
import type { Block, ParsedDocument } from "../parsing/parsed-document.js";

const CJK =
  "\\u2e80-\\u2fff\\u3000-\\u303f\\u3040-\\u30ff\\u3100-\\u31ff\\u3400-\\u4dbf\\u4e00-\\u9fff\\uf900-\\ufaff\\uff00-\\uffef";
const HAS_HAN = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]/;
const CJK_END = new RegExp(`[${CJK}]$`);
const CJK_START = new RegExp(`^[${CJK}]`);

let toSimplified: ((text: string) => string) | undefined;
/** Traditional Chinese (Taiwan, Hong Kong variants) folded to simplified, for comparing text. */
export function foldToSimplified(text: string): string {
  let convert = toSimplified;
  if (!convert) {
    convert = Converter({ from: "t", to: "cn" }) as (text: string) => string;
    toSimplified = convert;
  }
  return convert(text);
}

/**
 * Unicode clean-up of one string: NFC, the ideographic space to a space, invisible and control
 * characters dropped, runs of spaces collapsed unless `keepSpaces` (code, whose indentation is
 * part of it). Full-width letters and digits (财务部在５个工作日内) stay as written: citations show
 * the document's own text, and the index folds them for matching (foldText).
 */
export function normalizeText(text: string, keepSpaces = false): string {
  const normalized = text
    .normalize("NFC")
    .replace(/\u3000/g, " ")
    .replace(/[\u00ad\u200b-\u200d\u2060\ufeff]/g, "")
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, "")
    .replace(/\r\n?/g, "\n");
  // Runs only: a lone space stays as it is (matching every space made 30 MB take seconds).
  return keepSpaces ? normalized : normalized.replace(/ [ \t\u00a0]+|[\t\u00a0][ \t\u00a0]*/g, " ");
}

/** Full-width ASCII letters and digits as half-width ones, for comparing lines (page numbers, duplicates). */
function toHalfWidth(text: string): string {
  return text.replace(/[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]/g, (char) =>
    String.fromCharCode(char.charCodeAt(0) - 0xfee0),
  );
}

/** A page number line: "12", "- 12 -", "Page 3", "Page 3 of 10", "第 3 页", "3 / 10". */
const PAGE_NUMBER =
  /^(?:[-–—\s]*\d{1,4}[-–—\s]*|(?:page|p\.)\s*\d{1,4}(?:\s*(?:of|\/)\s*\d{1,4})?|第\s*\d{1,4}\s*页(?:\s*[,，/]?\s*共\s*\d{1,4}\s*页)?|\d{1,4}\s*\/\s*\d{1,4}|[ivxlcdm]{1,6})$/i;

/**
 * Cleans a parsed document: normalised text, repeated page headers and footers and page numbers
 * removed (paged formats), hyphenation and broken lines repaired, duplicate paragraphs dropped.
 */
export function cleanDocument(document: ParsedDocument): ParsedDocument {
  let blocks = document.blocks.map((block) => ({
    ...block,
    text: normalizeText(block.text, block.kind === "code"),
  }));
  if (document.paged) blocks = removePageFurniture(blocks, document.pageCount ?? 0);
  const seen = new Set<string>();
  const cleaned: Block[] = [];
  for (const block of blocks) {
    // trimEnd, not /\s+$/: that pattern starts again at every blank of a long run inside the code.
    const text = block.kind === "code" ? block.text.trimEnd() : repairLines(block);
    if (!text.trim()) continue;
    if (block.kind !== "heading" && text.length >= 20) {
      const compact = toHalfWidth(text).replace(/\s+/g, "");
      // On pages, a paragraph repeated on another page belongs to that page (a form's fields, the
      // clause of another record): only a copy on the same page is a duplicate. Text recurring at
      // the edge of many pages went above, as page furniture.
      const page = document.paged ? (block.page ?? 0) : "";
      const key = `${page}\u0000${(HAS_HAN.test(compact) ? foldToSimplified(compact) : compact).toLowerCase()}`;
      if (seen.has(key)) continue;
      seen.add(key);
    }
    // Code keeps its first line's indentation: only blank lines before it go.
    cleaned.push({
      ...block,
      text: block.kind === "code" ? text.replace(/^(?:[ \t]*\n)+/, "") : text.trim(),
    });
  }
  return {
    ...document,
    blocks: cleaned,
    title: document.title ? normalizeText(document.title).trim() : undefined,
  };
}

/**
 * Joins lines a layout broke: "inter-\nnational" -> "international", Chinese lines without a space.
 * Linear in the block's length: each decision looks only at the previous piece's end, never at the
 * text joined so far (a 30 MB block of short lines would otherwise take minutes).
 */
function repairLines(block: Block): string {
  const lines = block.text
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
  if (block.kind === "table") return lines.join("\n");
  const pieces: string[] = [];
  // The last piece pushed; the joined text so far ends with it.
  let last = "";
  for (const line of lines) {
    if (pieces.length === 0) pieces.push(line);
    else if (block.kind === "list" && /^([-*+•]|\d+[.)])\s/.test(line)) pieces.push("\n", line);
    else if (/[A-Za-z]-$/.test(last.slice(-2)) && /^[a-z]/.test(line)) {
      // Drop the hyphen: it ends the last piece (a line is never empty, so it is not a separator).
      pieces[pieces.length - 1] = last.slice(0, -1);
      pieces.push(line);
    } else if (CJK_END.test(last.slice(-1)) && CJK_START.test(line)) pieces.push(line);
    else pieces.push(" ", line);
    last = line;
  }
  return pieces.join("").replace(/ {2,}/g, " ");
}

function isPageNumber(line: string): boolean {
  return PAGE_NUMBER.test(toHalfWidth(line.trim()));
}

/**
 * A number that could be a page number: up to four digits standing apart ("Page 7", "- 7 -", "p.7",
 * "第7页"), not part of a code, an amount or a numbered field ("SF-1008", "INV1008", "5,738",
 * "# 1008").
 */
const PAGE_NUMBER_IN_LINE = /(?<![a-z0-9#№]|[a-z0-9][-_]|\d[.,]|[#№] )\d{1,4}(?![0-9a-z]|[.,]\d)/g;

/**
 * The forms under which a line at a page's edge may recur at the edge of other pages: as written
 * (half-width, spaces collapsed, any case), and for a short line, with each number that could be
 * the page's printed number kept as its difference from the page ("acme report, page {0} of 3").
 * A footer that carries the page number then recurs, while a field whose value changes from page
 * to page ("Claim # SF-1008", "Claim # SF-1009", "Total 5,738") does not.
 */
function furnitureKeys(line: string, page: number): string[] {
  const key = toHalfWidth(line).replace(/\s+/g, " ").trim().toLowerCase();
  if (key.length > 120) return [key];
  const keys = [key];
  for (const match of key.matchAll(PAGE_NUMBER_IN_LINE)) {
    const offset = Number(match[0]) - page;
    keys.push(`${key.slice(0, match.index)}{${offset}}${key.slice(match.index + match[0].length)}`);
  }
  return keys;
}

/**
 * Running headers and footers are the first or last lines of a page that recur on many pages, the
 * same but for the page number; page numbers are removed wherever they stand alone at a page's edge.
 */
function removePageFurniture(blocks: Block[], pageCount: number): Block[] {
  const pages = new Map<number, Block[]>();
  for (const block of blocks) {
    const page = block.page ?? 0;
    if (!pages.has(page)) pages.set(page, []);
    pages.get(page)!.push(block);
  }
  const edgeLines = (pageBlocks: Block[]) => {
    const lines = pageBlocks.flatMap((block) => block.text.split("\n"));
    return [...lines.slice(0, 2), ...lines.slice(-2)];
  };
  const counts = new Map<string, number>();
  for (const [page, pageBlocks] of pages) {
    const keys = new Set(edgeLines(pageBlocks).flatMap((line) => furnitureKeys(line, page)));
    for (const key of keys) counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const threshold = Math.max(3, Math.ceil(Math.max(pageCount, pages.size) * 0.4));
  const repeated = new Set(
    [...counts].filter(([key, count]) => count >= threshold && key.length > 0).map(([key]) => key),
  );
  const pageOffset = printedPageOffset(pages, edgeLines, threshold);
  // A running header whose text changes with the section ("第 4 节 编译方式 7") does not recur on
  // enough pages; it goes when the number beside it is the page's own (printed page = page + offset).
  const numberedHeader = (line: string, page: number) => {
    if (pageOffset === undefined) return false;
    const number = edgeNumber(line);
    return number !== undefined && number - page === pageOffset;
  };
  const result: Block[] = [];
  for (const [page, pageBlocks] of pages) {
    const lines = pageBlocks.flatMap((block, index) =>
      block.text.split("\n").map((text) => ({ index, text })),
    );
    const drop = new Set<number>();
    const isFurniture = (i: number) => {
      const line = lines[i]!.text.trim();
      return (
        furnitureKeys(line, page).some((key) => repeated.has(key)) ||
        isPageNumber(line) ||
        numberedHeader(line, page)
      );
    };
    // From each edge inward: a second line goes only when the one outside it went too.
    for (let i = 0; i < Math.min(2, lines.length) && isFurniture(i); i++) drop.add(i);
    for (let i = lines.length - 1; i >= Math.max(0, lines.length - 2) && isFurniture(i); i--) drop.add(i);
    // Pages made only of "repeated" lines are forms or tables, not furniture: keep them.
    if (drop.size === lines.length) {
      drop.clear();
      for (const [i, line] of lines.entries()) if (isPageNumber(line.text)) drop.add(i);
    }
    pageBlocks.forEach((block, index) => {
      const kept = lines.filter((line, i) => line.index === index && !drop.has(i)).map((line) => line.text);
      if (kept.length) result.push({ ...block, text: kept.join("\n") });
    });
  }
  return result;
}

/** A short line that starts or ends with a number set apart by a space: "第 4 节 编译方式 7", "12 Results". */
const EDGE_NUMBER = /^(\d{1,4})\s+\S.{0,80}$|^.{0,80}\S\s+(\d{1,4})$/u;

function edgeNumber(line: string): number | undefined {
  const match = EDGE_NUMBER.exec(toHalfWidth(line.trim()));
  const digits = match?.[1] ?? match?.[2];
  return digits === undefined ? undefined : Number(digits);
}

/**
 * The difference between printed page numbers and page positions when the pages' edge lines carry
 * them (a running header "第 6 节 实现细节 7" on page 7: 0), found on at least `threshold` pages;
 * undefined when no offset is that common.
 */
function printedPageOffset(
  pages: Map<number, Block[]>,
  edgeLines: (pageBlocks: Block[]) => string[],
  threshold: number,
): number | undefined {
  const counts = new Map<number, number>();
  for (const [page, pageBlocks] of pages) {
    if (page === 0) continue;
    const offsets = new Set<number>();
    for (const line of edgeLines(pageBlocks)) {
      const number = edgeNumber(line);
      if (number !== undefined) offsets.add(number - page);
    }
    for (const offset of offsets) counts.set(offset, (counts.get(offset) ?? 0) + 1);
  }
  let best: [number, number] | undefined;
  for (const entry of counts) if (best === undefined || entry[1] > best[1]) best = entry;
  return best !== undefined && best[1] >= threshold ? best[0] : undefined;
}
