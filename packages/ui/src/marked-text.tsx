/** A stretch of a text, as [start, end) offsets into it. */
export interface TextRange {
  start: number;
  end: number;
}

/**
 * A text with some of its stretches marked (`<mark>`): what a retrieval test's question or a find
 * box found in a passage. The ranges are in order and do not overlap.
 */
export function MarkedText({ text, ranges }: { text: string; ranges: readonly TextRange[] }) {
  const parts = [];
  let at = 0;
  for (const { start, end } of ranges) {
    parts.push(text.slice(at, start), <mark key={start}>{text.slice(start, end)}</mark>);
    at = end;
  }
  parts.push(text.slice(at));
  return <>{parts}</>;
}
