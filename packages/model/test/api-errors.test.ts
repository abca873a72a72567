import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { Ollama } from "ollama";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeTinyGguf } from "../../../test/support/tiny-gguf.js";
import { startModelService, waitForRegistration } from "./start-model-service.js";

/** The model service's refusals, in the error format of the API each request was sent to. */
describe("model service: errors in each API's format", () => {
  let dir: string;
  let service: { url: string; close(): Promise<void> };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "hearth-api-errors-"));
    await writeTinyGguf(join(dir, "tiny.gguf"));
    // A small body limit, to be over it cheaply.
    service = await startModelService(dir, { bodyLimitBytes: 64 * 1024 });
    await waitForRegistration(service.url);
  });

  afterAll(async () => {
    await service?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const answer = async (response: Response) => ({ status: response.status, body: await response.json() });

  it("refuses a URL with a malformed percent-encoding in the format of the API its path names", async () => {
    for (const [method, path] of [
      ["GET", "/v1/models/%FF%FE"],
      ["POST", "/v1/chat/completions%FF"],
    ]) {
      expect(await answer(await fetch(`${service.url}${path}`, { method })), path).toEqual({
        status: 400,
        body: {
          error: {
            message: expect.stringContaining("not valid percent-encoded UTF-8"),
            type: "invalid_request_error",
            param: null,
            code: "MALFORMED_REQUEST",
          },
        },
      });
    }
    const ollama = await answer(await fetch(`${service.url}/api/%FF`));
    expect(ollama).toEqual({
      status: 400,
      body: { error: expect.stringContaining("not valid percent-encoded UTF-8"), code: "MALFORMED_REQUEST" },
    });
  });

  it("answers every Ollama route's error as Ollama does, {error: message}, with Hearth's stable code beside it", async () => {
    const post = (path: string, body: BodyInit) =>
      fetch(`${service.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
    const hi = [{ role: "user", content: "hi" }];
    const cases: [string, BodyInit, number, string][] = [
      ["/api/chat", "{nope", 400, "INVALID_JSON"],
      [
        "/api/chat",
        Uint8Array.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d]),
        400,
        "INVALID_ENCODING",
      ],
      [
        "/api/generate",
        JSON.stringify({ model: "tiny", prompt: "x".repeat(70_000) }),
        413,
        "PAYLOAD_TOO_LARGE",
      ],
      ["/api/chat", JSON.stringify({ model: "nope", messages: hi }), 404, "MODEL_NOT_FOUND"],
      ["/api/show", JSON.stringify({ model: "nope" }), 404, "MODEL_NOT_FOUND"],
      [
        "/api/chat",
        JSON.stringify({ model: "tiny", messages: hi, options: { temperature: -1 } }),
        400,
        "INVALID_REQUEST",
      ],
      ["/api/embed", JSON.stringify({ model: "tiny", input: [""] }), 400, "EMBEDDING_INPUT_EMPTY"],
      ["/api/nothing", "{}", 404, "ROUTE_NOT_FOUND"],
    ];
    for (const [path, body, status, code] of cases) {
      expect(await answer(await post(path, body)), `${path} ${code}`).toEqual({
        status,
        body: { error: expect.any(String), code },
      });
    }

    // Ollama's own client still reads the message, as it reads Ollama's.
    const ollama = new Ollama({ host: service.url });
    const refused = await ollama.chat({ model: "nope", messages: hi }).catch((error: unknown) => error);
    expect(refused).toMatchObject({
      name: "ResponseError",
      status_code: 404,
      message: expect.stringMatching(/^model "nope" not found/),
    });
  });

  it("answers an unknown model as OpenAI does, a 404 of type invalid_request_error, with Hearth's code", async () => {
    const openai = new OpenAI({ baseURL: `${service.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const refused = await openai.chat.completions
      .create({ model: "nope", messages: [{ role: "user", content: "hi" }] })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OpenAI.NotFoundError);
    expect(refused).toMatchObject({ status: 404, type: "invalid_request_error", code: "MODEL_NOT_FOUND" });
  });

  it("refuses a compressed body with 415 in each API's format, not as text that is no UTF-8", async () => {
    const gzipped = (path: string, body: unknown) =>
      fetch(`${service.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", "content-encoding": "gzip" },
        body: gzipSync(JSON.stringify(body)),
      });
    const hi = [{ role: "user", content: "hi" }];
    expect(await answer(await gzipped("/api/chat", { model: "tiny", messages: hi }))).toEqual({
      status: 415,
      body: { error: expect.stringContaining("compressed"), code: "UNSUPPORTED_CONTENT_ENCODING" },
    });
    expect(await answer(await gzipped("/v1/chat/completions", { model: "tiny", messages: hi }))).toEqual({
      status: 415,
      body: {
        error: {
          message: expect.stringContaining("compressed"),
          type: "invalid_request_error",
          param: null,
          code: "UNSUPPORTED_CONTENT_ENCODING",
        },
      },
    });
  });
});
