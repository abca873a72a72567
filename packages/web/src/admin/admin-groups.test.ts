import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeKnowledge, startFakeKnowledgeAndSearch } from "../../test/support/fake-knowledge-search.js";
import { type FakeModelService, startFakeModelService } from "../../test/support/fake-model-service.js";
import { createApiKey, type Session, signUp } from "../../test/support/web-client.js";
import { startWeb, type WebHarness } from "../../test/support/web-harness.js";

/** Groups and users' keys as an administrator manages them, and what a user then may do. */
describe("admin groups and users' API keys", () => {
  let model: FakeModelService;
  let services: FakeKnowledge;
  let web: WebHarness;
  let url: string;
  let admin: Session;
  let user: Session;
  let userKey: string;

  beforeAll(async () => {
    model = await startFakeModelService({ models: ["stories260K:latest", "tiny-story:latest"] });
    services = await startFakeKnowledgeAndSearch();
    web = await startWeb({ modelUrl: model.url, knowledgeUrl: services.url, searchUrl: services.url });
    url = await web.app.listen({ host: "127.0.0.1", port: 0 });
    admin = await signUp(web.app, "admin");
    user = await signUp(web.app, "user");
    userKey = await createApiKey(web.app, user);
  });
  afterAll(async () => {
    await web.close();
    await services.close();
    await model.close();
  });

  const call = (session: Session, method: string, path: string, payload?: unknown) =>
    web.app.inject({
      method: method as "GET",
      url: path,
      headers: session.headers,
      payload: payload as object,
    });
  const createGroup = async (name: string) =>
    (await call(admin, "POST", "/api/admin/groups", { name })).json().id;
  const chat = (key: string) =>
    fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
      body: JSON.stringify({ model: "stories260K:latest", messages: [{ role: "user", content: "hi" }] }),
    });
  const listed = async (key: string) =>
    (
      (await (await fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${key}` } })).json()) as {
        data: Array<{ id: string }>;
      }
    ).data.map((m) => m.id);

  it("keeps a model limited to a deleted group closed to users (admin-only), never open to all", async () => {
    const groupId = await createGroup("restricted");
    const limit = await call(admin, "PUT", "/api/admin/models/stories260K:latest/access", {
      groupIds: [groupId],
    });
    expect(limit.statusCode).toBe(200);
    expect((await chat(userKey)).status).toBe(403);

    // Refused at first: the group limits a model; the answer names it.
    const refused = await call(admin, "DELETE", `/api/admin/groups/${groupId}`);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error.code).toBe("GROUP_IN_USE");
    expect(refused.json().error.details.models).toEqual([{ model: "stories260K:latest", adminOnly: true }]);
    expect(
      (await call(admin, "GET", "/api/admin/groups")).json().groups.map((g: { id: string }) => g.id),
    ).toContain(groupId);

    // Confirmed: the group goes, the model stays closed to the user and is marked admin-only.
    expect((await call(admin, "DELETE", `/api/admin/groups/${groupId}?force=true`)).statusCode).toBe(204);
    const denied = await chat(userKey);
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as { error: { code: string } }).error.code).toBe("MODEL_NOT_ALLOWED");
    expect(await listed(userKey)).not.toContain("stories260K:latest");
    expect(await listed(userKey)).toContain("tiny-story:latest");
    const models = (await call(admin, "GET", "/api/admin/models")).json().models;
    expect(models.find((m: { id: string }) => m.id === "stories260K:latest")).toMatchObject({
      groupIds: [],
      adminOnly: true,
    });

    // The audit entry names what the delete removed.
    const entries = (await call(admin, "GET", "/api/admin/audit")).json().entries;
    const entry = entries.find((e: { action: string }) => e.action === "group.delete");
    expect(entry.details).toMatchObject({
      name: "restricted",
      models: [{ model: "stories260K:latest", adminOnly: true }],
    });

    // An admin may open it again on purpose.
    await call(admin, "PUT", "/api/admin/models/stories260K:latest/access", { groupIds: [] });
    expect((await chat(userKey)).status).toBe(200);
  });

  it("turns a knowledge base shared only with a deleted group private, and names it in the audit", async () => {
    const groupId = await createGroup("readers");
    const base = (
      await call(user, "POST", "/api/knowledge-bases", { name: "Handbook", visibility: "shared" })
    ).json() as { id: string };
    expect(
      (
        await call(user, "PUT", `/api/knowledge-bases/${base.id}/access`, {
          visibility: "shared",
          shares: [{ groupId, permission: "read" }],
        })
      ).statusCode,
    ).toBe(200);
    const refused = await call(admin, "DELETE", `/api/admin/groups/${groupId}`);
    expect(refused.json().error.details.knowledgeBases).toEqual([
      { id: base.id, name: "Handbook", madePrivate: true },
    ]);
    expect((await call(admin, "DELETE", `/api/admin/groups/${groupId}?force=true`)).statusCode).toBe(204);
    expect((await call(user, "GET", `/api/knowledge-bases/${base.id}/access`)).json()).toMatchObject({
      visibility: "private",
      shares: [],
    });
    const entries = (await call(admin, "GET", "/api/admin/audit")).json().entries;
    const entry = entries.find(
      (e: { action: string; details?: { name?: string } }) => e.details?.name === "readers",
    );
    expect(entry.details.knowledgeBases).toEqual([{ id: base.id, name: "Handbook", madePrivate: true }]);
  });

  it("deletes a group that limits nothing at once", async () => {
    const groupId = await createGroup("empty");
    expect((await call(admin, "DELETE", `/api/admin/groups/${groupId}`)).statusCode).toBe(204);
  });

  it("keeps group names unique without regard to case or width, and renames a group", async () => {
    const id = await createGroup("finance");
    for (const name of ["finance", "Finance", "ＦＩＮＡＮＣＥ"]) {
      const response = await call(admin, "POST", "/api/admin/groups", { name });
      expect(response.statusCode, name).toBe(409);
      expect(response.json().error.code, name).toBe("GROUP_NAME_TAKEN");
    }
    const other = await createGroup("sales");
    const taken = await call(admin, "PATCH", `/api/admin/groups/${other}`, { name: "FINANCE" });
    expect(taken.statusCode).toBe(409);
    expect(taken.json().error.code).toBe("GROUP_NAME_TAKEN");

    const renamed = await call(admin, "PATCH", `/api/admin/groups/${id}`, { name: "Finance team" });
    expect(renamed.statusCode).toBe(200);
    // A change of case of its own name is allowed.
    expect((await call(admin, "PATCH", `/api/admin/groups/${other}`, { name: "Sales" })).statusCode).toBe(
      200,
    );
    const names = (await call(admin, "GET", "/api/admin/groups"))
      .json()
      .groups.map((g: { name: string }) => g.name);
    expect(names).toEqual(expect.arrayContaining(["Finance team", "Sales"]));
    expect((await call(admin, "POST", "/api/admin/groups", { name: "finance" })).statusCode).toBe(201);
    expect((await call(admin, "PATCH", "/api/admin/groups/nope", { name: "x" })).json().error.code).toBe(
      "GROUP_NOT_FOUND",
    );
    const entries = (await call(admin, "GET", "/api/admin/audit")).json().entries;
    expect(entries.find((e: { action: string }) => e.action === "group.rename").details).toEqual({
      from: "sales",
      to: "Sales",
    });
  });

  it("lets an admin list a user's API keys and revoke one, refused from the next request on", async () => {
    const key = await createApiKey(web.app, user, "leaked");
    expect((await listed(key)).length).toBeGreaterThan(0);
    const keys = (await call(admin, "GET", `/api/admin/users/${user.userId}/api-keys`)).json().keys as Array<{
      id: string;
      name: string;
      prefix: string;
      revokedAt: string | null;
    }>;
    const leaked = keys.find((k) => k.name === "leaked")!;
    expect(leaked.revokedAt).toBeNull();
    expect(JSON.stringify(keys)).not.toContain(key);
    expect(
      (await call(admin, "DELETE", `/api/admin/users/${user.userId}/api-keys/${leaked.id}`)).statusCode,
    ).toBe(204);
    expect((await fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(
      401,
    );
    expect((await listed(userKey)).length).toBeGreaterThan(0);
    const again = await call(admin, "DELETE", `/api/admin/users/${user.userId}/api-keys/${leaked.id}`);
    expect(again.json().error.code).toBe("API_KEY_NOT_FOUND");
    expect((await call(user, "GET", `/api/admin/users/${user.userId}/api-keys`)).statusCode).toBe(403);
    const entries = (await call(admin, "GET", "/api/admin/audit")).json().entries;
    expect(entries.find((e: { action: string }) => e.action === "api-key.revoke").details).toMatchObject({
      keyId: leaked.id,
      name: "leaked",
    });
  });
});
