/**
 * What the OpenAI and Ollama APIs refuse or honour in a request's inputs, as real clients send them:
 * empty texts to embed, token ids from another tokenizer, images and audio, lists of prompts,
 * `logit_bias`, the repetition penalties, and llama.cpp's samplers beside OpenAI's (top_k, min_p,
 * repeat_penalty).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readGgufFileInfo } from "node-llama-cpp";
import { Ollama } from "ollama";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeTinyGguf } from "../../../test/support/tiny-gguf.js";
import { startReplayServer } from "./replay-server.js";
import { startModelService } from "./start-model-service.js";

let dir: string;
let replayOllama: Awaited<ReturnType<typeof startReplayServer>>;
let replayVllm: Awaited<ReturnType<typeof startReplayServer>>;
let service: { url: string; close(): Promise<void> };
/** The tiny model's vocabulary: token id to piece ("▁hello"). */
let pieces: string[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "hearth-model-inputs-"));
  await writeTinyGguf(join(dir, "tiny.gguf"));
  const info = await readGgufFileInfo(join(dir, "tiny.gguf"));
  pieces = [...info.metadata.tokenizer.ggml.tokens];
  replayOllama = await startReplayServer("ollama.json");
  replayVllm = await startReplayServer("vllm.json");
  service = await startModelService(dir, {
    ollamaHost: replayOllama.url,
    upstreams: [{ name: "vllm", baseUrl: `${replayVllm.url}/v1` }],
    cache: { enabled: false },
  });
});

