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
