import { HearthError, legacyChineseEncoding } from "@hearth/core";

/**
 * How a fetched page's bytes become text: its type when the server sent none (sniffed, as a
 * browser does) and its character encoding, found in the WHATWG order (a byte order mark, the
 * Content-Type's charset, a `<meta>` in the first 1024 bytes) and repaired where UTF-8 fails
 * (a `<meta>` further down, or GB18030 or Big5 for a Chinese page that declares nothing).
 */

/** The first bytes a browser sniffs a type from (WHATWG MIME Sniffing's resource header). */
const SNIFF_BYTES = 1445;
/** Where the WHATWG prescan looks for a `<meta>` charset. */
const PRESCAN_BYTES = 1024;
/** Where a later `<meta>` charset is looked for, past a long head of styles and scripts. */
const LATE_META_BYTES = 64 * 1024;

/** Bytes that text never holds (WHATWG's binary data bytes): NUL, most C0 controls. */
const BINARY_BYTE = /[\u0000-\u0008\u000b\u000e-\u001a\u001c-\u001f]/;
/** The starts WHATWG sniffs as HTML, each followed by a space or `>`; whitespace before them is skipped. */
const HTML_START =
  /^[\t\n\f\r ]*<(?:!doctype html|html|head|script|iframe|h1|div|font|table|a|style|title|b|body|br|p|!--)[ >]/i;
/** Documents that start like text but are not (PDF, PostScript). */
const BINARY_DOCUMENT = /^(?:%PDF-|%!PS-Adobe-)/;

/**
 * The type of a page sent without a Content-Type: `text/html` when it starts like HTML,
 * `text/plain` when it holds no binary bytes, undefined when it is binary (not read).
 */
export function sniffPageType(body: Buffer): "text/html" | "text/plain" | undefined {
  const bom = bomEncoding(body);
  const start = bom
    ? new TextDecoder(bom).decode(body.subarray(0, SNIFF_BYTES))
    : body.subarray(0, SNIFF_BYTES).toString("latin1");
  if (!bom && (BINARY_BYTE.test(start) || BINARY_DOCUMENT.test(start))) return undefined;
  return HTML_START.test(start) ? "text/html" : "text/plain";
}

/**
 * The page's text. `truncated` (a body cut at the size limit) drops a character cut in two at
 * the end rather than showing it as U+FFFD. Throws SEARCH_FETCH_FAILED when the text is still
 * mostly undecodable: replacement characters are not content.
 */
export function decodePage(body: Buffer, contentType: string, truncated: boolean): string {
  const html = !contentType.startsWith("text/plain");
  const bom = bomEncoding(body);
  const encoding =
    bom ?? headerCharset(contentType) ?? (html ? prescanCharset(body, PRESCAN_BYTES) : undefined) ?? "utf-8";
  let text = decodeAs(encoding, body, truncated);
  let used = encoding;
  let replaced = replacements(text);
  // A byte order mark is certain; a UTF-8 that fails (declared, or the default) may be repaired.
  if (!bom && encoding === "utf-8" && replaced > 0) {
    for (const candidate of repairs(body, html)) {
      const retried = decodeAs(candidate, body, truncated);
      const retriedReplaced = replacements(retried);
      if (retriedReplaced < replaced) {
        text = retried;
        used = candidate;
        replaced = retriedReplaced;
        break;
      }
    }
  }
  // The non-ASCII characters are counted only when there are replacements enough to matter.
  if (replaced >= MIN_GARBLED && replaced > nonAsciiCount(text) * 0.05)
    throw new HearthError(
      "SEARCH_FETCH_FAILED",
      `the page's text could not be decoded: ${replaced} of its ${nonAsciiCount(text)} non-ASCII characters are not valid ${used}`,
    );
  return text;
}

/**
 * What to try after UTF-8 failed: a `<meta>` charset past the first 1024 bytes, then the legacy
 * Chinese encoding (GB18030 or Big5) the page reads as, if any.
 */
function repairs(body: Buffer, html: boolean): string[] {
  const late = html ? prescanCharset(body, LATE_META_BYTES) : undefined;
  const chinese = legacyChineseEncoding(body);
  return [...(late && late !== "utf-8" ? [late] : []), ...(chinese ? [chinese] : [])];
}

function decodeAs(encoding: string, body: Buffer, truncated: boolean): string {
  // Streaming leaves an incomplete last character undecoded instead of replacing it.
  return new TextDecoder(encoding).decode(body, { stream: truncated });
}

function bomEncoding(body: Buffer): string | undefined {
  if (body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) return "utf-8";
  if (body[0] === 0xfe && body[1] === 0xff) return "utf-16be";
  if (body[0] === 0xff && body[1] === 0xfe) return "utf-16le";
  return undefined;
}

/** The encoding a label names (WHATWG labels: "gb2312" is GBK, "latin1" windows-1252), if Node decodes it. */
function encodingOf(label: string): string | undefined {
  try {
    return new TextDecoder(label.trim()).encoding;
  } catch {
    return undefined;
  }
}

