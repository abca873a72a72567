import { describe, expect, it } from "vitest";
import { SseEventOmitter } from "./sse-event-omitter.js";

const PREFIX = Buffer.from(": usage ");

const events = [
  ": queue position 1\n\n",
  'data: {"choices":[{"delta":{"content":"Hello"}}]}\n\n',
  // An answer's text that reads like the comment is not one: it is inside a JSON string.
  'data: {"choices":[{"delta":{"content":"\\n\\n: usage {} is not a comment"}}]}\n\n',
  'data: {"choices":[{"delta":{"content":": usage "}}]}\n\n',
  'data: {"choices":[{"delta":{},"finish_reason":"stop"}]}\n\n',
  ': usage {"prompt_tokens":7,"completion_tokens":5,"total_tokens":12}\n\n',
  "data: [DONE]\n\n",
];
const stream = events.join("");
const expected = events.filter((e) => !e.startsWith(": usage ")).join("");

/** The stream's (ASCII) bytes in runs ending at `cuts`, through the omitter, as a relay gives them on. */
function omitted(text: string, cuts: number[]): { out: string; passed: number } {
  const omitter = new SseEventOmitter(PREFIX);
  // Each run in a buffer of its own with bytes around it, as runs of payload come in reads.
  const bytes = Buffer.from(text);
  let out = "";
  let passed = 0;
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    const arrival = Buffer.concat([Buffer.from("5\r\n"), bytes.subarray(from, cut), Buffer.from("\r\n")]);
    const start = 3;
    const end = start + cut - from;
    if (omitter.pass(arrival, start, end)) {
      out += arrival.toString("latin1", start, end);
      passed += 1;
    } else omitter.cut(arrival, start, end, (b, s, e) => (out += b.toString("latin1", s, e)));
    from = cut;
  }
  const rest = omitter.flush();
  if (rest) out += rest.toString("latin1");
  return { out, passed };
}

describe("SseEventOmitter", () => {
  it("passes the runs without the comment whole, and leaves the comment out", () => {
    const runs = events.map((e) => Buffer.byteLength(e));
    const cuts = runs.slice(0, -1).map((_, i) => runs.slice(0, i + 1).reduce((a, b) => a + b));
    const { out, passed } = omitted(stream, cuts);
    expect(out).toBe(expected);
    // Every event but the comment went out as it came.
    expect(passed).toBe(events.length - 1);
  });

  it("leaves the comment out however the stream is split, in two or three runs", () => {
    for (let a = 1; a < stream.length; a++) {
      expect(omitted(stream, [a]).out, `cut at ${a}`).toBe(expected);
      for (let b = a + 1; b < Math.min(stream.length, a + 12); b++)
        expect(omitted(stream, [a, b]).out, `cut at ${a}, ${b}`).toBe(expected);
    }
    // In runs of one byte each.
    expect(
      omitted(
        stream,
        Array.from({ length: stream.length - 1 }, (_, i) => i + 1),
      ).out,
    ).toBe(expected);
  });

  it("gives back what it held when the stream ends inside what looked like the comment", () => {
    expect(omitted("data: 1\n\n: usa", [12]).out).toBe("data: 1\n\n: usa");
    expect(omitted("data: 1\n\n: usual\n\n", [12]).out).toBe("data: 1\n\n: usual\n\n");
  });
});