afterAll(async () => {
  await service?.close();
  await replayOllama?.close();
  await replayVllm?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** What the routes answer, loosely: an OpenAI error object or an Ollama error string, or a result. */
interface Answer {
  error: { code: string; message: string; type: string; param: string | null } & string;
  data: Array<{ embedding: number[] }>;
  choices: Array<{ text: string }>;
}

const post = async (path: string, body: unknown) => {
  const response = await fetch(`${service.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Answer };
};

describe("empty inputs to embed", () => {
  it("are refused with 400 EMBEDDING_INPUT_EMPTY naming the input, in each API's format", async () => {
    const mixed = await post("/v1/embeddings", { model: "tiny", input: ["ok", ""] });
    expect(mixed.status).toBe(400);
    expect(mixed.body.error).toMatchObject({ code: "EMBEDDING_INPUT_EMPTY", type: "invalid_request_error" });
    expect(mixed.body.error.message).toMatch(/input 1 .*is empty/);

    const single = await post("/v1/embeddings", { model: "tiny", input: "" });
    expect(single.status).toBe(400);
    expect(single.body.error.code).toBe("EMBEDDING_INPUT_EMPTY");

    const ollama = await post("/api/embed", { model: "tiny", input: ["ok", "fine", ""] });
    expect(ollama.status).toBe(400);
    expect(ollama.body.error).toMatch(/input 2 .*is empty/);
    expect((await post("/api/embed", { model: "tiny", input: "" })).status).toBe(400);

    // The official clients see the refusal as an error, not as vectors of mixed lengths.
    const openai = new OpenAI({ baseURL: `${service.url}/v1`, apiKey: "unused", maxRetries: 0 });
    await expect(openai.embeddings.create({ model: "tiny", input: ["ok", ""] })).rejects.toMatchObject({
      status: 400,
      code: "EMBEDDING_INPUT_EMPTY",
    });
    await expect(
      new Ollama({ host: service.url }).embed({ model: "tiny", input: ["ok", ""] }),
    ).rejects.toThrow(/input 1/);
  });

  it("still embeds whitespace and other texts, every vector of the model's length", async () => {
    const answer = await post("/v1/embeddings", { model: "tiny", input: ["ok", " ", "the cat"] });
    expect(answer.status).toBe(200);
    expect(answer.body.data.map((item) => item.embedding.length)).toEqual([16, 16, 16]);
    // Ollama's legacy route: an empty prompt loads the model and answers no vector, as Ollama does.
    expect(await post("/api/embeddings", { model: "tiny", prompt: "" })).toEqual({
      status: 200,
      body: { embedding: [] },
    });
  });
});

describe("an empty user message", () => {
  /** The prompt's tokens of a one-message chat, as each API reports them. */
  const openAiPromptTokens = async (message: Record<string, unknown>) => {
    const answer = await post("/v1/chat/completions", {
      model: "tiny",
      messages: [message],
      max_tokens: 2,
      temperature: 0,
    });
    expect(answer.status).toBe(200);
    return (answer.body as unknown as { usage: { prompt_tokens: number } }).usage.prompt_tokens;
  };
  const ollamaPromptTokens = async (message: Record<string, unknown>) => {
    const answer = await post("/api/chat", {
      model: "tiny",
      messages: [message],
      stream: false,
      options: { num_predict: 2, temperature: 0 },
    });
    expect(answer.status).toBe(200);
    return (answer.body as unknown as { prompt_eval_count: number }).prompt_eval_count;
  };

  it("is templated as a user turn like any other, as Ollama templates it, on both APIs (was BOS alone)", async () => {
    const empty = await openAiPromptTokens({ role: "user", content: "" });
    // The turn's markers around no text: more than the BOS token alone, fewer than with words in them.
    expect(empty).toBeGreaterThan(1);
    expect(empty).toBeLessThan(await openAiPromptTokens({ role: "user", content: "hello there" }));
    // Ollama takes content left out, or null, as "".
    for (const message of [{ role: "user", content: "" }, { role: "user" }, { role: "user", content: null }])
      expect(await ollamaPromptTokens(message), JSON.stringify(message)).toBe(empty);
  });

  it("without content is refused on /v1 with 400 INVALID_REQUEST naming the field, as OpenAI refuses it", async () => {
    for (const message of [{ role: "user", content: null }, { role: "user" }]) {
      const answer = await post("/v1/chat/completions", {
        model: "tiny",
        messages: [{ role: "system", content: "Be brief." }, message],
        max_tokens: 2,
      });
      expect(answer.status, JSON.stringify(message)).toBe(400);
      expect(answer.body.error).toMatchObject({ code: "INVALID_REQUEST", param: "messages[1].content" });
    }
  });
});

describe("token ids as input", () => {
  it("are refused with 400 TOKEN_INPUT_NOT_SUPPORTED saying to send text", async () => {
    for (const input of [
      [1, 2, 3],
      [
        [1, 2, 3],
        [4, 5],
      ],
    ]) {
      const answer = await post("/v1/embeddings", { model: "tiny", input });
      expect(answer.status).toBe(400);
      expect(answer.body.error.code).toBe("TOKEN_INPUT_NOT_SUPPORTED");
      expect(answer.body.error.message).toMatch(/token ids.*Send the text.*check_embedding_ctx_length=False/);
    }
    for (const prompt of [[1, 2, 3], [[1, 2, 3]]]) {
      const answer = await post("/v1/completions", { model: "tiny", prompt });
      expect(answer.status).toBe(400);
      expect(answer.body.error.code).toBe("TOKEN_INPUT_NOT_SUPPORTED");
    }
  });
});

describe("images and audio", () => {
  it("are refused with 400 MEDIA_INPUT_NOT_SUPPORTED, not answered as if the model had seen them", async () => {
    const image = { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } };
    const audio = { type: "input_audio", input_audio: { data: "UklGRg==", format: "wav" } };
    for (const [part, kind] of [
      [image, "images"],
      [audio, "audio"],
    ] as const) {
      const answer = await post("/v1/chat/completions", {
        model: "tiny",
        messages: [{ role: "user", content: [{ type: "text", text: "what is this?" }, part] }],
      });
      expect(answer.status).toBe(400);
      expect(answer.body.error).toMatchObject({
        code: "MEDIA_INPUT_NOT_SUPPORTED",
        type: "invalid_request_error",
        param: "messages[0].content[1]",
      });
      expect(answer.body.error.message).toContain(`messages[0].content[1] (${part.type})`);
      expect(answer.body.error.message).toContain(`does not take ${kind}`);
    }
    // Ollama's images, on a chat message or a generate request.
    const chat = await post("/api/chat", {
      model: "tiny",
      messages: [{ role: "user", content: "what is this?", images: ["iVBORw0KGgo="] }],
      stream: false,
    });
    expect(chat.status).toBe(400);
    expect(chat.body.error).toMatch(/^messages\[0\]\.images: the model does not take images/);
    const generate = await post("/api/generate", {
      model: "tiny",
      prompt: "what is this?",
      images: ["iVBORw0KGgo="],
      stream: false,
    });
    expect(generate.status).toBe(400);
    expect(generate.body.error).toMatch(/^images: the model does not take images/);
    // No image at all is no image.
    const none = await post("/api/chat", {
      model: "tiny",
      messages: [{ role: "user", content: "hello", images: [] }],
      stream: false,
      options: { num_predict: 1 },
    });
    expect(none.status).toBe(200);
  });
});

describe("a list of prompts", () => {
  it("is answered with one choice per prompt, in order, as OpenAI answers it", async () => {
    const openai = new OpenAI({ baseURL: `${service.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const settings = { model: "tiny", temperature: 0, max_tokens: 3 };
    const one = await openai.completions.create({ ...settings, prompt: "hello" });
    const other = await openai.completions.create({ ...settings, prompt: "the dog" });
    const both = await openai.completions.create({ ...settings, prompt: ["hello", "the dog"] });
    expect(both.choices.map((choice) => [choice.index, choice.text])).toEqual([
      [0, one.choices[0]!.text],
      [1, other.choices[0]!.text],
    ]);
    expect(both.usage?.completion_tokens).toBe(one.usage!.completion_tokens + other.usage!.completion_tokens);
    const streamed = await post("/v1/completions", { ...settings, prompt: ["a", "b"], stream: true });
    expect(streamed.status).toBe(400);
    expect(streamed.body.error.message).toMatch(/stream one prompt at a time/);
  });
});

describe("logit_bias", () => {
  const firstToken = async (body: Record<string, unknown>) => {
    const answer = await post("/v1/completions", {
      model: "tiny",
      prompt: "once upon a",
      temperature: 0,
      max_tokens: 1,
      ...body,
    });
    expect(answer.status).toBe(200);
    return answer.body.choices[0]!.text;
  };
  // The model says whole words, each one "▁word" token (the first one's space is not shown).
  const idOf = (text: string) => pieces.indexOf(`\u2581${text.trim()}`);

  it("is applied on the embedded runtime: -100 bans the first token, 100 forces another", async () => {
    const first = await firstToken({});
    const id = idOf(first);
    expect(id).toBeGreaterThan(2);
    const banned = await firstToken({ logit_bias: { [id]: -100 } });
    expect(banned).not.toBe(first);
    const forcedId =
      pieces.indexOf("\u2581happy") === id ? pieces.indexOf("\u2581girl") : pieces.indexOf("\u2581happy");
    const forced = await firstToken({ logit_bias: { [forcedId]: 100 } });
    expect(idOf(forced)).toBe(forcedId);
    // Through a chat too, with the official client.
    const openai = new OpenAI({ baseURL: `${service.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const chat = await openai.chat.completions.create({
      model: "tiny",
      messages: [{ role: "user", content: "hello" }],
      temperature: 0,
      max_tokens: 4,
      logit_bias: { [forcedId]: 100 },
    });
    expect(chat.choices[0]!.message.content).toContain(pieces[forcedId]!.replace("\u2581", ""));
  });

  it("is refused when it is not a map of token ids to biases from -100 to 100, or names no token of the model", async () => {
    for (const [logit_bias, pattern] of [
      [{ abc: 5 }, /"abc" is not a token id/],
      [{ "5": 500 }, /between -100 and 100/],
      [{ "5": -101 }, /between -100 and 100/],
      [{ "99999": 5 }, /not a token id of "tiny:latest"/],
    ] as const) {
      const answer = await post("/v1/chat/completions", {
        model: "tiny",
        messages: [{ role: "user", content: "hello" }],
        max_tokens: 2,
        logit_bias,
      });
      expect(answer.status, JSON.stringify(logit_bias)).toBe(400);
      expect(answer.body.error.code).toBe("INVALID_REQUEST");
      expect(answer.body.error.message).toMatch(pattern);
      // The field refused is named in `param` (the key too, where the schema refused it).
      expect(answer.body.error.param).toMatch(/^logit_bias/);
    }
    // node-llama-cpp does not bias end-of-generation tokens: refused rather than ignored.
    const endOfText = await post("/v1/completions", {
      model: "tiny",
      prompt: "once upon a",
      logit_bias: { [pieces.indexOf("</s>")]: -100 },
    });
    expect(endOfText.status).toBe(400);
    expect(endOfText.body.error).toMatchObject({ code: "PARAMETER_NOT_SUPPORTED", param: "logit_bias" });
  });

  it("is passed on to an OpenAI-compatible upstream, and refused for an upstream Ollama", async () => {
    const openai = new OpenAI({ baseURL: `${service.url}/v1`, apiKey: "unused", maxRetries: 0 });
    await openai.chat.completions.create({
      model: "vllm/meta-llama/Llama-3.2-1B-Instruct",
      messages: [{ role: "user", content: "Why is the sky blue?" }],
      logit_bias: { "1234": -100 },
    });
    expect(replayVllm.requests.at(-1)).toMatchObject({ logit_bias: { "1234": -100 } });

    const before = replayOllama.requests.length;
    const refused = await post("/v1/chat/completions", {
      model: "llama3.2",
      messages: [{ role: "user", content: "Why is the sky blue?" }],
      logit_bias: { "1234": -100 },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe("PARAMETER_NOT_SUPPORTED");
    expect(refused.body.error.message).toMatch(/logit_bias.*Ollama/);
    expect(replayOllama.requests.length).toBe(before);
  });
});

describe("frequency_penalty and presence_penalty", () => {
  const greedy = async (body: Record<string, unknown>) => {
    const answer = await post("/v1/completions", {
      model: "tiny",
      prompt: "once upon a",
      temperature: 0,
      max_tokens: 24,
      ...body,
    });
    expect(answer.status).toBe(200);
    return answer.body.choices[0]!.text;
  };
  const words = (text: string) => text.trim().split(/\s+/);

  it("are applied on the embedded runtime: a greedy answer that repeats its words repeats them less", async () => {
    const plain = await greedy({});
    // The tiny model, drawing greedily, says some words again: the penalties have something to change.
    expect(new Set(words(plain)).size).toBeLessThan(words(plain).length);
    for (const penalty of [{ frequency_penalty: 2 }, { presence_penalty: 2 }]) {
      const penalised = await greedy(penalty);
      expect(penalised, JSON.stringify(penalty)).not.toBe(plain);
      expect(new Set(words(penalised)).size, penalised).toBeGreaterThan(new Set(words(plain)).size);
    }
  });
});

describe("top_k, min_p and repeat_penalty (llama.cpp's and vLLM's extensions of OpenAI's API)", () => {
  const complete = async (body: Record<string, unknown>) => {
    const answer = await post("/v1/completions", {
      model: "tiny",
      prompt: "once upon a",
      max_tokens: 24,
      ...body,
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    return answer.body.choices[0]!.text;
  };
  const words = (text: string) => text.trim().split(/\s+/);

  it("are applied on the embedded runtime: top_k 1 or min_p 1 draws as greedily as temperature 0", async () => {
    const greedy = await complete({ temperature: 0 });
    // Hot enough that the tiny model, seeded, strays from its likeliest words...
    const hot = { temperature: 2, seed: 11 };
    expect(await complete(hot)).not.toBe(greedy);
    // ...unless only the likeliest token is left to draw from.
    expect(await complete({ ...hot, top_k: 1 })).toBe(greedy);
    expect(await complete({ ...hot, min_p: 1 })).toBe(greedy);
    // 0 turns them off: the answer strays again.
    expect(await complete({ ...hot, top_k: 0, min_p: 0 })).not.toBe(greedy);
  });

  it("apply repeat_penalty on the embedded runtime: a greedy answer that repeats its words repeats them less", async () => {
    const plain = await complete({ temperature: 0 });
    expect(new Set(words(plain)).size).toBeLessThan(words(plain).length);
    const penalised = await complete({ temperature: 0, repeat_penalty: 2 });
    expect(new Set(words(penalised)).size, penalised).toBeGreaterThan(new Set(words(plain)).size);
    // 1 is off.
    expect(await complete({ temperature: 0, repeat_penalty: 1 })).toBe(plain);
  });

  it("are taken from the official client as extra body params, on chats too", async () => {
    const openai = new OpenAI({ baseURL: `${service.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const ask = async (samplers: Record<string, number>) => {
      // The client sends fields it has no type for as they are, as its README says for such params.
      const body = { model: "tiny", messages: [{ role: "user" as const, content: "hello" }], max_tokens: 12 };
      const chat = await openai.chat.completions.create({ ...body, ...samplers });
      return chat.choices[0]!.message.content;
    };
    const greedy = await ask({ temperature: 0 });
    expect(await ask({ temperature: 2, seed: 5 })).not.toBe(greedy);
    expect(await ask({ temperature: 2, seed: 5, top_k: 1 })).toBe(greedy);
    await expect(ask({ temperature: 0, min_p: 2 })).rejects.toMatchObject({
      status: 400,
      code: "INVALID_REQUEST",
      message: expect.stringContaining("min_p must be a number from 0 to 1"),
    });
  });

  it("are refused out of range with 400 INVALID_REQUEST naming the field and its range", async () => {
    const topK = "top_k: top_k must be a whole number, 0 or more (0: off)";
    const minP = "min_p: min_p must be a number from 0 to 1 (0: off)";
    const repeatPenalty = "repeat_penalty: repeat_penalty must be a number greater than 0 (1: off)";
    for (const [samplers, message] of [
      [{ top_k: -1 }, topK],
      [{ top_k: 2.5 }, topK],
      [{ top_k: "40" }, topK],
      [{ min_p: 1.5 }, minP],
      [{ min_p: -0.1 }, minP],
      [{ repeat_penalty: 0 }, repeatPenalty],
      [{ repeat_penalty: -1.1 }, repeatPenalty],
    ] as const) {
      for (const [path, body] of [
        ["/v1/chat/completions", { messages: [{ role: "user", content: "hello" }] }],
        ["/v1/completions", { prompt: "once upon a" }],
      ] as const) {
        const answer = await post(path, { model: "tiny", max_tokens: 2, ...body, ...samplers });
        expect(answer.status, `${path} ${JSON.stringify(samplers)}`).toBe(400);
        expect(answer.body.error).toMatchObject({ code: "INVALID_REQUEST", message });
      }
    }
  });

  it("are passed on to an OpenAI-compatible upstream as extra body fields, and to an upstream Ollama as its options", async () => {
    const samplers = { top_k: 20, min_p: 0.05, repeat_penalty: 1.1 };
    const chat = (model: string) =>
      post("/v1/chat/completions", {
        model,
        messages: [{ role: "user", content: "Why is the sky blue?" }],
        ...samplers,
      });
    expect((await chat("vllm/meta-llama/Llama-3.2-1B-Instruct")).status).toBe(200);
    // vLLM and SGLang read the repeat penalty as repetition_penalty.
    expect(replayVllm.requests.at(-1)).toMatchObject({ ...samplers, repetition_penalty: 1.1 });
    expect((await chat("llama3.2")).status).toBe(200);
    expect(replayOllama.requests.at(-1)).toMatchObject({ options: samplers });
  });
});
