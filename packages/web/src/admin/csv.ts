import type { FastifyReply } from "fastify";

/**
 * One quoted CSV cell. Text a spreadsheet would take for a formula (starting with `=`, `+`, `-`,
 * `@`, a tab or a carriage return) gets a leading single quote, as OWASP advises against CSV
 * injection: an API key named `=HYPERLINK(...)` stays text when an admin opens the export in Excel.
 * Numbers stay numbers.
 */
export function csvCell(value: string | number | null | undefined): string {
  const text = String(value ?? "");
  const inert = typeof value === "string" && /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return `"${inert.replace(/"/g, '""')}"`;
}

/**
 * A CSV file: its header line, then a line of quoted cells (csvCell) per row. It starts with a
 * UTF-8 byte order mark, without which Excel reads the file in the system's code page (GBK on a
 * Chinese Windows: 张三 opens as 寮犱笁); other readers skip it.
 */
export function csvFile(
  header: string,
  rows: ReadonlyArray<ReadonlyArray<string | number | null | undefined>>,
): string {
  return `\uFEFF${[header, ...rows.map((row) => row.map(csvCell).join(","))].join("\n")}\n`;
}

/** Sends a report as the CSV file `fileName` (csvFile), to be saved rather than shown. */
export function sendCsv(
  reply: FastifyReply,
  fileName: string,
  header: string,
  rows: ReadonlyArray<ReadonlyArray<string | number | null | undefined>>,
): FastifyReply {
  return reply
    .header("content-disposition", `attachment; filename="${fileName}"`)
    .type("text/csv; charset=utf-8")
    .send(csvFile(header, rows));
}
