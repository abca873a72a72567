/**
 * Small documents generated in tests (so they run without ../shared): OOXML and ODF containers,
 * a PDF with a real text layer, and the bad inputs of issue 4.
 */
import { strToU8, zipSync } from "fflate";

export function docx(
  paragraphs: Array<{ text: string; style?: string; outline?: number }>,
  extra: Record<string, Uint8Array> = {},
): Uint8Array {
  const body = paragraphs
    .map((p) => {
      const properties =
        (p.style ? `<w:pStyle w:val="${p.style}"/>` : "") +
        (p.outline !== undefined ? `<w:outlineLvl w:val="${p.outline}"/>` : "");
      return `<w:p>${properties ? `<w:pPr>${properties}</w:pPr>` : ""}<w:r><w:t xml:space="preserve">${escapeXml(p.text)}</w:t></w:r></w:p>`;
    })
    .join("");
  return zipSync({
    "[Content_Types].xml": strToU8(
      '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
    ),
    "word/document.xml": strToU8(
      `<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>${body}</w:body></w:document>`,
    ),
    ...extra,
  });
}

/** Slides stored as slide1.xml, slide2.xml, ...; `order` (file numbers) lists them in p:sldIdLst. */
export function pptx(slides: Array<{ title: string; bullets: string[] }>, order?: number[]): Uint8Array {
  const files: Record<string, Uint8Array> = { "ppt/presentation.xml": strToU8("<p:presentation/>") };
  if (order) {
    files["ppt/presentation.xml"] = strToU8(
      `<p:presentation xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><p:sldIdLst>${order.map((file, index) => `<p:sldId id="${256 + index}" r:id="rId${file + 1}"/>`).join("")}</p:sldIdLst></p:presentation>`,
    );
    files["ppt/_rels/presentation.xml.rels"] = strToU8(
      `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/slideMaster" Target="slideMasters/slideMaster1.xml"/>${order.map((file) => `<Relationship Id="rId${file + 1}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/slide" Target="/ppt/slides/slide${file}.xml"/>`).join("")}</Relationships>`,
    );
  }
  slides.forEach((slide, index) => {
    files[`ppt/slides/slide${index + 1}.xml`] = strToU8(
      `<p:sld><p:cSld><p:spTree><p:sp><p:nvSpPr><p:nvPr><p:ph type="title"/></p:nvPr></p:nvSpPr><p:txBody><a:p><a:r><a:t>${escapeXml(slide.title)}</a:t></a:r></a:p></p:txBody></p:sp>` +
        `<p:sp><p:txBody>${slide.bullets.map((b) => `<a:p><a:r><a:t>${escapeXml(b)}</a:t></a:r></a:p>`).join("")}</p:txBody></p:sp></p:spTree></p:cSld></p:sld>`,
    );
  });
  return zipSync(files);
}

export function xlsx(sheetName: string, rows: string[][]): Uint8Array {
  const strings = [...new Set(rows.flat())];
  const sheet = rows
    .map(
      (row, r) =>
        `<row r="${r + 1}">${row.map((cell) => `<c t="s"><v>${strings.indexOf(cell)}</v></c>`).join("")}</row>`,
    )
    .join("");
  return zipSync({
    "xl/workbook.xml": strToU8(
      `<workbook><sheets><sheet name="${escapeXml(sheetName)}" sheetId="1"/></sheets></workbook>`,
    ),
    "xl/sharedStrings.xml": strToU8(
      `<sst>${strings.map((s) => `<si><t>${escapeXml(s)}</t></si>`).join("")}</sst>`,
    ),
    "xl/worksheets/sheet1.xml": strToU8(`<worksheet><sheetData>${sheet}</sheetData></worksheet>`),
  });
}

/**
 * A workbook as Excel writes it: cells with references (empty ones left out), and sheets listed in
 * tab order in workbook.xml, each pointing through its r:id at its file (`file`: sheetN.xml).
 */
export function xlsxWorkbook(
  sheets: Array<{ name: string; file: number; cells: Record<string, string> }>,
): Uint8Array {
  const strings = [...new Set(sheets.flatMap((sheet) => Object.values(sheet.cells)))];
  const files: Record<string, Uint8Array> = {
    "xl/workbook.xml": strToU8(
      `<workbook xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>${sheets.map((sheet, index) => `<sheet name="${escapeXml(sheet.name)}" sheetId="${index + 1}" r:id="rId${sheet.file + 10}"/>`).join("")}</sheets></workbook>`,
    ),
    "xl/_rels/workbook.xml.rels": strToU8(
      `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">${sheets.map((sheet) => `<Relationship Id="rId${sheet.file + 10}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet${sheet.file}.xml"/>`).join("")}<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>`,
    ),
    "xl/sharedStrings.xml": strToU8(
      `<sst>${strings.map((s) => `<si><t>${escapeXml(s)}</t></si>`).join("")}</sst>`,
    ),
  };
  for (const sheet of sheets) {
    const rows = new Map<number, string[]>();
    for (const [reference, value] of Object.entries(sheet.cells)) {
      const row = Number(/\d+/.exec(reference)![0]);
      rows.set(row, [
        ...(rows.get(row) ?? []),
        `<c r="${reference}" t="s"><v>${strings.indexOf(value)}</v></c>`,
      ]);
    }
    const data = [...rows.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([row, cells]) => `<row r="${row}">${cells.join("")}</row>`)
      .join("");
    files[`xl/worksheets/sheet${sheet.file}.xml`] = strToU8(
      `<worksheet><sheetData>${data}</sheetData></worksheet>`,
    );
  }
  return zipSync(files);
}

