/**
 * Read aloud: an answer spoken by the browser's own speech synthesis, with voices that run on this
 * machine only. Chromium also lists network voices ("Google US English", localService false) that
 * send the text to Google: they are never offered nor used, so nothing of an answer leaves the
 * machine. What is spoken is the answer's text without its reasoning, code and citation markers.
 */

/** What Hearth reads of a voice (SpeechSynthesisVoice; a stand-in in the tests). */
export interface VoiceLike {
  name: string;
  lang: string;
  voiceURI: string;
  localService: boolean;
  default: boolean;
}

/** The reader's choices on this device (Settings → Read aloud), kept in this browser's localStorage. */
export interface ReadAloudChoices {
  /** The voice they prefer (its voiceURI); null: the one that fits the answer's language. */
  voiceURI: string | null;
  /** 0.5 to 2; 1 is the voice's own pace. */
  rate: number;
}

export const READ_ALOUD_KEY = "hearth.readAloud";
export const RATE_MIN = 0.5;
export const RATE_MAX = 2;
const DEFAULT_CHOICES: ReadAloudChoices = { voiceURI: null, rate: 1 };

/** The reader's choices as stored, or the defaults (a damaged or foreign value is ignored). */
export function parseChoices(stored: string | null): ReadAloudChoices {
  if (!stored) return { ...DEFAULT_CHOICES };
  try {
    const value = JSON.parse(stored) as Partial<ReadAloudChoices>;
    const rate = typeof value.rate === "number" && Number.isFinite(value.rate) ? value.rate : 1;
    return {
      voiceURI: typeof value.voiceURI === "string" && value.voiceURI ? value.voiceURI : null,
      rate: Math.min(RATE_MAX, Math.max(RATE_MIN, rate)),
    };
  } catch {
    return { ...DEFAULT_CHOICES };
  }
}

/** Only the voices that run on this machine: a network voice would send the text away. */
export function localVoices<Voice extends VoiceLike>(voices: readonly Voice[]): Voice[] {
  return voices.filter((voice) => voice.localService === true);
}

/** A BCP 47 tag compared without regard to case or "_" for "-" (Android says zh_CN). */
function tag(lang: string): string {
  return lang.replace(/_/g, "-").toLowerCase();
}
function primary(lang: string): string {
  return tag(lang).split("-")[0]!;
}

/**
 * The language an answer is read in: Chinese when Chinese characters carry it (each one counted
 * against a Latin word, as each is about a word), else the page's language; an answer with no
 * Chinese at all on a Chinese page is read as English, which a Chinese voice would spell out.
 */
export function answerLanguage(text: string, pageLanguage: string): string {
  const han = text.match(/\p{Script=Han}/gu)?.length ?? 0;
  const latinWords = text.match(/\p{Script=Latin}+/gu)?.length ?? 0;
  if (han > 0 && han >= latinWords) return "zh-CN";
  if (primary(pageLanguage) === "zh" && han === 0 && latinWords > 0) return "en";
  return pageLanguage;
}

/**
 * The voice to read in `lang`, among the local voices only: the preferred one when it speaks that
 * language (or none does); else one that speaks it, the same region first (zh-CN before zh-TW),
 * then the system's default; else the preferred or the default local voice. Undefined when this
 * machine has no local voice.
 */
export function chooseVoice<Voice extends VoiceLike>(
  voices: readonly Voice[],
  lang: string,
  preferredURI: string | null = null,
): Voice | undefined {
  const local = localVoices(voices);
  if (local.length === 0) return undefined;
  const preferred = preferredURI ? local.find((voice) => voice.voiceURI === preferredURI) : undefined;
  const speaking = local.filter((voice) => primary(voice.lang) === primary(lang));
  if (preferred && (speaking.length === 0 || speaking.includes(preferred))) return preferred;
  if (speaking.length > 0) {
    const rank = (voice: Voice) => (tag(voice.lang) === tag(lang) ? 0 : 2) + (voice.default ? 0 : 1);
    return [...speaking].sort((a, b) => rank(a) - rank(b))[0];
  }
  return preferred ?? local.find((voice) => voice.default) ?? local[0];
}

/** Fenced code blocks (one still open at the end too). */
const FENCED_CODE = /^[ \t]{0,3}(`{3,}|~{3,})[^\n]*\n[\s\S]*?(?:^[ \t]{0,3}\1[ \t]*$|(?![\s\S]))/gm;

/**
 * An answer's Markdown as the words to speak: no reasoning (`<think>` left in the text), no code
 * blocks, formulas, citation markers ([1]), addresses or HTML; links and images as their text;
 * headings, lists, quotes and tables without their marks; emphasis as plain words. Paragraphs and
 * list items stay on lines of their own (a voice pauses between them).
 */
export function speakableText(markdown: string): string {
  const text = markdown
    .replace(/<think>[\s\S]*?(?:<\/think>|$)/gi, "\n")
    .replace(FENCED_CODE, "\n")
    .replace(/\$\$[\s\S]*?\$\$|\\\[[\s\S]*?\\\]/g, " ")
    .replace(/\\\([\s\S]*?\\\)|(?<![\\$\w])\$(?!\s)[^$\n]+?(?<!\s)\$(?![\w$])/g, " ")
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/\[\^?\d{1,3}\](?!\()/g, "")
    .replace(/\[([^\]]+)\]\((?:[^()\s]|\([^()]*\))*(?:\s+"[^"]*")?\)/g, "$1")
    .replace(/<\/?[a-zA-Z][^>]*>/g, " ")
    .replace(/`+([^`\n]+?)`+/g, "$1")
    .replace(/<?https?:\/\/[^\s>]+>?/g, "")
    .replace(/^[ \t]{0,3}#{1,6}[ \t]+(.*?)[ \t#]*$/gm, "$1")
    .replace(/^[ \t]{0,3}(?:>[ \t]?)+/gm, "")
    .replace(/^[ \t]*\|?[ \t]*:?-{3,}:?[ \t]*(?:\|[ \t]*:?-{3,}:?[ \t]*)*\|?[ \t]*$/gm, "")
    .replace(/^[ \t]{0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/gm, "")
    .replace(/^[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]+(?:\[[ xX]\][ \t]+)?/gm, "")
    .replace(/^[ \t]*\|(.*?)\|?[ \t]*$/gm, "$1")
    .replace(/[ \t]*\|[ \t]*/g, ", ")
    .replace(/(\*\*|__|~~)(?=\S)([\s\S]*?\S)\1/g, "$2")
    .replace(/(?<![\w*])\*(?=\S)([^*\n]*?\S)\*(?![\w*])/g, "$1")
    .replace(/(?<![\w_])_(?=\S)([^_\n]*?\S)_(?![\w_])/g, "$1")
    .replace(/\\([\\`*_{}[\]()#+\-.!|>~$])/g, "$1");
  return (
    text
      .split("\n")
      // What was taken out leaves no space before the punctuation after it ("say [1]," → "say,").
      .map((line) =>
        line
          .replace(/[ \t\u00a0]+/g, " ")
          .replace(/ ([,.;:!?，。；：！？、])/g, "$1")
          .trim(),
      )
      .filter((line) => line.length > 0)
      .join("\n")
  );
}
