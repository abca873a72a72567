import { HearthError, legacyChineseEncoding } from "@hearth/core";
import { binaryNotText } from "./detect-format.js";
import { tableBlocks } from "./office-parsers.js";
import type { Block, ParsedDocument } from "./parsed-document.js";

/**
 * Decodes text bytes: UTF-8 (with or without BOM, also UTF-16 with BOM), else GB18030 (GBK) or
 * Big5, the usual encodings of simplified and of traditional Chinese text files saved on Windows,
 * whichever reads as Chinese (see legacyChineseEncoding). NUL bytes mean a binary file, not text.
 */
export function decodeText(bytes: Uint8Array): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder("utf-16le").decode(bytes.subarray(2));
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder("utf-16be").decode(bytes.subarray(2));
  const sample = bytes.subarray(0, 8192);
  if (sample.includes(0)) throw binaryNotText();
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    const encoding = legacyChineseEncoding(bytes);
    if (encoding) {
      try {
        return new TextDecoder(encoding, { fatal: true }).decode(bytes);
      } catch {
        // Reads as Chinese, yet is not valid in that encoding throughout: not text in it after all.
      }
    }
    // Most often another legacy code page (Windows-1252, Shift_JIS, EUC-JP...), not a damaged file.
    throw new HearthError(
      "DOCUMENT_CORRUPT",
      "The text's encoding is not supported: it does not read as text in any supported encoding (UTF-8, UTF-16 with a byte order mark, GB18030/GBK, Big5). Save the file as UTF-8 and upload it again.",
    );
  }
}

export function parsePlainText(text: string): ParsedDocument {
  const blocks: Block[] = text
    .split(/\n[ \t]*\n/)
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => ({ kind: "paragraph", text: part }));
  return { blocks };
}

/** Markdown: ATX and setext headings, fenced code, lists, tables and paragraphs. */
export function parseMarkdown(text: string): ParsedDocument {
  const lines = text
    .replace(/\r\n?/g, "\n")
    .replace(/<!--[\s\S]*?-->/g, "")
    .split("\n");
  const blocks: Block[] = [];
  let paragraph: string[] = [];
  let kind: Block["kind"] = "paragraph";
  const flush = () => {
    const joined = paragraph.join("\n").trim();
    if (joined) blocks.push({ kind, text: joined });
    paragraph = [];
    kind = "paragraph";
  };
  // YAML front matter is metadata, not content.
  let i = lines[0] === "---" ? lines.indexOf("---", 1) + 1 : 0;
  for (; i < lines.length; i++) {
    const line = lines[i]!;
    const fence = /^\s{0,3}(```|~~~)/.exec(line);
    if (fence) {
      flush();
      const code: string[] = [];
      for (i++; i < lines.length && !lines[i]!.trimStart().startsWith(fence[1]!); i++) code.push(lines[i]!);
      if (code.join("").trim()) blocks.push({ kind: "code", text: code.join("\n") });
      continue;
    }
    const heading = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      flush();
      if (heading[2]) blocks.push({ kind: "heading", level: heading[1]!.length, text: heading[2] });
      continue;
    }
    const next = lines[i + 1];
    if (
      paragraph.length === 0 &&
      line.trim() &&
      next !== undefined &&
      /^\s{0,3}(=+|-+)\s*$/.test(next) &&
      !/^\s*[-*+]\s/.test(line)
    ) {
      blocks.push({ kind: "heading", level: next.trim().startsWith("=") ? 1 : 2, text: line.trim() });
      i++;
      continue;
    }
    if (!line.trim()) {
      flush();
      continue;
    }
    const lineKind: Block["kind"] = /^\s*\|.*\|\s*$/.test(line)
      ? "table"
      : /^\s*([-*+]|\d+[.)])\s+/.test(line)
        ? "list"
        : "paragraph";
    if (paragraph.length > 0 && lineKind !== kind && (lineKind === "table" || kind === "table")) flush();
    if (paragraph.length === 0) kind = lineKind;
    if (lineKind === "table" && /^\s*\|?\s*:?-{2,}/.test(line)) continue;
    paragraph.push(
      lineKind === "table"
        ? line
            .trim()
            .replace(/^\||\|$/g, "")
            .split("|")
            .map((cell) => cell.trim())
            .join(" | ")
        : line,
    );
  }
  flush();
  return { blocks };
}

/** CSV (RFC 4180 quoting; comma, semicolon or tab, whichever the first line uses most). */
export function parseCsv(text: string): ParsedDocument {
  const firstLine = text.slice(0, text.indexOf("\n") === -1 ? text.length : text.indexOf("\n"));
  const delimiter = [",", ";", "\t"].sort(
    (a, b) => firstLine.split(b).length - firstLine.split(a).length,
  )[0]!;
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (char === '"') quoted = false;
      else cell += char;
    } else if (char === '"' && cell === "") quoted = true;
    else if (char === delimiter) {
      row.push(cell);
      cell = "";
    } else if (char === "\n" || char === "\r") {
      if (char === "\r" && text[i + 1] === "\n") i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = "";
    } else cell += char;
  }
  if (cell !== "" || row.length > 0) {
    row.push(cell);
    rows.push(row);
  }
  return { blocks: tableBlocks(rows) };
}

/** JSON: every scalar as a "path: value" line, grouped by top-level entry. */
export function parseJson(text: string): ParsedDocument {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new HearthError("DOCUMENT_CORRUPT", `The JSON file does not parse: ${(error as Error).message}`);
  }
  const blocks: Block[] = [];
  const lines: string[] = [];
  const walk = (node: unknown, path: string) => {
    if (node === null || typeof node !== "object") {
      if (node !== null && node !== "") lines.push(path ? `${path}: ${String(node)}` : String(node));
      return;
    }
    for (const [key, child] of Array.isArray(node) ? node.entries() : Object.entries(node)) {
      walk(child, path ? `${path}.${key}` : String(key));
    }
  };
  const top =
    value !== null && typeof value === "object"
      ? Array.isArray(value)
        ? [...value.entries()]
        : Object.entries(value)
      : [["", value]];
  for (const [key, child] of top) {
    walk(child, String(key));
    if (lines.length) blocks.push({ kind: "paragraph", text: lines.splice(0).join("\n") });
  }
  return { blocks };
}
