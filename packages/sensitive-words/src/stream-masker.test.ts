import { describe, expect, it } from "vitest";
import { createSensitiveWordFilter, type FilterAction } from "./sensitive-word-filter.js";
import { StreamMasker } from "./stream-masker.js";

function streamed(
  words: string[],
  pieces: string[],
  action: FilterAction = "mask",
  onHits?: (list: string, action: FilterAction, count: number) => void,
): { out: string[]; text: string } {
  const filter = createSensitiveWordFilter({
    lists: [{ id: "words", action, words }],
    reloadIntervalMs: 0,
    ...(onHits ? { onHits } : {}),
  });
  const masker = new StreamMasker(filter, { maskActions: ["block", "drop", "mask"] });
  const out = pieces.map((piece) => masker.push(piece));
  out.push(masker.flush());
  return { out, text: out.join("") };
}

describe("stream masker", () => {
  it("masks a word split across pieces, as a model streams it", () => {
    const { text } = streamed(
      ["forbidden", "model"],
      ["Hello", " from", " the", " mo", "del", ".", " You said: hi"],
    );
    expect(text).toBe("Hello from the *****. You said: hi");
  });

  it("masks a word spread over pieces with separators, full-width and traditional forms", () => {
    expect(streamed(["敏感词"], ["这是", "敏", " 感", ".", "詞", "吗"]).text).toBe("这是* ***吗");
    expect(streamed(["badword"], ["a ", "ＢＡＤ", "－ｗｏ", "rd!"]).text).toBe("a ********!");
  });

  it("hands text out as soon as no word can still be in progress", () => {
    const { out } = streamed(["model"], ["The answer is", " long", " enough."]);
    // "model" has five letters: the last four letters ("eris") and the Latin word "is" wait.
    expect(out[0]).toBe("The answ");
    expect(out.join("")).toBe("The answer is long enough.");
  });

  it("keeps Latin word boundaries across pieces", () => {
    expect(streamed(["ass"], ["a cl", "ass on gr", "ass"]).text).toBe("a class on grass");
    expect(streamed(["ass"], ["you ", "ass", "et"]).text).toBe("you asset");
    expect(streamed(["ass"], ["you ", "ass", "!"]).text).toBe("you ***!");
  });

  it("leaves block-only words alone unless asked to mask them, and never splits a surrogate pair", () => {
    const filter = createSensitiveWordFilter({
      lists: [{ id: "x", action: "block", words: ["炸药"] }],
      reloadIntervalMs: 0,
    });
    const masker = new StreamMasker(filter);
    expect(masker.push("炸药") + masker.flush()).toBe("炸药");
    const emoji = "😀";
    const pieces = streamed(["炸药"], [`a${emoji[0]}`, `${emoji[1]}炸`, "药"]).out;
    for (const piece of pieces) expect(piece).not.toMatch(/[\ud800-\udbff]$/);
    expect(pieces.join("")).toBe(`a${emoji}**`);
  });

  it("does not hold back a long run of separators for ever, and still masks a word split across pieces", () => {
    const filter = createSensitiveWordFilter({
      lists: [{ id: "w", action: "mask", words: ["敏感词"] }],
      reloadIntervalMs: 0,
    });
    const masker = new StreamMasker(filter, { maxHeldChars: 100 });
    const out = [masker.push("敏"), masker.push("。".repeat(500)), masker.push("感词")];
    expect(out[1]!.length).toBeGreaterThan(300);
    expect(out.join("") + masker.flush()).toBe(`敏${"。".repeat(500)}感词`);
    const near = new StreamMasker(filter, { maxHeldChars: 100 });
    expect(near.push("敏") + near.push("。".repeat(50)) + near.push("感词") + near.flush()).toBe(
      `*${"*".repeat(50)}**`,
    );
  });

  it("counts each hit once however many pieces it took", () => {
    const counts: number[] = [];
    streamed(["model"], ["mo", "d", "el and mod", "el ", "x"], "mask", (_list, _action, count) =>
      counts.push(count),
    );
    expect(counts.reduce((a, b) => a + b, 0)).toBe(2);
  });
});
