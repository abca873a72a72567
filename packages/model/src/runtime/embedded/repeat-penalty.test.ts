import { describe, expect, it } from "vitest";
import { ollamaSettings } from "../../http/ollama-settings.js";
import { repeatPenaltyOf } from "./embedded-runtime.js";

describe("repeat penalties on the embedded runtime", () => {
  it("hands OpenAI's frequency_penalty and presence_penalty to node-llama-cpp's sampler, negatives too", () => {
    expect(repeatPenaltyOf({ frequencyPenalty: 0.8, presencePenalty: -1.5 })).toEqual({
      penalty: undefined,
      frequencyPenalty: 0.8,
      presencePenalty: -1.5,
    });
    expect(repeatPenaltyOf({ presencePenalty: 2 })).toMatchObject({ presencePenalty: 2 });
  });

  it("asks for no repeat penalty when none is set, or only penalties of 0 (the library's own)", () => {
    expect(repeatPenaltyOf({})).toBeUndefined();
    expect(repeatPenaltyOf({ frequencyPenalty: 0, presencePenalty: 0 })).toBeUndefined();
  });

  it("takes Ollama's repeat_penalty, frequency_penalty and presence_penalty options through to it", () => {
    const settings = ollamaSettings(
      { repeat_penalty: 1.2, frequency_penalty: 0.5, presence_penalty: 0.25 },
      {},
    );
    expect(repeatPenaltyOf(settings)).toEqual({ penalty: 1.2, frequencyPenalty: 0.5, presencePenalty: 0.25 });
  });
});
