import { HearthError } from "@hearth/core";
import type { Block, ParsedDocument, ParseOptions } from "./parsed-document.js";
import { attribute, decodeXmlEntities, elements, elementTexts } from "./xml-text.js";
import { openZipArchive, type ZipArchive } from "./zip-archive.js";

function open(bytes: Uint8Array, options: ParseOptions, required: string, format: string): ZipArchive {
  const zip = openZipArchive(bytes, options.maxExtractedBytes);
  if (zip.has("EncryptedPackage") || zip.has("encryption")) {
    throw new HearthError("DOCUMENT_ENCRYPTED", `The ${format} file is password-protected`);
  }
  if (!zip.has(required))
    throw new HearthError("DOCUMENT_CORRUPT", `The file is not a valid ${format} file (no ${required})`);
  return zip;
}

function title(zip: ZipArchive, path: string): string | undefined {
  const core = zip.text(path);
  const found = core ? elementTexts(core, "dc:title").trim() : "";
  return found || undefined;
}

/** Word: paragraphs with heading styles and numbering, tables as rows of cells. */
export function parseDocx(bytes: Uint8Array, options: ParseOptions): ParsedDocument {
  const zip = open(bytes, options, "word/document.xml", "DOCX");
  const xml = zip.text("word/document.xml")!;
  const styleOf = docxStyles(zip.text("word/styles.xml") ?? "");
  const footnotes = docxNotes(zip.text("word/footnotes.xml") ?? "", "footnote");
  const endnotes = docxNotes(zip.text("word/endnotes.xml") ?? "", "endnote");
  const docxParagraphText = (paragraph: string) => paragraphText(paragraph, footnotes, endnotes);
  const blocks: Block[] = [];
  for (const match of xml.matchAll(/<w:tbl>[\s\S]*?<\/w:tbl>|<w:p(?:\s[^>]*)?>[\s\S]*?<\/w:p>/g)) {
    const element = match[0];
    if (element.startsWith("<w:tbl")) {
      const rows = elements(element, "w:tr").map((row) =>
        elements(row, "w:tc")
          .map((cell) => elements(cell, "w:p").map(docxParagraphText).join(" ").trim())
          .join(" | "),
      );
      const text = rows.filter((row) => row.replace(/[|\s]/g, "") !== "").join("\n");
      if (text) blocks.push({ kind: "table", text });
      continue;
    }
    const text = docxParagraphText(element).trim();
    if (!text) continue;
    const style = styleOf(attribute(element, /<w:pStyle w:val="([^"]+)"/) ?? "");
    // Outline level 9 is body text; a paragraph's own level overrides its style's.
    const outline = attribute(element, /<w:outlineLvl w:val="(\d)"/);
    const headingLevel =
      outline !== undefined ? (outline === "9" ? undefined : Number(outline) + 1) : style.heading;
    if (headingLevel) blocks.push({ kind: "heading", level: headingLevel, text });
    else if (/<w:numPr>/.test(element) || style.list) blocks.push({ kind: "list", text: `- ${text}` });
    else blocks.push({ kind: "paragraph", text });
  }
  // Footnotes, then endnotes, after the body, each a paragraph starting with its mark.
  for (const note of [...footnotes.values(), ...endnotes.values()]) {
    const text = note.paragraphs
      .map((paragraph) => paragraphText(paragraph).trim())
      .filter(Boolean)
      .join("\n");
    if (text) blocks.push({ kind: "paragraph", text: `[${note.mark}] ${text}` });
  }
  return { title: title(zip, "docProps/core.xml"), blocks };
}

interface DocxNote {
  mark: string;
  paragraphs: string[];
}

/**
 * Footnotes or endnotes by id, numbered in their file's order (as Word numbers them by default);
 * the separator and continuation notes Word keeps there are left out.
 */
function docxNotes(xml: string, kind: "footnote" | "endnote"): Map<string, DocxNote> {
  const notes = new Map<string, DocxNote>();
  for (const note of elements(xml, `w:${kind}`)) {
    const open = /^<[^>]*>/.exec(note)?.[0] ?? "";
    const type = attribute(open, /\sw:type="([^"]*)"/);
    const id = attribute(open, /\sw:id="([^"]*)"/);
    if (id === undefined || (type !== undefined && type !== "normal")) continue;
    const mark = kind === "footnote" ? String(notes.size + 1) : romanNumeral(notes.size + 1);
    notes.set(id, { mark, paragraphs: elements(note, "w:p") });
  }
  return notes;
}

