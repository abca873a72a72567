import { describe, expect, it } from "vitest";
import type { StreamPart } from "../runtime/language-model.js";
import { splitThinking, ThinkSplitter } from "./think-splitter.js";

function run(chunks: string[], impliedOpen = false) {
  const splitter = new ThinkSplitter({ impliedOpen });
  const parts = [...chunks.flatMap((chunk) => splitter.push(chunk)), ...splitter.flush()];
  const join = (type: StreamPart["type"]) =>
    parts
      .filter((part) => part.type === type)
      .map((part) => (part as { text: string }).text)
      .join("");
  return { reasoning: join("reasoning-delta"), text: join("text-delta") };
}

describe("DeepSeek-R1 <think> splitting", () => {
  it("splits reasoning from the answer", () => {
    expect(run(["<think>\nLet me think.</think>\n\nThe answer is 4."])).toEqual({
      reasoning: "Let me think.",
      text: "The answer is 4.",
    });
  });

  it("handles tags split across tokens", () => {
    expect(run(["<", "thi", "nk>", "a b", "</", "th", "ink", ">", "\n\nc", " d"])).toEqual({
      reasoning: "a b",
      text: "c d",
    });
  });

  it("treats output as reasoning until </think> when the template opened the tag", () => {
    expect(run(["Okay, so", " 2+2.", "</think>", "\n\n4"], true)).toEqual({
      reasoning: "Okay, so 2+2.",
      text: "4",
    });
  });

  it("drops a <think> the model writes itself when the template was expected to open it", () => {
    // Older R1 GGUF templates do not open the tag, and an Ollama asked without `think` passes it on.
    expect(run(["<th", "ink>", "\nplan it", "</think>", "\n\nanswer"], true)).toEqual({
      reasoning: "plan it",
      text: "answer",
    });
    expect(run(["\n", "<think>\nplan</think>answer"], true)).toEqual({ reasoning: "plan", text: "answer" });
  });

  it("gives no reasoning for an empty think block", () => {
    expect(run(["<think>\n\n</think>\n\nHello"])).toEqual({ reasoning: "", text: "Hello" });
    expect(run(["\n\n</think>", "\n\nHello"], true)).toEqual({ reasoning: "", text: "Hello" });
  });

  it("passes text without tags through unchanged, and keeps a '<' that is not a tag", () => {
    expect(run(["Hello", " <b>world</b>"])).toEqual({ reasoning: "", text: "Hello <b>world</b>" });
    expect(run(["<", "b>bold"])).toEqual({ reasoning: "", text: "<b>bold" });
  });

  it("streams reasoning as it comes instead of holding it back", () => {
    const splitter = new ThinkSplitter();
    expect(splitter.push("<think>first")).toEqual([{ type: "reasoning-delta", text: "first" }]);
    expect(splitter.push(" second </th")).toEqual([{ type: "reasoning-delta", text: " second " }]);
    expect(splitter.push("ink>answer")).toEqual([{ type: "text-delta", text: "answer" }]);
  });

  it("leaves streams alone when the runtime already separates reasoning", async () => {
    async function* source(): AsyncGenerator<StreamPart> {
      yield { type: "reasoning-delta", text: "thinking" };
      yield { type: "text-delta", text: "answer </think> text" };
      yield { type: "finish", finishReason: "stop", usage: { promptTokens: 1, completionTokens: 2 } };
    }
    const parts: StreamPart[] = [];
    for await (const part of splitThinking(source(), true)) parts.push(part);
    expect(parts.map((part) => part.type)).toEqual(["reasoning-delta", "text-delta", "finish"]);
    expect(parts[1]).toEqual({ type: "text-delta", text: "answer </think> text" });
  });
});
