import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeModelService, startFakeModelService } from "../../test/support/fake-model-service.js";
import { createApiKey, type Session, signUp } from "../../test/support/web-client.js";
import { startWeb, type WebHarness } from "../../test/support/web-harness.js";
import type { WebDatabase } from "../storage/open-database.js";
import { ModelAccess } from "./model-access.js";

describe("model access by group, whatever the spelling of the model's name", () => {
  let model: FakeModelService;
  let web: WebHarness;
  let admin: Session;
  let user: Session;
  let userKey: string;
  let groupId: string;
  let url: string;

  beforeAll(async () => {
    // As the model service lists them: embedded and Ollama models with their tag.
    model = await startFakeModelService({ models: ["stories260K:latest", "tiny-story:latest"] });
    web = await startWeb({ modelUrl: model.url });
    url = await web.app.listen({ host: "127.0.0.1", port: 0 });
    admin = await signUp(web.app, "admin");
    user = await signUp(web.app, "user");
    userKey = await createApiKey(web.app, user);
    groupId = (
      await web.app.inject({
        method: "POST",
        url: "/api/admin/groups",
        headers: admin.headers,
        payload: { name: "storytellers" },
      })
    ).json().id;
  });
  afterAll(async () => {
    await web.close();
    await model.close();
  });

  const limit = (name: string, groupIds: string[]) =>
    web.app.inject({
      method: "PUT",
      url: `/api/admin/models/${encodeURIComponent(name)}/access`,
      headers: admin.headers,
      payload: { groupIds },
    });

  /**
   * The user's answer on each chat route, for a model name as the user spells it, and on starting a
   * conversation with it (refused then, not at its first message).
   */
  async function statuses(name: string) {
    const post = (path: string, headers: Record<string, string>, body: unknown) =>
      fetch(`${url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify(body),
      });
    const messages = [{ role: "user", content: "hi" }];
    const conversation = (
      await web.app.inject({ method: "POST", url: "/api/conversations", headers: user.headers, payload: {} })
    ).json().id;
    const responses = [
      await post("/v1/chat/completions", { authorization: `Bearer ${userKey}` }, { model: name, messages }),
      await post("/api/chat", user.headers, { model: name, messages }),
      await post(`/api/conversations/${conversation}/messages`, user.headers, { model: name, content: "hi" }),
      await post("/api/conversations", user.headers, { model: name }),
    ];
    return Promise.all(
      responses.map(async (response) => {
        const text = await response.text();
        return response.status === 403 ? JSON.parse(text).error.code : response.status;
      }),
    );
  }

  it("refuses a model limited under name:tag when it is asked for without the tag", async () => {
    expect((await limit("stories260K:latest", [groupId])).statusCode).toBe(200);
    for (const name of ["stories260K:latest", "stories260K", " stories260K "])
      expect(await statuses(name), name).toEqual([
        "MODEL_NOT_ALLOWED",
        "MODEL_NOT_ALLOWED",
        "MODEL_NOT_ALLOWED",
        "MODEL_NOT_ALLOWED",
      ]);
    expect(await statuses("tiny-story:latest")).toEqual([200, 200, 200, 201]);
  });

  it("applies a rule set on the untagged name to the listed name:tag, replacing the tagged one", async () => {
    await limit("stories260K:latest", []);
    const stored = await limit("stories260K", [groupId]);
    expect(stored.json()).toEqual({ model: "stories260K:latest", groupIds: [groupId] });
    const listed = await web.app.inject({
      url: "/v1/models",
      headers: { authorization: `Bearer ${userKey}` },
    });
    expect(listed.json().data.map((m: { id: string }) => m.id)).toEqual(["tiny-story:latest"]);
    const models = await web.app.inject({ url: "/api/admin/models", headers: admin.headers });
    expect(models.json().models).toContainEqual(
      expect.objectContaining({ id: "stories260K:latest", groupIds: [groupId] }),
    );
    expect(await statuses("stories260K:latest")).toEqual([
      "MODEL_NOT_ALLOWED",
      "MODEL_NOT_ALLOWED",
      "MODEL_NOT_ALLOWED",
      "MODEL_NOT_ALLOWED",
    ]);
    // Opening it under the other spelling opens it: there is one rule set per model.
    await limit("stories260K:latest", []);
    expect(await statuses("stories260K:latest")).toEqual([200, 200, 200, 201]);
  });

  it("keeps usage under the tagged name, whichever spelling was asked for", async () => {
    await web.app.inject({
      method: "POST",
      url: "/v1/chat/completions",
      headers: { authorization: `Bearer ${userKey}` },
      payload: { model: "tiny-story", messages: [{ role: "user", content: "hi" }] },
    });
    const usage = await web.app.inject({ url: "/api/admin/usage", headers: admin.headers });
    const names = (usage.json().usage as Array<{ model: string }>).map((row) => row.model);
    expect(names).toContain("tiny-story:latest");
    expect(names).not.toContain("tiny-story");
  });
});

describe("model keys", () => {
  const access = new ModelAccess({} as WebDatabase, undefined, ["openai"]);
  const user = { id: "u", username: "u", role: "user" as const, groupIds: ["other"] };

  it("names models as the model service resolves them, upstream ones as they are", () => {
    expect(access.key("stories260K")).toBe("stories260K:latest");
    expect(access.key("qwen2.5:0.5b")).toBe("qwen2.5:0.5b");
    expect(access.key("hf.co/someone/model")).toBe("hf.co/someone/model:latest");
    expect(access.key("openai/gpt-4o")).toBe("openai/gpt-4o");
    expect(access.key("openai/ft:gpt-4o:acme")).toBe("openai/ft:gpt-4o:acme");
  });

  it("holds a rule on an upstream model, and one on a tagged name that an upstream-like name falls to", () => {
    const rules = new Map([
      ["openai/gpt-4o", ["staff"]],
      ["openai/llama3:latest", ["staff"]],
    ]);
    expect(access.allowedWith(rules, user, "openai/gpt-4o")).toBe(false);
    expect(access.allowedWith(rules, user, "openai/llama3")).toBe(false);
    expect(access.allowedWith(rules, user, "openai/gpt-4o-mini")).toBe(true);
    expect(access.allowedWith(rules, { ...user, groupIds: ["staff"] }, "openai/gpt-4o")).toBe(true);
  });
});
