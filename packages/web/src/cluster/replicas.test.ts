import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeModelService, startFakeModelService } from "../../test/support/fake-model-service.js";
import { createApiKey, parseSse, type Session, signUp, streamTurn } from "../../test/support/web-client.js";
import { postgresAvailable, startWeb, type WebHarness } from "../../test/support/web-harness.js";

/**
 * Two replicas of the web service (separate processes on separate hosts, as behind a load balancer)
 * on one PostgreSQL database: what one changes, the other hears of through NOTIFY. That takes the
 * notification's delivery (milliseconds), so the other replica is polled briefly (1 s), far below the
 * 10 s its auth cache would otherwise keep a revoked key.
 */
describe.skipIf(!postgresAvailable)("web service replicas on one PostgreSQL database", () => {
  let model: FakeModelService;
  let a: WebHarness;
  let b: WebHarness;
  let admin: Session;
  /** Replica A listening, for the answers streamed from it. */
  let aUrl: string;

  beforeAll(async () => {
    model = await startFakeModelService();
    a = await startWeb({ modelUrl: model.url }, {}, "postgres");
    aUrl = await a.app.listen({ host: "127.0.0.1", port: 0 });
    b = await startWeb({ modelUrl: model.url }, {}, "postgres", { replicaOf: a });
    admin = await signUp(a.app, "admin");
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await model?.close();
  });

  const soon = { timeout: 1000, interval: 20 };
  const modelsWith = (replica: WebHarness, key: string) =>
    replica.app
      .inject({ method: "GET", url: "/v1/models", headers: { authorization: `Bearer ${key}` } })
      .then((response) => response.statusCode);

  it("holds on one replica the settings another changed: limits, sign-up", async () => {
    const user = await signUp(a.app, "limited");
    const key = await createApiKey(a.app, user);
    const complete = () =>
      b.app
        .inject({
          method: "POST",
          url: "/v1/chat/completions",
          headers: { authorization: `Bearer ${key}` },
          payload: { model: "tiny-story", messages: [{ role: "user", content: "hi" }] },
        })
        .then((response) => response.statusCode);
    // B has read the settings (no limits) and would keep them.
    expect(await complete()).toBe(200);
    try {
      const changed = await a.app.inject({
        method: "PATCH",
        url: "/api/admin/settings",
        headers: admin.headers,
        payload: { signup: "closed", userLimits: { requestsPerMinute: 1 } },
      });
      expect(changed.statusCode).toBe(200);
      await expect.poll(complete, soon).toBe(429);
      const signup = await b.app.inject({
        method: "POST",
        url: "/api/auth/signup",
        payload: { username: "late", password: "correct horse battery" },
      });
      expect(signup.json()).toMatchObject({ error: { code: "SIGNUP_CLOSED" } });
    } finally {
      await a.app.inject({
        method: "PATCH",
        url: "/api/admin/settings",
        headers: admin.headers,
        payload: { signup: "open", userLimits: {} },
      });
    }
  });

  it("refuses on one replica a key revoked, a user disabled, a session ended on another", async () => {
    const user = await signUp(a.app, "user");
    const revoked = (
      await a.app.inject({
        method: "POST",
        url: "/api/account/api-keys",
        headers: user.headers,
        payload: { name: "revoked" },
      })
    ).json() as { id: string; key: string };
    // B has looked the key up (and would keep it for 10 s).
    expect(await modelsWith(b, revoked.key)).toBe(200);
    const revoking = await a.app.inject({
      method: "DELETE",
      url: `/api/account/api-keys/${revoked.id}`,
      headers: user.headers,
    });
    expect(revoking.statusCode).toBe(204);
    await expect.poll(() => modelsWith(b, revoked.key), soon).toBe(401);

    const key = await createApiKey(a.app, user);
    expect(await modelsWith(b, key)).toBe(200);
    const disabling = await a.app.inject({
      method: "PATCH",
      url: `/api/admin/users/${user.userId}`,
      headers: admin.headers,
      payload: { status: "disabled" },
    });
    expect(disabling.statusCode).toBe(200);
    await expect.poll(() => modelsWith(b, key), soon).not.toBe(200);

    const other = await signUp(a.app, "other");
    const me = () =>
      b.app
        .inject({ method: "GET", url: "/api/account/api-keys", headers: other.headers })
        .then((r) => r.statusCode);
    expect(await me()).toBe(200);
    const logout = await a.app.inject({ method: "POST", url: "/api/auth/logout", headers: other.headers });
    expect(logout.statusCode).toBeLessThan(300);
    await expect.poll(me, soon).toBe(401);
  });

  it("stops, on Stop sent to one replica, the answer another is writing", async () => {
    model.options.delayMs = 30;
    model.options.words = Array.from({ length: 100 }, (_, i) => ` w${i}`);
    try {
      const user = await signUp(a.app, "writer");
      const { id } = (
        await a.app.inject({ method: "POST", url: "/api/conversations", headers: user.headers, payload: {} })
      ).json() as { id: string };
      const turn = await streamTurn(aUrl, user, id, "long one");
      await turn.until("w3");
      const stop = await b.app.inject({
        method: "POST",
        url: `/api/conversations/${id}/stop`,
        headers: user.headers,
        payload: {},
      });
      expect(stop.json()).toEqual({ stopped: true });
      const shown = parseSse(await turn.rest())
        .filter((part) => part.type === "text-delta")
        .map((part) => part.text)
        .join("");
      expect(shown).not.toContain("w99");
      const conversation = (
        await b.app.inject({ method: "GET", url: `/api/conversations/${id}`, headers: user.headers })
      ).json() as { messages: Array<{ status: string; content: string }> };
      expect(conversation.messages[1]).toMatchObject({ status: "stopped", content: shown });
    } finally {
      model.options.delayMs = 5;
      model.options.words = undefined;
    }
  });

  it("leaves the answers another replica is writing alone when one starts", async () => {
    model.options.delayMs = 30;
    model.options.words = Array.from({ length: 60 }, (_, i) => ` w${i}`);
    try {
      const user = await signUp(a.app, "during-rollout");
      const { id } = (
        await a.app.inject({ method: "POST", url: "/api/conversations", headers: user.headers, payload: {} })
      ).json() as { id: string };
      const turn = await streamTurn(aUrl, user, id, "long one");
      await turn.until("w3");
      // A third replica starts (a rolling update) while A writes.
      const c = await startWeb({ modelUrl: model.url }, {}, "postgres", { replicaOf: a });
      try {
        const during = (
          await c.app.inject({ method: "GET", url: `/api/conversations/${id}`, headers: user.headers })
        ).json() as { messages: Array<{ status: string }> };
        expect(during.messages[1]!.status).toBe("streaming");
        const again = await c.app.inject({
          method: "POST",
          url: `/api/conversations/${id}/messages`,
          headers: user.headers,
          payload: { model: "tiny-story", content: "a second answer beside it" },
        });
        expect(again.statusCode).toBe(409);
        expect(again.json().error.code).toBe("ANSWER_IN_PROGRESS");
      } finally {
        await c.close();
      }
      await turn.rest();
      const after = (
        await b.app.inject({ method: "GET", url: `/api/conversations/${id}`, headers: user.headers })
      ).json() as { messages: Array<{ status: string; content: string }> };
      expect(after.messages[1]).toMatchObject({ status: "done" });
      expect(after.messages[1]!.content).toContain("w59");
    } finally {
      model.options.delayMs = 5;
      model.options.words = undefined;
    }
  });

  it("answers that nothing was stopped when no answer is being written", async () => {
    const user = await signUp(a.app, "idle");
    const { id } = (
      await a.app.inject({ method: "POST", url: "/api/conversations", headers: user.headers, payload: {} })
    ).json() as { id: string };
    const stop = await b.app.inject({
      method: "POST",
      url: `/api/conversations/${id}/stop`,
      headers: user.headers,
      payload: {},
    });
    expect(stop.json()).toEqual({ stopped: false });
  });
});
