/**
 * What a diagram is read by: its `accTitle` when it gives one, else its first statement, which says
 * its kind ("flowchart LR", "sequenceDiagram"): the first line, up to a `;` (a one-line diagram,
 * `graph LR; X-->Y;`, is named "graph LR"); front matter and `%%` comments and directives are skipped.
 */
export function diagramName(source: string): string {
  const title = /^\s*accTitle\s*:\s*(.+)$/m.exec(source)?.[1];
  if (title) return title.trim().slice(0, 100);
  const lines = source.split("\n");
  let at = 0;
  if (lines[0]?.trim() === "---") {
    const end = lines.findIndex((line, index) => index > 0 && line.trim() === "---");
    at = end === -1 ? lines.length : end + 1;
  }
  const first = lines.slice(at).find((line) => line.trim() !== "" && !line.trim().startsWith("%%"));
  return (first ?? "").split(";")[0]!.trim().slice(0, 100);
}
