import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeTinyGguf } from "../../../test/support/tiny-gguf.js";
import { startModelService } from "./start-model-service.js";

/** The model service's refusals, in the error format of the API each request was sent to. */
describe("model service: errors in each API's format", () => {
  let dir: string;
  let service: { url: string; close(): Promise<void> };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "hearth-api-errors-"));
    await writeTinyGguf(join(dir, "tiny.gguf"));
    service = await startModelService(dir);
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
      body: { error: expect.stringContaining("not valid percent-encoded UTF-8") },
    });
  });
});