/** Lower-case Roman numerals, Word's default for endnotes (i, ii, iii, ...). */
function romanNumeral(value: number): string {
  const numerals: Array<[number, string]> = [
    [1000, "m"],
    [900, "cm"],
    [500, "d"],
    [400, "cd"],
    [100, "c"],
    [90, "xc"],
    [50, "l"],
    [40, "xl"],
    [10, "x"],
    [9, "ix"],
    [5, "v"],
    [4, "iv"],
    [1, "i"],
  ];
  let text = "";
  for (const [size, numeral] of numerals) for (; value >= size; value -= size) text += numeral;
  return text;
}

interface DocxStyle {
  heading?: number;
  list?: boolean;
}

/**
 * Paragraph styles by id. Word writes localized ids (a Chinese Word saves "heading 1" as id "1" and
 * "Title" as "a3"), so a style is known by its w:name, its own w:outlineLvl, or the style it is
 * based on; the id itself is the fallback when styles.xml does not list it.
 */
function docxStyles(stylesXml: string): (id: string) => DocxStyle {
  const styles = new Map<string, { name: string; outline?: string; basedOn?: string }>();
  for (const style of elements(stylesXml, "w:style")) {
    const id = attribute(style, /<w:style\s[^>]*w:styleId="([^"]*)"/);
    if (!id) continue;
    const pPr = /<w:pPr>[\s\S]*?<\/w:pPr>/.exec(style)?.[0] ?? "";
    styles.set(id, {
      name: decodeXmlEntities(attribute(style, /<w:name w:val="([^"]*)"/) ?? ""),
      outline: attribute(pPr, /<w:outlineLvl w:val="(\d)"/),
      basedOn: attribute(style, /<w:basedOn w:val="([^"]*)"/),
    });
  }
  const byName = (name: string): DocxStyle | undefined => {
    const heading = /^(?:heading|标题)\s*(\d)$/i.exec(name)?.[1];
    if (heading) return { heading: Number(heading) };
    if (/^title$|^标题$/i.test(name)) return { heading: 1 };
    if (/^list/i.test(name)) return { list: true };
    return undefined;
  };
  const resolved = new Map<string, DocxStyle>();
  const resolve = (id: string, seen: Set<string>): DocxStyle => {
    const known = resolved.get(id);
    if (known) return known;
    const style = styles.get(id);
    let found: DocxStyle;
    if (!style) found = byName(id) ?? {};
    else if (style.outline !== undefined)
      found = style.outline === "9" ? {} : { heading: Number(style.outline) + 1 };
    else {
      found = byName(style.name) ?? byName(id) ?? {};
      if (!found.heading && !found.list && style.basedOn && !seen.has(style.basedOn)) {
        seen.add(id);
        found = resolve(style.basedOn, seen);
      }
    }
    resolved.set(id, found);
    return found;
  };
  return (id) => (id ? resolve(id, new Set()) : {});
}

/** A paragraph's text, with [mark] where it refers to a footnote or endnote. */
function paragraphText(
  paragraph: string,
  footnotes?: Map<string, DocxNote>,
  endnotes?: Map<string, DocxNote>,
): string {
  let text = "";
  for (const match of paragraph.matchAll(
    /<w:t(?:\s[^>]*)?>([^<]*)<\/w:t>|<w:tab\/>|<w:br\/>|<w:(footnote|endnote)Reference\s[^>]*?w:id="([^"]*)"[^>]*\/>/g,
  )) {
    if (match[1] !== undefined) text += decodeXmlEntities(match[1]);
    else if (match[2] !== undefined) {
      const note = (match[2] === "footnote" ? footnotes : endnotes)?.get(match[3]!);
      if (note) text += `[${note.mark}]`;
    } else text += match[0] === "<w:tab/>" ? "\t" : "\n";
  }
  return text;
}

/** PowerPoint: one page per slide, its title placeholder as a heading. */
export function parsePptx(bytes: Uint8Array, options: ParseOptions): ParsedDocument {
  const zip = open(bytes, options, "ppt/presentation.xml", "PPTX");
  const slides = slideOrder(zip);
  const blocks: Block[] = [];
  slides.forEach((slide, index) => {
    const xml = zip.text(slide.name) ?? "";
    const page = index + 1;
    for (const shape of elements(xml, "p:sp")) {
      const isTitle = /<p:ph[^>]*type="(?:title|ctrTitle)"/.test(shape);
      for (const paragraph of elements(shape, "a:p")) {
        const text = elementTexts(paragraph, "a:t").trim();
        if (!text) continue;
        if (isTitle) blocks.push({ kind: "heading", level: 1, text, page });
        else
          blocks.push({ kind: /<a:buChar|<a:buAutoNum/.test(paragraph) ? "list" : "paragraph", text, page });
      }
    }
    for (const table of elements(xml, "a:tbl")) {
      const text = elements(table, "a:tr")
        .map((row) =>
          elements(row, "a:tc")
            .map((cell) => elementTexts(cell, "a:t").trim())
            .join(" | "),
        )
        .join("\n");
      if (text.trim()) blocks.push({ kind: "table", text, page });
    }
  });
  return { title: title(zip, "docProps/core.xml"), blocks, pageCount: slides.length };
}

