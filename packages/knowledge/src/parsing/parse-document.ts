import { HearthError } from "@hearth/core";
import { parseHtml } from "./html-parser.js";
import { parseDocx, parseOdt, parsePptx, parseXlsx } from "./office-parsers.js";
import type { DocumentFormat, PagesRead, ParsedDocument, ParseOptions } from "./parsed-document.js";
import { type PageStride, parsePdf } from "./pdf-parser.js";
import { decodeText, parseCsv, parseJson, parseMarkdown, parsePlainText } from "./text-parsers.js";

/**
 * Runs the built-in parser for a detected format (in whatever thread calls it); `onPages` is told
 * how many pages of a PDF are read.
 */
export async function parseDocument(
  format: DocumentFormat,
  bytes: Uint8Array,
  options: ParseOptions,
  stride?: PageStride,
  onPages?: PagesRead,
): Promise<ParsedDocument> {
  switch (format) {
    case "pdf":
      return parsePdf(bytes, stride, onPages);
    case "docx":
      return parseDocx(bytes, options);
    case "pptx":
      return parsePptx(bytes, options);
    case "xlsx":
      return parseXlsx(bytes, options);
    case "odt":
      return parseOdt(bytes, options);
    case "html":
      return parseHtml(decodeText(bytes));
    case "markdown":
      return parseMarkdown(decodeText(bytes));
    case "text":
      return parsePlainText(decodeText(bytes));
    case "csv":
      return parseCsv(decodeText(bytes));
    case "json":
      return parseJson(decodeText(bytes));
    default:
      throw new HearthError("DOCUMENT_UNSUPPORTED_FORMAT", `No parser for format ${String(format)}`);
  }
}
