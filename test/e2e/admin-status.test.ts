import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey, type Session, signUp } from "../../packages/web/test/support/web-client.js";
import type { WebHarness } from "../../packages/web/test/support/web-harness.js";
import { type RealModelStand, startRealModelStand } from "../support/real-model-stand.js";

interface StatusAnswer {
  services: Array<{ service: string; ready: boolean; reason?: string }>;
  figures: Record<string, number | null>;
}

/**
 * Issue 6's status page and audit log as the web service answers them, over the real model service
 * (a tiny GGUF): the figures operators watch, under stable keys, taken from the services' metrics
 * after a streamed chat; who did each sensitive action; both refused to non-admins.
 */
describe("admin status figures and audit log", () => {
  let stand: RealModelStand;
  let web: WebHarness;
  let admin: Session;
  let member: Session;

  beforeAll(async () => {
    stand = await startRealModelStand("status");
    web = stand.web;
    admin = await signUp(web.app, "root");
    member = await signUp(web.app, "member");
  });
  afterAll(async () => {
    await stand?.close();
  });

  it("shows the model and web services ready, and the figures a streamed chat moved", async () => {
    const key = await createApiKey(web.app, member);
    const authorization = `Bearer ${key}`;
    const models = (await web.app.inject({ url: "/v1/models", headers: { authorization } })).json() as {
      data: Array<{ id: string }>;
    };
    const chat = await web.app.inject({
      method: "POST",
      url: "/v1/chat/completions",
      headers: { authorization },
      payload: {
        model: models.data[0]!.id,
        messages: [{ role: "user", content: "Once upon a time" }],
        max_tokens: 8,
        temperature: 0,
        stream: true,
      },
    });
    expect(chat.statusCode).toBe(200);
    expect(chat.body).toContain("data: [DONE]");

    const answer = await web.app.inject({ url: "/api/admin/status", headers: admin.headers });
    expect(answer.statusCode).toBe(200);
    const status = answer.json() as StatusAnswer;
    expect(status.services.find((s) => s.service === "model")).toMatchObject({ ready: true });
    expect(status.services.find((s) => s.service === "web")).toMatchObject({ ready: true });
    expect(Object.keys(status.figures).sort()).toEqual(
      [
        "chatRequests24h",
        "inferenceP99Ms",
        "knowledgeBaseUpdates",
        "modelQueueDepth",
        // The stand runs the model service in this process: one memory figure for both.
        "sharedProcessMemoryMb",
        "searchSuccessPercent",
        "tokensOut24h",
      ].sort(),
    );
    const { figures } = status;
    expect(figures.chatRequests24h).toBe(1);
    expect(figures.tokensOut24h).toBeGreaterThan(0);
    expect(figures.inferenceP99Ms).toBeGreaterThan(0);
    expect(figures.modelQueueDepth).toBe(0);
    expect(figures.sharedProcessMemoryMb).toBeGreaterThan(0);

    expect((await web.app.inject({ url: "/api/admin/status", headers: member.headers })).statusCode).toBe(
      403,
    );
  });

  it("names who did each sensitive action, and to whom, newest first", async () => {
    await createApiKey(web.app, member, "audited");
    const changed = await web.app.inject({
      method: "PATCH",
      url: `/api/admin/users/${member.userId}`,
      headers: admin.headers,
      payload: { role: "admin" },
    });
    expect(changed.statusCode).toBe(200);
    const audit = (await web.app.inject({ url: "/api/admin/audit", headers: admin.headers })).json() as {
      entries: Array<{
        action: string;
        actorName: string | null;
        target: string | null;
        targetName: string | null;
      }>;
    };
    expect(audit.entries[0]).toMatchObject({
      action: "user.role-change",
      actorName: "root",
      target: member.userId,
      targetName: "member",
    });
    expect(audit.entries[1]).toMatchObject({ action: "api-key.create", actorName: "member" });
  });
});
