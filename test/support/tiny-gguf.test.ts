import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getLlama, LlamaCompletion, readGgufFileInfo } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tinyGgufBytes, writeTinyGguf } from "./tiny-gguf.js";

// Always one thread: node-llama-cpp's default (at least 4) over-subscribes small CI machines and makes
// generation orders of magnitude slower.
const THREADS = 1;

describe("tiny GGUF test model", () => {
  let dir: string;
  let modelPath: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "hearth-tiny-gguf-"));
    modelPath = join(dir, "tiny.gguf");
    await writeTinyGguf(modelPath, { seed: 1 });
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("is a small, deterministic GGUF v3 file", () => {
    const bytes = tinyGgufBytes({ seed: 1 });
    expect(new TextDecoder().decode(bytes.subarray(0, 4))).toBe("GGUF");
    expect(new DataView(bytes.buffer, bytes.byteOffset).getUint32(4, true)).toBe(3);
    expect(bytes.length).toBeLessThan(200 * 1024);
    expect(tinyGgufBytes({ seed: 1 })).toEqual(bytes);
    expect(tinyGgufBytes({ seed: 2 })).not.toEqual(bytes);
  });

  it("has the expected metadata, and a chat template only when asked for", async () => {
    const info = await readGgufFileInfo(modelPath, { readTensorInfo: true });
    expect(info.version).toBe(3);
    expect(info.metadata.general.architecture).toBe("llama");
    expect(info.metadata.general.name).toBe("hearth-tiny");
    expect(info.metadata.tokenizer.ggml.model).toBe("llama");
    expect(info.metadata.tokenizer.chat_template).toBeUndefined();
    expect(info.tensorInfo?.map((t) => t.name)).toContain("blk.0.ffn_down.weight");

    const template = "{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}assistant:";
    const withTemplate = join(dir, "tiny-chat.gguf");
    await writeTinyGguf(withTemplate, { chatTemplate: template });
    const chatInfo = await readGgufFileInfo(withTemplate);
    expect(chatInfo.metadata.tokenizer.chat_template).toBe(template);
  });

  it("loads in llama.cpp, tokenizes and generates deterministic text", async () => {
    const llama = await getLlama({ gpu: false, maxThreads: THREADS });
    const model = await llama.loadModel({ modelPath });
    try {
      // "hello" and "world" are single word pieces; the SentencePiece round trip must be lossless.
      const tokens = model.tokenize("hello world");
      expect(tokens.length).toBe(2);
      expect(model.detokenize(tokens)).toBe("hello world");

      const generate = async () => {
        const context = await model.createContext({ threads: THREADS, contextSize: 256 });
        try {
          const completion = new LlamaCompletion({ contextSequence: context.getSequence() });
          return await completion.generateCompletion("Once upon a time", { maxTokens: 8, temperature: 0 });
        } finally {
          await context.dispose();
        }
      };
      const first = await generate();
      const second = await generate();
      // The weights steer greedy decoding to whole-word tokens: plain lowercase words, never just EOS.
      expect(first.trim()).toMatch(/^[a-z]+( [a-z]+)*$/);
      expect(second).toBe(first);
    } finally {
      await model.dispose();
    }
  });
});
