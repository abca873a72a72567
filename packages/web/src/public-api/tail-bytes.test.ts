import { describe, expect, it } from "vitest";
import { TailBytes } from "./tail-bytes.js";

const bytes = (text: string) => Buffer.from(text, "utf8");

describe("TailBytes", () => {
  it("keeps a stream shorter than its size whole", () => {
    const tail = new TailBytes(16);
    tail.push(bytes("data: a\n\n"));
    tail.push(bytes("[DONE]"));
    expect(tail.text()).toBe("data: a\n\n[DONE]");
  });

  it("keeps exactly the last bytes of a long stream of small chunks", () => {
    const tail = new TailBytes(64);
    let all = "";
    for (let index = 0; index < 500; index++) {
      const chunk = `data: {"n":${index}}\n\n`;
      all += chunk;
      tail.push(bytes(chunk));
      expect(tail.text()).toBe(all.slice(-64));
    }
  });

  it("keeps the end of a chunk larger than its size, and what follows it", () => {
    const tail = new TailBytes(8);
    tail.push(bytes("0123"));
    tail.push(bytes("abcdefghijklmnop"));
    expect(tail.text()).toBe("ijklmnop");
    tail.push(bytes("XY"));
    expect(tail.text()).toBe("klmnopXY");
  });

  it("does not keep the chunks it was given", () => {
    const tail = new TailBytes(8);
    const chunk = bytes("abcd");
    tail.push(chunk);
    chunk.fill(0x2d);
    expect(tail.text()).toBe("abcd");
  });

  it("keeps a range of a chunk, as a relay hands it the payload inside a chunk's framing", () => {
    const tail = new TailBytes(8);
    tail.push(bytes("6\r\nabcdef\r\n"), 3, 9);
    tail.push(bytes("xx12345yy"), 2, 7);
    expect(tail.text()).toBe("def12345");
  });
});
