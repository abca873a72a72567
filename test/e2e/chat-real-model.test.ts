import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  parseSse,
  type Session,
  sendInNewConversation,
  signUp,
} from "../../packages/web/test/support/web-client.js";
import type { WebHarness } from "../../packages/web/test/support/web-harness.js";
import { type RealModelStand, startRealModelStand } from "../support/real-model-stand.js";

/**
 * A chat over the real model service (a tiny GGUF, context 256, its inference cache holding every
 * answer: `deterministicOnly: false`): a prompt that does not fit reaches the user with the model
 * service's own code and is stored as failed; a repeated question is a cache hit, a regenerated one
 * is asked anew.
 */
describe("a chat over the real model service", () => {
  let stand: RealModelStand;
  let web: WebHarness;
  let url: string;
  let user: Session;
  /** The tiny model as the web service lists it. */
  let modelId: string;

  beforeAll(async () => {
    stand = await startRealModelStand("chat", { cache: { deterministicOnly: false } });
    web = stand.web;
    url = await web.app.listen({ host: "127.0.0.1", port: 0 });
    user = await signUp(web.app, "reader");
    const models = (await web.app.inject({ url: "/api/models", headers: user.headers })).json() as {
      models: Array<{ id: string }>;
    };
    modelId = models.models[0]!.id;
  });
  afterAll(async () => {
    await stand?.close();
  });

  it("answers a prompt longer than the context with CONTEXT_OVERFLOW and its message", async () => {
    const { conversationId: id, response } = await sendInNewConversation(web.app, url, user, {
      model: modelId,
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

  it("answers a repeated question from the cache, and a regenerated one anew", async () => {
    const message = { model: modelId, content: "Once upon a time" };
    const finishOf = async (response: Response) =>
      parseSse(await response.text()).find((part) => part.type === "finish") as { cached: boolean };

    expect(await finishOf((await sendInNewConversation(web.app, url, user, message)).response)).toMatchObject(
      {
        cached: false,
      },
    );
    const again = await sendInNewConversation(web.app, url, user, message);
    expect(await finishOf(again.response)).toMatchObject({ cached: true });

    const regenerated = await fetch(`${url}/api/conversations/${again.conversationId}/regenerate`, {
      method: "POST",
      headers: { "content-type": "application/json", ...user.headers },
      body: JSON.stringify({ model: message.model }),
    });
    expect(await finishOf(regenerated)).toMatchObject({ cached: false });
  });
});
