import { describe, expect, it } from "vitest";
import { readNewChatLink } from "./new-chat-link.js";

describe("a link to a new chat", () => {
  const offered = ["tiny-story", "deepseek-r1:7b"];

  it("reads a question, a model offered and a temporary chat, as Open WebUI's links give them", () => {
    expect(readNewChatLink("?q=What%20is%20a%20hearth%3F", offered)).toEqual({
      query: "What is a hearth?",
      temporary: false,
    });
    expect(
      readNewChatLink("?q=%E4%BD%A0%E5%A5%BD&models=deepseek-r1:7b&temporary-chat=true", offered),
    ).toEqual({
      query: "你好",
      model: "deepseek-r1:7b",
      temporary: true,
    });
    expect(readNewChatLink("?model=tiny-story", offered)).toEqual({ model: "tiny-story", temporary: false });
  });

  it("takes the first model named that is offered, and nothing from an address that asks for nothing", () => {
    expect(readNewChatLink("?models=gpt-4o,tiny-story", offered)?.model).toBe("tiny-story");
    expect(readNewChatLink("?models=gpt-4o", offered)).toBeUndefined();
    expect(readNewChatLink("?q=%20%20&temporary-chat=yes", offered)).toBeUndefined();
    expect(readNewChatLink("", offered)).toBeUndefined();
  });
});
