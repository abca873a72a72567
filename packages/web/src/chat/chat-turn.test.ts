import { describe, expect, it } from "vitest";
import { textSize, usageOrEstimate } from "./chat-turn.js";

describe("usageOrEstimate", () => {
  it("keeps the usage the model reported", () => {
    expect(usageOrEstimate({ promptTokens: 12, completionTokens: 3 }, ["a".repeat(400)], "b")).toEqual({
      promptTokens: 12,
      completionTokens: 3,
    });
  });

  it("estimates every prompt message and what was sent when the model reported nothing", () => {
    const estimate = { promptTokens: 6, completionTokens: 2 }; // 22 and 6 characters
    expect(usageOrEstimate(undefined, ["You are terse.", "Hi there"], "Hello!")).toEqual(estimate);
    expect(
      usageOrEstimate({ promptTokens: 0, completionTokens: 0 }, ["You are terse.", "Hi there"], "Hello!"),
    ).toEqual(estimate);
  });

  it("counts a Chinese character as a token, not a quarter of one", () => {
    // 9 Chinese characters and marks, one emoji (a surrogate pair: one wide character), 8 ASCII.
    expect(textSize("你好，这是一个测试😀 abcdefg")).toEqual({ chars: 18, wide: 10 });
    expect(usageOrEstimate(undefined, ["请用中文回答这个问题"], "好的，答案如下")).toEqual({
      promptTokens: 10,
      completionTokens: 7,
    });
    expect(usageOrEstimate(undefined, [], { chars: 12, wide: 4 })).toEqual({
      promptTokens: 0,
      completionTokens: 6,
    });
  });
});
