import { describe, expect, it } from "vitest";
import {
  answerLanguage,
  chooseVoice,
  localVoices,
  parseChoices,
  speakableText,
  type VoiceLike,
} from "./read-aloud.js";

const voice = (name: string, lang: string, localService: boolean, isDefault = false): VoiceLike => ({
  name,
  lang,
  voiceURI: `uri:${name}`,
  localService,
  default: isDefault,
});

/** What Chromium lists on a desktop with Google's network voices and a few installed ones. */
const GOOGLE_EN = voice("Google US English", "en-US", false, true);
const GOOGLE_ZH = voice("Google 普通话（中国大陆）", "zh-CN", false);
const ESPEAK_EN = voice("English (America)", "en-US", true);
const ESPEAK_GB = voice("English (Great Britain)", "en-GB", true);
const TINGTING = voice("Tingting", "zh_CN", true);
const MEIJIA = voice("Meijia", "zh-TW", true);
const ALL = [GOOGLE_EN, GOOGLE_ZH, ESPEAK_GB, MEIJIA, ESPEAK_EN, TINGTING];

describe("the words read aloud of an answer", () => {
  it("leaves out reasoning, code blocks, formulas and citation markers, and reads links and images by their text", () => {
    const answer = [
      "<think>The user wants the deploy steps; keep it short.</think>",
      "## Deploying Hearth",
      "",
      "Run **hearth up** as the docs say [1][2], then open [the admin page](https://hearth.example/admin).",
      "",
      "```bash",
      "hearth up --port 8080",
      "```",
      "",
      "1. Create the *first* account.",
      "2. Set `HEARTH_PORT` — see https://hearth.example/docs.",
      "",
      "> The sum is $$\\sum_i x_i$$ or $x+1$.",
      "",
      "![Architecture diagram](/img/arch.png)",
    ].join("\n");
    expect(speakableText(answer)).toBe(
      [
        "Deploying Hearth",
        "Run hearth up as the docs say, then open the admin page.",
        "Create the first account.",
        "Set HEARTH_PORT — see",
        "The sum is or.",
        "Architecture diagram",
      ].join("\n"),
    );
  });

  it("reads a table row by row, its cells apart, without the separator line", () => {
    expect(speakableText("| 模型 | 内存 |\n|---|:---:|\n| deepseek-r1:1.5b | 32 GB |")).toBe(
      "模型, 内存\ndeepseek-r1:1.5b, 32 GB",
    );
  });

  it("keeps snake_case words and arithmetic as written, and drops HTML tags", () => {
    expect(speakableText("Set max_tokens to 2 * 3 * 4.<br>Done <b>now</b>.")).toBe(
      "Set max_tokens to 2 * 3 * 4. Done now.",
    );
  });

  it("reads nothing of an answer that is all code or reasoning", () => {
    expect(speakableText("<think>hmm</think>\n```py\nprint(1)\n```")).toBe("");
    // A code block still open (an answer stopped while writing it) is code to its end.
    expect(speakableText("Here:\n```js\nconst a = 1;")).toBe("Here:");
  });
});

describe("the language an answer is read in", () => {
  it("is Chinese for Chinese text whatever the page's language", () => {
    expect(answerLanguage("部署 Hearth 需要先安装 Node.js。", "en")).toBe("zh-CN");
    expect(answerLanguage("你好", "zh-CN")).toBe("zh-CN");
  });
  it("is the page's language otherwise, and English for an English answer on a Chinese page", () => {
    expect(answerLanguage("Install Node.js first, then run hearth up. 好", "en")).toBe("en");
    expect(answerLanguage("Install Node.js first.", "zh-CN")).toBe("en");
    expect(answerLanguage("42", "zh-CN")).toBe("zh-CN");
  });
});

describe("the voice an answer is read with", () => {
  it("never takes a network voice, even the default or the preferred one", () => {
    expect(localVoices(ALL)).not.toContain(GOOGLE_EN);
    expect(chooseVoice(ALL, "en-US")).toBe(ESPEAK_EN);
    expect(chooseVoice(ALL, "en-US", GOOGLE_EN.voiceURI)).toBe(ESPEAK_EN);
    expect(chooseVoice([GOOGLE_EN, GOOGLE_ZH], "zh-CN")).toBeUndefined();
    expect(chooseVoice([], "en")).toBeUndefined();
  });

  it("matches the answer's language, its region first (zh_CN before zh-TW)", () => {
    expect(chooseVoice(ALL, "zh-CN")).toBe(TINGTING);
    expect(chooseVoice([MEIJIA, GOOGLE_ZH], "zh-CN")).toBe(MEIJIA);
    expect(chooseVoice(ALL, "en")).toBe(ESPEAK_GB);
  });

  it("takes the preferred voice when it speaks the language, or when none does", () => {
    expect(chooseVoice(ALL, "en-US", ESPEAK_GB.voiceURI)).toBe(ESPEAK_GB);
    // An English voice preferred, a Chinese answer: a Chinese voice reads it.
    expect(chooseVoice(ALL, "zh-CN", ESPEAK_GB.voiceURI)).toBe(TINGTING);
    // No local voice speaks French: the preferred one, else the default local, else the first.
    expect(chooseVoice(ALL, "fr-FR", TINGTING.voiceURI)).toBe(TINGTING);
    expect(chooseVoice(ALL, "fr-FR")).toBe(ESPEAK_GB);
  });
});

describe("the reader's choices on this device", () => {
  it("reads what was stored, the rate within its range, and the defaults for anything else", () => {
    expect(parseChoices(JSON.stringify({ voiceURI: "uri:Tingting", rate: 1.5 }))).toEqual({
      voiceURI: "uri:Tingting",
      rate: 1.5,
    });
    expect(parseChoices(JSON.stringify({ rate: 9 }))).toEqual({ voiceURI: null, rate: 2 });
    expect(parseChoices("{not json")).toEqual({ voiceURI: null, rate: 1 });
    expect(parseChoices(null)).toEqual({ voiceURI: null, rate: 1 });
  });
});
