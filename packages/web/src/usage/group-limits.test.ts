import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeModelService, startFakeModelService } from "../../test/support/fake-model-service.js";
import { createApiKey, type Session, signUp } from "../../test/support/web-client.js";
import { dialects, startWeb, type WebHarness } from "../../test/support/web-harness.js";

/**
 * Group limits through /v1 as an administrator sets them: per limit, a member gets the most
 * generous value of their groups that set it, and the user-wide value where none of them does.
 */
describe.each(dialects)("group limits on /v1 on %s", (dialect) => {
  let model: FakeModelService;
  let web: WebHarness;
  let url: string;
  let admin: Session;

  beforeAll(async () => {
    model = await startFakeModelService({ models: ["tiny-story"] });
    web = await startWeb({ modelUrl: model.url }, {}, dialect);
    url = await web.app.listen({ host: "127.0.0.1", port: 0 });
    admin = await signUp(web.app, "admin");
  });
  afterAll(async () => {
    await web.close();
    await model.close();
  });

  const call = async (method: string, path: string, payload: unknown) => {
    const response = await web.app.inject({
      method: method as "POST",
      url: path,
      headers: admin.headers,
      payload: payload as object,
    });
    expect(response.statusCode, response.body).toBeLessThan(300);
    return response.json() as { id: string };
  };
  /**
   * A non-streamed chat: 7 prompt tokens and 5 answer tokens (the fake model's count), 12 in all;
   * its prompt is estimated at 34 tokens, and a token limit cuts the answer to what it leaves after them.
   */
  const chat = (key: string) =>
    fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
      body: JSON.stringify({ model: "tiny-story", messages: [{ role: "user", content: "hi" }] }),
    });

  it("keeps the user-wide limit a member's group leaves empty, and takes the most generous group's where set", async () => {
    const alice = await signUp(web.app, "alice");
    const key = await createApiKey(web.app, alice);
    const eng = await call("POST", "/api/admin/groups", { name: "eng" });
    await call("PUT", `/api/admin/groups/${eng.id}/members`, { userIds: [alice.userId] });
    // Tokens per day for everyone; eng sets only requests per minute.
    await call("PATCH", "/api/admin/settings", {
      userLimits: { tokensPerDay: 50 },
      groupLimits: { [eng.id]: { requestsPerMinute: 100 } },
    });
    expect((await chat(key)).status).toBe(200);
    // 12 tokens used: the second answer gets the 4 that 50 leaves after its prompt.
    expect((await chat(key)).status).toBe(200);
    // 23 tokens used today: the user-wide 50 still holds for alice, and leaves no room for a third.
    const refused = await chat(key);
    expect(refused.status).toBe(429);
    const body = (await refused.json()) as { error: { code: string; details: { limits: unknown } } };
    expect(body.error.code).toBe("QUOTA_EXCEEDED");
    expect(body.error.details.limits).toEqual({ requestsPerMinute: 100, tokensPerDay: 50 });

    // A second group of hers that sets tokens per day more generously lifts it.
    const research = await call("POST", "/api/admin/groups", { name: "research" });
    await call("PUT", `/api/admin/groups/${research.id}/members`, { userIds: [alice.userId] });
    await call("PATCH", "/api/admin/settings", {
      userLimits: { tokensPerDay: 50 },
      groupLimits: { [eng.id]: { requestsPerMinute: 100 }, [research.id]: { tokensPerDay: 1000 } },
    });
    expect((await chat(key)).status).toBe(200);
  });
});
