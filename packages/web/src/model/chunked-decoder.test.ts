import { describe, expect, it } from "vitest";
import { ChunkedBodyError, ChunkedDecoder } from "./chunked-decoder.js";

const events = [
  'data: {"choices":[{"delta":{"content":"Hello"}}]}\n\n',
  'data: {"choices":[{"delta":{"content":" 世界"}}]}\n\n',
  "data: [DONE]\n\n",
];
const framed = (payloads: string[]) =>
  payloads.map((p) => `${Buffer.byteLength(p).toString(16)}\r\n${p}\r\n`).join("");
const body = Buffer.from(`${framed(events)}0\r\n\r\n`);

/** Feeds `bytes` in the given pieces the way a relay does: passes on whole chunks, holds the rest. */
function relayPieces(pieces: Buffer[]) {
  const decoder = new ChunkedDecoder();
  const payload: Buffer[] = [];
  const passed: Buffer[] = [];
  let unfinished: Buffer[] = [];
  let end = -1;
  for (const piece of pieces) {
    decoder.push(piece, (bytes, start, stop) => payload.push(Buffer.from(bytes.subarray(start, stop))));
    if (decoder.framedEnd > 0) {
      passed.push(...unfinished, piece.subarray(0, decoder.framedEnd));
      unfinished = [];
    }
    if (decoder.end !== -1) {
      end = decoder.end;
      break;
    }
    unfinished.push(piece.subarray(decoder.framedEnd));
  }
  return {
    payload: Buffer.concat(payload).toString(),
    passed: Buffer.concat(passed).toString(),
    end,
    decoder,
  };
}

describe("ChunkedDecoder", () => {
  it("decodes the payload and passes on whole chunks, however the bytes are split", () => {
    for (let a = 1; a < body.length; a++) {
      for (const b of [a + 1, a + 7, body.length - 1]) {
        if (b <= a || b >= body.length) continue;
        const pieces = [body.subarray(0, a), body.subarray(a, b), body.subarray(b)];
        const result = relayPieces(pieces);
        expect(result.payload).toBe(events.join(""));
        // Everything but the final chunk, byte for byte: a client reading it sees the same events.
        expect(result.passed).toBe(framed(events));
        expect(result.decoder.done).toBe(true);
        expect(result.end).toBe(body.length - b);
      }
    }
  });

  it("holds back a chunk cut off by a broken connection, so what was passed stays a valid body", () => {
    const cut = body.indexOf("世界") + 2;
    const result = relayPieces([body.subarray(0, cut)]);
    expect(result.passed).toBe(framed(events.slice(0, 1)));
    expect(result.decoder.done).toBe(false);
    expect(result.end).toBe(-1);
  });

  it("accepts chunk extensions, upper-case sizes and trailers, and says where the body ends", () => {
    const decoder = new ChunkedDecoder();
    const payload: string[] = [];
    const bytes = Buffer.from(
      "5;name=value\r\nhello\r\nA \r\n0123456789\r\n0\r\nx-trailer: 1\r\n\r\nHTTP/1.1",
    );
    decoder.push(bytes, (run, start, end) => payload.push(run.toString("utf8", start, end)));
    expect(payload.join("")).toBe("hello0123456789");
    expect(bytes.subarray(decoder.end).toString()).toBe("HTTP/1.1");
  });

  it.each([
    ["a size that is not hex", "zz\r\nhello\r\n"],
    ["data longer than its size", "2\r\nhello\r\n"],
    ["a size line without end", `1;${"x".repeat(5000)}`],
    ["a size of more digits than any answer has", "1000000000000\r\n"],
    ["a CR alone in a size line", "5\rx\n"],
    ["a size line with no size", ";ext\r\n"],
  ])("refuses %s", (_name, text) => {
    const decoder = new ChunkedDecoder();
    expect(() => decoder.push(Buffer.from(text), () => {})).toThrow(ChunkedBodyError);
  });
});
