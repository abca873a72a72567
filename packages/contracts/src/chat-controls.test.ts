import { describe, expect, it } from "vitest";
import { CHAT_CONTROL_WIRE_NAMES, chatControlRule, isChatControlValue } from "./chat-controls.js";

describe("the repetition penalties among the Chat controls", () => {
  it("take numbers from -2 to 2 as OpenAI does, fractions and negatives included", () => {
    for (const name of ["frequencyPenalty", "presencePenalty"] as const) {
      for (const value of [-2, -0.5, 0, 1.25, 2])
        expect(isChatControlValue(name, value), `${value}`).toBe(true);
      for (const value of [-2.01, 2.5, Number.NaN, Number.POSITIVE_INFINITY, "1", null])
        expect(isChatControlValue(name, value), `${value}`).toBe(false);
      expect(chatControlRule(name)).toBe(
        `${name} must be a number from -2 to 2, or null for the model's own`,
      );
    }
  });

  it("go to the model service by OpenAI's names", () => {
    expect([CHAT_CONTROL_WIRE_NAMES.frequencyPenalty, CHAT_CONTROL_WIRE_NAMES.presencePenalty]).toEqual([
      "frequency_penalty",
      "presence_penalty",
    ]);
  });
});
