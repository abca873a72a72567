import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ModelClient } from "./model-client.js";

/**
 * A refusal of the model service reaches the web service's client as the model service said it:
 * its code, when to try again, and whether trying again helps (x-should-retry).
 */
describe("the model service's refusals through the web service's model client", () => {
  let server: Server;
  let client: ModelClient;
  beforeAll(async () => {
    server = createServer((request, response) => {
      request.resume();
      request.on("end", () => {
        response
          .writeHead(429, {
            "content-type": "application/json",
            "retry-after": "120",
            "x-should-retry": "true",
          })
          .end(JSON.stringify({ error: { code: "MODEL_QUEUE_FULL", message: '"m" is busy' } }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    client = new ModelClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("keeps a full queue's Retry-After and its x-should-retry: true, past a minute too", async () => {
    await expect(
      client.streamChat({ model: "m", messages: [{ role: "user", content: "hi" }], user: "u1" }),
    ).rejects.toMatchObject({ code: "MODEL_QUEUE_FULL", retryAfterSeconds: 120, shouldRetry: true });
  });
});
