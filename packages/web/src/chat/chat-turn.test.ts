import { describe, expect, it } from "vitest";
import { usageOrEstimate } from "./chat-turn.js";

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
});
