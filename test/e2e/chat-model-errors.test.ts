import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startModelService } from "../../packages/model/test/start-model-service.js";
import {
  parseSse,
  type Session,
  sendInNewConversation,
  signUp,
} from "../../packages/web/test/support/web-client.js";
import { startWeb, type WebHarness } from "../../packages/web/test/support/web-harness.js";
import { writeTinyGguf } from "../support/tiny-gguf.js";

/**
 * A chat whose prompt does not fit the real model service's context (256 tokens here): the
 * model service's stable code reaches the user through the web service, not a generic upstream
 * error, and the turn is stored as failed.
 */
describe("the model service's errors in a chat", () => {
  let dir: string;
  let model: Awaited<ReturnType<typeof startModelService>>;
  let web: WebHarness;
  let url: string;
  let user: Session;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "hearth-e2e-chat-errors-"));
    await writeTinyGguf(join(dir, "tiny.gguf"));
    model = await startModelService(dir);
    web = await startWeb({ modelUrl: model.url });
    url = await web.app.listen({ host: "127.0.0.1", port: 0 });
    user = await signUp(web.app, "writer");
  });
  afterAll(async () => {
    await web?.close();
    await model?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("answers a prompt longer than the context with CONTEXT_OVERFLOW and its message", async () => {
    const models = (await web.app.inject({ url: "/api/models", headers: user.headers })).json() as {
      models: Array<{ id: string }>;
    };
    const { conversationId: id, response } = await sendInNewConversation(web.app, url, user, {
      model: models.models[0]!.id,
      content: "once upon a time ".repeat(400),
    });
    const parts = parseSse(await response.text());
    const failure = parts.find((part) => part.type === "error");
    expect(failure).toMatchObject({ code: "CONTEXT_OVERFLOW", message: expect.stringMatching(/context/i) });
    const stored = (
      await web.app.inject({ url: `/api/conversations/${id}`, headers: user.headers })
    ).json() as {
      messages: Array<{ role: string; status: string }>;
    };
    expect(stored.messages.at(-1)).toMatchObject({ role: "assistant", status: "error" });
  });
});
