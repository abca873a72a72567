import { COMMON_HANZI } from "./common-hanzi.js";

/** The legacy encodings of Chinese text: GB18030 (GBK, GB2312) for simplified, Big5 for traditional. */
export type LegacyChineseEncoding = "gb18030" | "big5";

/** How many bytes past the first non-ASCII one are read (enough to be sure, and cheap). */
const SCORED_BYTES = 64 * 1024;

/**
 * The least share of common characters (COMMON_HANZI) among the ideographs and kana of a reading
 * for it to be Chinese. Measured over ideographs: real Chinese reads 71.5–79.6% common (Hearth's
 * docs/zh, the shared fixtures' Chinese documents, TypeScript's zh-CN messages in GB18030 and its
 * zh-TW ones in Big5), and at least 45% in any 100 ideographs in a row. Another encoding's bytes
 * read at most 16% as GB18030 (EUC-JP Japanese 15–16%, Big5 7–12%, EUC-KR Korean 10–12%, KOI8-R
 * Russian and windows-1252 German 10–11%, Shift_JIS and windows-1251 under 1%) and at most 28% as
 * Big5 (EUC-JP Japanese 21–28%, EUC-KR Korean 2–7%, GB18030 Chinese 4%). Kana count as not common:
 * Chinese has next to none, while EUC-JP Japanese read as GB18030 is three quarters kana (so 3.5%
 * common). EUC-KR's hangul read as hanzi in both, never as hangul, and need no such handling.
 * Judged so (with Big5's rule below), none of these texts' pieces of 50 non-ASCII characters is
 * misjudged.
 */
const MIN_COMMON_SHARE = 0.4;

interface Reading {
  encoding: LegacyChineseEncoding;
  /** Ideographs that are common Chinese characters. */
  common: number;
  /** Ideographs (CJK Unified and Extension A) and kana; the rest (ASCII, punctuation, symbols) is neutral. */
  scored: number;
  /** Of the scored characters, kana. */
  kana: number;
}

/**
 * The legacy encoding in which bytes that are not UTF-8 (and declare no charset) read as Chinese:
 * GB18030 unless Big5 reads as more common Chinese, and undefined when neither reads as Chinese
 * (another encoding: Japanese, Korean, Cyrillic, Western European). Big5 bytes are nearly always
 * valid GB18030 too, so validity cannot tell them: both readings are scored. A short text is judged
 * the same way: a few rare characters are not guessed at.
 */
export function legacyChineseEncoding(bytes: Uint8Array): LegacyChineseEncoding | undefined {
  // Bytes before the first non-ASCII one read the same in both, and it starts a character.
  const first = Math.max(
    bytes.findIndex((byte) => byte >= 0x80),
    0,
  );
  const window = bytes.subarray(first, first + SCORED_BYTES);
  const gb18030 = read(window, "gb18030");
  const big5 = read(window, "big5");
  // EUC-JP's kana lie at GB2312's kana codes, which Big5 fills with simple, often common, hanzi
  // (の as 及, は as 反): Japanese reads up to 46% common as Big5 over 100 characters. So Big5 must
  // read as more common Chinese than GB18030 reads as kana (real Big5 text: 21% kana, EUC-JP 76%).
  const big5Counts = share(big5) > gb18030.kana / (gb18030.scored || 1) && share(big5) > share(gb18030);
  const likelier = big5Counts ? big5 : gb18030;
  return share(likelier) >= MIN_COMMON_SHARE ? likelier.encoding : undefined;
}

function read(bytes: Uint8Array, encoding: LegacyChineseEncoding): Reading {
  const reading: Reading = { encoding, common: 0, scored: 0, kana: 0 };
  for (const character of new TextDecoder(encoding).decode(bytes)) {
    const code = character.charCodeAt(0);
    if ((code >= 0x4e00 && code <= 0x9fff) || (code >= 0x3400 && code <= 0x4dbf)) {
      reading.scored++;
      if (COMMON_HANZI.has(character)) reading.common++;
    } else if (code >= 0x3040 && code <= 0x30ff) {
      reading.scored++;
      reading.kana++;
    }
  }
  return reading;
}

function share(reading: Reading): number {
  return reading.scored ? reading.common / reading.scored : 0;
}