function headerCharset(contentType: string): string | undefined {
  const label = /;\s*charset\s*=\s*(?:"([^"]*)"|([^;\s]*))/i.exec(contentType);
  return label ? encodingOf(label[1] ?? label[2] ?? "") : undefined;
}

/**
 * The encoding a `<meta>` in the first `limit` bytes declares, by WHATWG's prescan: comments and
 * other tags' attributes are skipped, `<meta charset>` and `<meta http-equiv="content-type"
 * content="…charset=…">` count, and a UTF-16 declaration means UTF-8 (bytes read as ASCII could
 * not be UTF-16).
 */
function prescanCharset(body: Buffer, limit: number): string | undefined {
  const head = body.subarray(0, limit).toString("latin1");
  let position = 0;
  const skipTo = (text: string, from: number) => {
    const found = head.indexOf(text, from);
    return found < 0 ? head.length : found + text.length;
  };
  while (position < head.length) {
    const rest = head.slice(position, position + 6);
    if (rest.startsWith("<!--")) {
      // The dashes that close it may be those that opened it: "<!-->" is a whole comment.
      position = skipTo("-->", position + 2);
    } else if (/^<meta[\t\n\f\r /]/i.test(rest)) {
      const { attributes, end } = readAttributes(head, position + 5);
      position = end;
      const encoding = metaCharset(attributes);
      if (encoding) return encoding;
    } else if (/^<\/?[a-z]/i.test(rest)) {
      // Another tag: its attributes are read past, so that a ">" or "<meta" inside a value is not taken for markup.
      let nameEnd = position + 1;
      while (nameEnd < head.length && !/[\t\n\f\r >]/.test(head[nameEnd]!)) nameEnd++;
      position = readAttributes(head, nameEnd).end;
    } else if (/^<[!/?]/.test(rest)) {
      position = skipTo(">", position);
    } else {
      position++;
    }
  }
  return undefined;
}

/** A tag's attributes from `position` to its end (the first of a repeated name counts). */
function readAttributes(head: string, position: number): { attributes: Map<string, string>; end: number } {
  const attributes = new Map<string, string>();
  let end = position;
  for (;;) {
    const attribute = readAttribute(head, end);
    end = attribute.end;
    if (attribute.name === undefined) return { attributes, end };
    if (!attributes.has(attribute.name)) attributes.set(attribute.name, attribute.value);
  }
}

function metaCharset(attributes: Map<string, string>): string | undefined {
  let label = attributes.get("charset");
  if (label === undefined) {
    const pragma = attributes.get("http-equiv")?.toLowerCase() === "content-type";
    const content = attributes.get("content");
    if (!pragma || content === undefined) return undefined;
    const declared = /charset[\t\n\f\r ]*=[\t\n\f\r ]*(?:"([^"]*)"|'([^']*)'|([^\t\n\f\r ;"']+))/i.exec(
      content,
    );
    label = declared?.[1] ?? declared?.[2] ?? declared?.[3];
  }
  const encoding = label === undefined ? undefined : encodingOf(label);
  return encoding?.startsWith("utf-16") ? "utf-8" : encoding;
}

const SPACE = /[\t\n\f\r ]/;

/** One attribute from `start` (WHATWG's "get an attribute"); none (no name) at the tag's end. */
function readAttribute(head: string, start: number): { name?: string; value: string; end: number } {
  let position = start;
  while (position < head.length && /[\t\n\f\r /]/.test(head[position]!)) position++;
  if (position >= head.length) return { value: "", end: position };
  if (head[position] === ">") return { value: "", end: position + 1 };
  let name = "";
  while (position < head.length) {
    const character = head[position]!;
    if (/[\t\n\f\r />]/.test(character) || (character === "=" && name)) break;
    name += character.toLowerCase();
    position++;
  }
  while (position < head.length && SPACE.test(head[position]!)) position++;
  if (head[position] !== "=") return { name, value: "", end: position };
  position++;
  while (position < head.length && SPACE.test(head[position]!)) position++;
  const quote = head[position];
  if (quote === '"' || quote === "'") {
    const close = head.indexOf(quote, position + 1);
    const end = close < 0 ? head.length : close;
    return { name, value: head.slice(position + 1, end), end: end + 1 };
  }
  let value = "";
  while (position < head.length && !/[\t\n\f\r >]/.test(head[position]!)) value += head[position++]!;
  return { name, value, end: position };
}

function replacements(text: string): number {
  let count = 0;
  for (let index = text.indexOf("\uFFFD"); index >= 0; index = text.indexOf("\uFFFD", index + 1)) count++;
  return count;
}

/**
 * Text is undecodable, not content, when it holds more than a stray bad byte: at least this many
 * replacement characters, and over 5% of its non-ASCII characters.
 */
const MIN_GARBLED = 4;

function nonAsciiCount(text: string): number {
  let count = 0;
  for (const character of text) if (character.charCodeAt(0) > 0x7f) count++;
  return count;
}