/**
 * Slides in presentation order: presentation.xml's p:sldIdLst points through r:id at files named in
 * ppt/_rels/presentation.xml.rels (after reordering, slide2.xml can come first). Without those, the
 * slide files in number order.
 */
function slideOrder(zip: ZipArchive): Array<{ name: string }> {
  const targets = relationshipTargets(zip, "ppt/_rels/presentation.xml.rels", "ppt/");
  const list = /<p:sldIdLst>[\s\S]*?<\/p:sldIdLst>/.exec(zip.text("ppt/presentation.xml") ?? "")?.[0] ?? "";
  const listed = [...list.matchAll(/<p:sldId\s[^>]*>/g)].map((match) =>
    targets.get(attribute(match[0], /\sr:id="([^"]*)"/) ?? ""),
  );
  if (listed.length > 0 && listed.every((name) => name && zip.has(name)))
    return (listed as string[]).map((name) => ({ name }));
  return zip.names
    .map((name) => /^ppt\/slides\/slide(\d+)\.xml$/.exec(name))
    .filter((match): match is RegExpExecArray => match !== null)
    .sort((a, b) => Number(a[1]) - Number(b[1]))
    .map((match) => ({ name: match[0] }));
}

/** Relationship ids of a .rels part and the package paths they point at (relative to `base`). */
function relationshipTargets(zip: ZipArchive, rels: string, base: string): Map<string, string> {
  const targets = new Map<string, string>();
  for (const relationship of (zip.text(rels) ?? "").matchAll(/<Relationship\s[^>]*>/g)) {
    const id = attribute(relationship[0], /\sId="([^"]*)"/);
    const target = attribute(relationship[0], /\sTarget="([^"]*)"/);
    if (id && target) targets.set(id, partPath(base, decodeXmlEntities(target)));
  }
  return targets;
}

/** Excel: each sheet a heading and its rows as "header: value" lines. */
export function parseXlsx(bytes: Uint8Array, options: ParseOptions): ParsedDocument {
  const zip = open(bytes, options, "xl/workbook.xml", "XLSX");
  const shared = elements(zip.text("xl/sharedStrings.xml") ?? "", "si").map((item) =>
    elementTexts(item, "t"),
  );
  const blocks: Block[] = [];
  worksheets(zip).forEach((sheet, index) => {
    const xml = zip.text(sheet.path) ?? "";
    const rows = elements(xml, "row").map((row) => {
      // Excel leaves empty cells out, so each cell goes to the column of its reference (C2 -> 2).
      const cells: string[] = [];
      for (const cell of row.matchAll(/<c(\s[^>]*)?(?:\/>|>([\s\S]*?)<\/c>)/g)) {
        const attributes = cell[1] ?? "";
        const body = cell[2] ?? "";
        // Three letters at most (XFD is Excel's last column), so a bad reference cannot blow up a row.
        const reference = /\sr="([A-Z]{1,3})\d*"/.exec(attributes)?.[1];
        const column = reference ? columnIndex(reference) : cells.length;
        const value = /<v>([^<]*)<\/v>/.exec(body)?.[1];
        let text: string;
        if (/t="s"/.test(attributes) && value !== undefined) text = shared[Number(value)] ?? "";
        else if (/t="inlineStr"/.test(attributes)) text = elementTexts(body, "t");
        else text = value === undefined ? "" : decodeXmlEntities(value);
        while (cells.length < column) cells.push("");
        cells[column] = text;
      }
      return cells;
    });
    blocks.push({ kind: "heading", level: 1, text: sheet.name ?? `Sheet ${index + 1}` });
    blocks.push(...tableBlocks(rows));
  });
  return { title: title(zip, "docProps/core.xml"), blocks };
}

/** A column reference as a 0-based index: A -> 0, Z -> 25, AA -> 26. */
function columnIndex(letters: string): number {
  let index = 0;
  for (const letter of letters) index = index * 26 + (letter.charCodeAt(0) - 64);
  return index - 1;
}

/**
 * The worksheets in tab order with their names: workbook.xml lists the sheets, each pointing
 * through its r:id at a file named in xl/_rels/workbook.xml.rels (sheet2.xml can be the first tab).
 * Without those, the sheet files in number order.
 */