export function odt(heading: string, paragraphs: string[]): Uint8Array {
  return zipSync({
    mimetype: strToU8("application/vnd.oasis.opendocument.text"),
    "content.xml": strToU8(
      `<office:document-content><office:body><office:text><text:h text:outline-level="1">${escapeXml(heading)}</text:h>${paragraphs.map((p) => `<text:p>${escapeXml(p)}</text:p>`).join("")}</office:text></office:body></office:document-content>`,
    ),
  });
}

/** A DOCX whose document.xml inflates to `size` bytes from a few KiB: a zip bomb. */
export function zipBombDocx(size: number): Uint8Array {
  const filler = new Uint8Array(size).fill(0x20);
  return zipSync({ "word/document.xml": filler, "[Content_Types].xml": strToU8("<Types/>") }, { level: 9 });
}

/**
 * A PDF with text lines (Helvetica) drawn top down, or where a line says (`x`, `y` in points from
 * the bottom left), in the order given. `scaledFont`: set as many writers do, `Tf 1` with the size
 * in the text matrix.
 */
export function pdf(
  pages: Array<Array<string | { text: string; x?: number; y: number; size?: number }>>,
  options: { encrypted?: boolean; chineseFont?: boolean; scaledFont?: boolean } = {},
): Uint8Array {
  const objects: string[] = [];
  const add = (body: string) => objects.push(body) && objects.length;
  const catalog = add("");
  const pagesId = add("");
  // chineseFont: the non-embedded STSong-Light with the predefined UniGB-UCS2-H CMap (no ToUnicode),
  // as office software writes Chinese PDFs; text is then shown as UCS-2 hex strings.
  let font: number;
  if (options.chineseFont) {
    const descriptor = add(
      "<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [0 -200 1000 900] /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>",
    );
    const cidFont = add(
      `<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light /CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 4 >> /DW 1000 /FontDescriptor ${descriptor} 0 R >>`,
    );
    font = add(
      `<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H /DescendantFonts [${cidFont} 0 R] >>`,
    );
  } else font = add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>");
  const kids: number[] = [];
  for (const lines of pages) {
    let y = 760;
    const content = lines
      .map((line) => {
        const placed = typeof line === "string" ? undefined : line;
        const raw = typeof line === "string" ? line : line.text;
        const size = placed?.size ?? (raw.startsWith("# ") ? 18 : 11);
        const text = raw.replace(/^# /, "");
        const shown = options.chineseFont
          ? `<${Buffer.from(text, "utf16le").swap16().toString("hex")}>`
          : `(${text.replace(/[\\()]/g, (c) => `\\${c}`)})`;
        const [x, at] = placed ? [placed.x ?? 72, placed.y] : [72, y];
        const op = options.scaledFont
          ? `BT /F1 1 Tf ${size} 0 0 ${size} ${x} ${at} Tm ${shown} Tj ET`
          : `BT /F1 ${size} Tf ${x} ${at} Td ${shown} Tj ET`;
        if (!placed) y -= size * 1.5;
        return op;
      })
      .join("\n");
    const stream = add(
      `<< /Length ${Buffer.byteLength(content, "latin1")} >>\nstream\n${content}\nendstream`,
    );
    kids.push(
      add(
        `<< /Type /Page /Parent ${pagesId} 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 ${font} 0 R >> >> /Contents ${stream} 0 R >>`,
      ),
    );
  }
  objects[catalog - 1] = `<< /Type /Catalog /Pages ${pagesId} 0 R >>`;
  objects[pagesId - 1] =
    `<< /Type /Pages /Kids [${kids.map((k) => `${k} 0 R`).join(" ")}] /Count ${kids.length} >>`;
  let encrypt = "";
  if (options.encrypted) {
    const id = add(`<< /Filter /Standard /V 1 /R 2 /O <${"ab".repeat(32)}> /U <${"cd".repeat(32)}> /P -4 >>`);
    encrypt = ` /Encrypt ${id} 0 R /ID [<${"01".repeat(16)}> <${"01".repeat(16)}>]`;
  }
  let out = "%PDF-1.4\n";
  const offsets: number[] = [];
  objects.forEach((body, index) => {
    offsets.push(Buffer.byteLength(out, "latin1"));
    out += `${index + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = Buffer.byteLength(out, "latin1");
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, "0")} 00000 n \n`).join("")}`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root ${catalog} 0 R${encrypt} >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, "latin1");
}

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
