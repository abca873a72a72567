import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../packages/core/src/index.js";
import {
  echoUpstreamSettings,
  expectNoSecret,
  startEchoUpstream,
} from "../../packages/model/test/echo-upstream.js";
import { startModelService } from "../../packages/model/test/start-model-service.js";
import { createApiKey, signUp } from "../../packages/web/test/support/web-client.js";
import { startWeb, type WebHarness } from "../../packages/web/test/support/web-harness.js";

/**
 * A member's OpenAI client on the web service's /v1, over the real model service and an upstream
 * that echoes the key Hearth sends it: the member never sees the operator's upstream key, and the
 * upstream refusing it is a 502, not a 401 that says the member's own key is bad.
 */
describe("an upstream's key, through the web service's /v1", () => {
  let dir: string;
  let upstream: Awaited<ReturnType<typeof startEchoUpstream>>;
  let model: Awaited<ReturnType<typeof startModelService>>;
  let web: WebHarness;
  let client: OpenAI;
  const logged: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "hearth-e2e-upstream-secrets-"));
    upstream = await startEchoUpstream();
    const destination = new Writable({
      write(chunk, _encoding, done) {
        logged.push(String(chunk));
        done();
      },
    });
    const logger = createLogger({ level: "debug", destination });
    model = await startModelService(
      dir,
      { ...echoUpstreamSettings(upstream.url), cache: { enabled: false } },
      logger,
    );
    web = await startWeb({ modelUrl: model.url }, {}, "sqlite", { logger });
    const url = await web.app.listen({ host: "127.0.0.1", port: 0 });
    await signUp(web.app, "admin");
    const member = await signUp(web.app, "member");
    client = new OpenAI({ apiKey: await createApiKey(web.app, member), baseURL: `${url}/v1`, maxRetries: 0 });
  });
  afterAll(async () => {
    await web?.close();
    await model?.close();
    await upstream?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const messages = [{ role: "user" as const, content: "hi" }];
  const failure = (call: () => Promise<unknown>) =>
    call().then(
      () => expect.unreachable("the call succeeded"),
      (error: { status?: number; code?: string; message: string }) => error,
    );
  const chats = (model: string) => [
    () => client.chat.completions.create({ model, messages }),
    async () => {
      for await (const _chunk of await client.chat.completions.create({ model, messages, stream: true }));
    },
  ];

  it("is redacted from the upstream's echo, streamed or not", async () => {
    for (const call of [
      ...chats("cloud/echo"),
      () => client.embeddings.create({ model: "cloud/echo", input: "hi" }),
    ]) {
      const error = await failure(call);
      expect(error.status).toBe(502);
      expect(error.message).toContain("you sent Authorization: [redacted]");
      expectNoSecret(`${error.message} ${JSON.stringify(error)}`);
    }
  });

  it("refused by the upstream is a 502 UPSTREAM_ERROR, not the member's 401", async () => {
    for (const call of chats("cloud/refuse")) {
      const error = await failure(call);
      expect(error).toMatchObject({ status: 502, code: "UPSTREAM_ERROR" });
      expect(error.message).toMatch(/refused the credentials Hearth sent/);
      expectNoSecret(`${error.message} ${JSON.stringify(error)}`);
    }
  });

  it("is in neither service's log", () => {
    expect(logged.length).toBeGreaterThan(0);
    expectNoSecret(logged.join(""));
  });
});