function worksheets(zip: ZipArchive): Array<{ name?: string; path: string }> {
  const workbook = zip.text("xl/workbook.xml")!;
  const targets = relationshipTargets(zip, "xl/_rels/workbook.xml.rels", "xl/");
  const listed = [...workbook.matchAll(/<sheet\s[^>]*>/g)].map((match) => ({
    name: decodeXmlEntities(attribute(match[0], /\sname="([^"]*)"/) ?? ""),
    path: targets.get(attribute(match[0], /\sr:id="([^"]*)"/) ?? ""),
  }));
  if (listed.length > 0 && listed.every((sheet) => sheet.path && zip.has(sheet.path)))
    return listed as Array<{ name: string; path: string }>;
  return zip.names
    .map((name) => /^xl\/worksheets\/sheet(\d+)\.xml$/.exec(name))
    .filter((match): match is RegExpExecArray => match !== null)
    .sort((a, b) => Number(a[1]) - Number(b[1]))
    .map((match, index) => ({ name: listed[index]?.name, path: match[0] }));
}

/** A relationship target as a path in the package: relative to `base`, or absolute from the root. */
function partPath(base: string, target: string): string {
  const parts = target.startsWith("/") ? [] : base.split("/").filter(Boolean);
  for (const part of target.split("/")) {
    if (part === "..") parts.pop();
    else if (part && part !== ".") parts.push(part);
  }
  return parts.join("/");
}

/** Rows of cells as table blocks of "header: value; ..." lines, the header repeated per block. */
export function tableBlocks(rows: string[][], rowsPerBlock = 20): Block[] {
  const nonEmpty = rows.filter((row) => row.some((cell) => cell.trim() !== ""));
  if (nonEmpty.length === 0) return [];
  const [header, ...body] = nonEmpty as [string[], ...string[][]];
  if (body.length === 0) return [{ kind: "table", text: header.join(" | ") }];
  const blocks: Block[] = [];
  for (let i = 0; i < body.length; i += rowsPerBlock) {
    const lines = body.slice(i, i + rowsPerBlock).map((row) =>
      row
        .map((cell, column) =>
          cell.trim() === "" ? "" : header[column] ? `${header[column]}: ${cell}` : cell,
        )
        .filter(Boolean)
        .join("; "),
    );
    blocks.push({ kind: "table", text: lines.join("\n") });
  }
  return blocks;
}

/** OpenDocument text: headings with outline levels, paragraphs, list items, tables. */
export function parseOdt(bytes: Uint8Array, options: ParseOptions): ParsedDocument {
  const zip = open(bytes, options, "content.xml", "ODT");
  const manifest = zip.text("META-INF/manifest.xml") ?? "";
  if (/<manifest:encryption-data/.test(manifest))
    throw new HearthError("DOCUMENT_ENCRYPTED", "The ODT file is password-protected");
  const xml = zip.text("content.xml")!;
  const body = /<office:text[^>]*>([\s\S]*)<\/office:text>/.exec(xml)?.[1] ?? "";
  const blocks: Block[] = [];
  const textOf = (fragment: string) =>
    decodeXmlEntities(
      fragment
        .replace(/<text:tab\/>/g, "\t")
        .replace(/<text:line-break\/>/g, "\n")
        .replace(/<text:s(?: text:c="(\d+)")?\/>/g, " ")
        .replace(/<[^>]+>/g, ""),
    ).trim();
  for (const match of body.matchAll(
    /<table:table\s[\s\S]*?<\/table:table>|<text:h\s[^>]*>[\s\S]*?<\/text:h>|<text:list-item>[\s\S]*?<\/text:list-item>|<text:p(?:\s[^>]*)?>[\s\S]*?<\/text:p>/g,
  )) {
    const element = match[0];
    if (element.startsWith("<table:table")) {
      const text = elements(element, "table:table-row")
        .map((row) =>
          [...row.matchAll(/<table:table-cell[^>]*>([\s\S]*?)<\/table:table-cell>/g)]
            .map((cell) => textOf(cell[1]!))
            .join(" | "),
        )
        .join("\n");
      if (text.trim()) blocks.push({ kind: "table", text });
    } else if (element.startsWith("<text:h")) {
      const level = Number(attribute(element, /text:outline-level="(\d+)"/) ?? 1);
      const text = textOf(element);
      if (text) blocks.push({ kind: "heading", level, text });
    } else if (element.startsWith("<text:list-item")) {
      const text = textOf(element);
      if (text) blocks.push({ kind: "list", text: `- ${text}` });
    } else {
      const text = textOf(element);
      if (text) blocks.push({ kind: "paragraph", text });
    }
  }
  const meta = zip.text("meta.xml");
  const documentTitle = meta ? elementTexts(meta, "dc:title").trim() : "";
  return { title: documentTitle || undefined, blocks };
}
