/** Terminal columns: East Asian wide and fullwidth characters (Chinese among them) take two. */

/** Whether a code point takes two terminal columns (East Asian wide and fullwidth, emoji). */
export function isWide(codePoint: number): boolean {
  return (
    (codePoint >= 0x1100 && codePoint <= 0x115f) ||
    (codePoint >= 0x2e80 && codePoint <= 0xa4cf && codePoint !== 0x303f) ||
    (codePoint >= 0xac00 && codePoint <= 0xd7a3) ||
    (codePoint >= 0xf900 && codePoint <= 0xfaff) ||
    (codePoint >= 0xfe30 && codePoint <= 0xfe4f) ||
    (codePoint >= 0xff00 && codePoint <= 0xff60) ||
    (codePoint >= 0xffe0 && codePoint <= 0xffe6) ||
    (codePoint >= 0x1f300 && codePoint <= 0x1faff) ||
    (codePoint >= 0x20000 && codePoint <= 0x3fffd)
  );
}

/** The terminal columns a text takes. */
export function columnsOf(text: string): number {
  let columns = 0;
  for (const char of text) columns += isWide(char.codePointAt(0)!) ? 2 : 1;
  return columns;
}
