import { describe, expect, it } from "vitest";
import { COUNTED_KEYS, keyHash, StreamedTextCounter } from "./streamed-text-counter.js";

const chatChunk = (delta: Record<string, unknown>, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: "chatcmpl-1", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`;
const textChunk = (text: string) =>
  `data: ${JSON.stringify({ id: "cmpl-1", object: "text_completion", created: 1, model: "text", choices: [{ index: 0, text, logprobs: null, finish_reason: null }] })}\n\n`;

/** Counts `stream` fed in runs of `size` bytes (0: whole). */
function count(stream: string, size = 0): number {
  return counter(stream, size).chars;
}

function counter(stream: string, size = 0): StreamedTextCounter {
  const bytes = Buffer.from(stream);
  const counter = new StreamedTextCounter();
  if (size === 0) counter.push(bytes, 0, bytes.length);
  else
    for (let at = 0; at < bytes.length; at += size)
      counter.push(bytes, at, Math.min(at + size, bytes.length));
  return counter;
}

describe("StreamedTextCounter", () => {
  const answer = ["Hello", ' "quoted"\n', " 中文", " 🙂", "\u0001"];
  const stream = [
    ": queue position 1\n\n",
    chatChunk({ role: "assistant", content: "" }),
    chatChunk({ reasoning_content: "think" }),
    ...answer.map((content) => chatChunk({ content })),
    chatChunk({
      tool_calls: [
        { index: 0, id: "call_1", type: "function", function: { name: "f", arguments: '{"a":1}' } },
      ],
    }),
    chatChunk({}, "stop"),
    ': usage {"prompt_tokens":7,"completion_tokens":9,"total_tokens":16}\n\n',
    "data: [DONE]\n\n",
  ].join("");
  // Each character as JSON.stringify leaves it: a JSON escape counts once (\n, \", \u0001).
  const expected = "think".length + answer.join("").replace("🙂", "x").length + '{"a":1}'.length;

  it("counts the answer, reasoning and tool-call arguments of chat chunks, not their framing", () => {
    expect(count(stream)).toBe(expected);
  });

  it("counts the same whatever runs the stream arrives in", () => {
    for (const size of [1, 2, 3, 5, 7, 13, 64]) expect(count(stream, size), `runs of ${size}`).toBe(expected);
  });

  it("counts the wide characters apart (Chinese, an emoji), for the token estimate", () => {
    // "中文" and "🙂" of the answer; "ü" (two bytes in UTF-8) is not wide.
    expect(counter(stream).wide).toBe(3);
    expect(counter(textChunk("über 你好"), 1).wide).toBe(2);
  });

  it("counts a text completion's text, and nothing of keys or other values that look like them", () => {
    expect(count(textChunk("def f(x):") + textChunk(" return x"))).toBe(18);
    const decoys = `data: ${JSON.stringify({ id: "content", model: "text", note: '"content":"not this"', choices: [] })}\n\n`;
    expect(count(decoys)).toBe(0);
  });

  it("starts each line afresh, whatever a line that is not JSON left open", () => {
    expect(count(`data: {"broken":"never closed\n${textChunk("four")}`)).toBe(4);
    expect(count(`data: {"content":"cut off\n\n${textChunk("four")}`)).toBe("cut off".length + 4);
  });

  it("tells the counted keys from the keys of OpenAI's chunks", () => {
    const others = [
      "id",
      "object",
      "created",
      "model",
      "choices",
      "index",
      "delta",
      "role",
      "logprobs",
      "finish_reason",
      "usage",
      "prompt_tokens",
      "completion_tokens",
      "total_tokens",
      "tool_calls",
      "type",
      "function",
      "name",
      "refusal",
      "system_fingerprint",
      "error",
      "message",
      "code",
      "hearth",
    ];
    const counted = new Set(COUNTED_KEYS.map(keyHash));
    for (const key of others) expect(counted.has(keyHash(key)), key).toBe(false);
  });
});
