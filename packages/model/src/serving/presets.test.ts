import { describe, expect, it } from "vitest";
import { applyPreset, findPreset } from "./presets.js";

describe("the DeepSeek-R1 preset", () => {
  it("moves a conversation's system messages (its sources, its system prompt) into its first user turn", () => {
    // What a grounded turn of a conversation with a system prompt sends, a turn in.
    const { messages, settings } = applyPreset(findPreset("deepseek-r1:7b", []), {}, [
      { role: "system", content: "Sources: [1] handbook" },
      { role: "system", content: "Answer in formal Chinese." },
      { role: "user", content: "How many days?" },
      { role: "assistant", content: "25." },
      { role: "user", content: "And in March?" },
    ]);
    expect(settings).toMatchObject({ temperature: 0.6, topP: 0.95 });
    expect(messages).toEqual([
      { role: "user", content: "Sources: [1] handbook\n\nAnswer in formal Chinese.\n\nHow many days?" },
      { role: "assistant", content: "25." },
      { role: "user", content: "And in March?" },
    ]);
  });

  it("leaves the system role to other models", () => {
    const chat = [
      { role: "system" as const, content: "Answer in formal Chinese." },
      { role: "user" as const, content: "Hi" },
    ];
    expect(applyPreset(findPreset("qwen2.5:7b", []), {}, chat).messages).toEqual(chat);
  });
});
