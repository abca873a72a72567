import { describe, expect, it } from "vitest";
import {
  CHAT_CONTROL_LIMITS,
  CHAT_CONTROL_WIRE_NAMES,
  chatControlRule,
  isChatControlValue,
} from "./chat-controls.js";

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

describe("llama.cpp's samplers among the Chat controls", () => {
  it("take top_k as a whole number from 0 (off) to 1000", () => {
    for (const value of [0, 1, 40, 1000]) expect(isChatControlValue("topK", value), `${value}`).toBe(true);
    for (const value of [-1, 40.5, 1001, Number.NaN, "40", null])
      expect(isChatControlValue("topK", value), `${value}`).toBe(false);
    expect(chatControlRule("topK")).toBe(
      "topK must be a whole number from 0 to 1000, or null for the model's own",
    );
  });

  it("take min_p from 0 (off) to 1, fractions included", () => {
    for (const value of [0, 0.05, 0.5, 1]) expect(isChatControlValue("minP", value), `${value}`).toBe(true);
    for (const value of [-0.01, 1.01, Number.POSITIVE_INFINITY, "0.1"])
      expect(isChatControlValue("minP", value), `${value}`).toBe(false);
    expect(chatControlRule("minP")).toBe("minP must be a number from 0 to 1, or null for the model's own");
  });

  it("take a repeat penalty above 0 (0 would divide by zero), up to 2", () => {
    for (const value of [0.05, 0.9, 1, 1.1, 2])
      expect(isChatControlValue("repeatPenalty", value), `${value}`).toBe(true);
    for (const value of [0, -1.1, 2.05, Number.NaN, "1.1"])
      expect(isChatControlValue("repeatPenalty", value), `${value}`).toBe(false);
    expect(CHAT_CONTROL_LIMITS.repeatPenalty).toMatchObject({ min: 0, aboveMin: true, max: 2 });
    expect(chatControlRule("repeatPenalty")).toBe(
      "repeatPenalty must be a number above 0 and at most 2, or null for the model's own",
    );
  });

  it("go to the model service, and come from Open WebUI's params, by llama.cpp's and Ollama's names", () => {
    expect([
      CHAT_CONTROL_WIRE_NAMES.topK,
      CHAT_CONTROL_WIRE_NAMES.minP,
      CHAT_CONTROL_WIRE_NAMES.repeatPenalty,
    ]).toEqual(["top_k", "min_p", "repeat_penalty"]);
  });
});
