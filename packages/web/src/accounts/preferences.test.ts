import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeKnowledge, startFakeKnowledgeAndSearch } from "../../test/support/fake-knowledge-search.js";
import { type FakeModelService, startFakeModelService } from "../../test/support/fake-model-service.js";
import {
  createApiKey,
  parseSse,
  type Session,
  setFilterWords,
  signUp,
} from "../../test/support/web-client.js";
import { dialects, startWeb, type WebHarness } from "../../test/support/web-harness.js";
import { writePreferences } from "./preferences-store.js";

const PREFERENCES = "/api/account/preferences";

interface Preferences {
  instructions: string | null;
  defaultModel: string | null;
  webSearch: string | null;
  language: string | null;
  theme: string | null;
  memory: boolean;
  updatedAt: string | null;
  instructionsMaxChars: number;
  messageMaxChars: number;
}

describe.each(dialects)("personal chat defaults on %s", (dialect) => {
  let model: FakeModelService;
  let services: FakeKnowledge;
  let web: WebHarness;
  let url: string;
  let admin: Session;
  let carol: Session;

  beforeAll(async () => {
    model = await startFakeModelService({ models: ["tiny-story", "big-model"] });
    services = await startFakeKnowledgeAndSearch();
    web = await startWeb(
      { modelUrl: model.url, knowledgeUrl: services.url, searchUrl: services.url },
      {},
      dialect,
    );
    url = await web.app.listen({ host: "127.0.0.1", port: 0 });
    admin = await signUp(web.app, "admin");
    carol = await signUp(web.app, "carol");
  });
  afterAll(async () => {
    await web?.close();
    await services?.close();
    await model?.close();
  });

  const read = async (session: Session) =>
    (await web.app.inject({ url: PREFERENCES, headers: session.headers })).json() as Preferences;
  const save = (session: Session, payload: Record<string, unknown>) =>
    web.app.inject({ method: "PUT", url: PREFERENCES, headers: session.headers, payload });
  const newConversation = async (session: Session, payload: Record<string, unknown> = {}) => {
    const response = await web.app.inject({
      method: "POST",
      url: "/api/conversations",
      headers: session.headers,
      payload,
    });
    expect(response.statusCode, response.body).toBe(201);
    return response.json() as { id: string; model: string | null; systemPrompt: string | null };
  };
  const send = async (session: Session, id: string, content: string, modelName = "tiny-story") => {
    const response = await fetch(`${url}/api/conversations/${id}/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", ...session.headers },
      body: JSON.stringify({ model: modelName, content }),
    });
    return parseSse(await response.text());
  };
  const issueOf = (response: { statusCode: number; json(): unknown }) => {
    const { error } = response.json() as {
      error: { code: string; details?: { issues?: Array<Record<string, unknown>> } };
    };
    return { status: response.statusCode, code: error.code, issue: error.details?.issues?.[0] };
  };

  it("has none until saved, then keeps each field given, the others as they were", async () => {
    const dan = await signUp(web.app, "dan");
    expect(await read(dan)).toEqual({
      instructions: null,
      defaultModel: null,
      webSearch: null,
      language: null,
      theme: null,
      memory: false,
      updatedAt: null,
      instructionsMaxChars: 10_000,
      messageMaxChars: 100_000,
    });
    const saved = await save(dan, {
      instructions: "  Answer in formal Chinese; I am a SQL reviewer.\n",
      webSearch: "auto",
      theme: "dark",
    });
    expect(saved.statusCode).toBe(200);
    expect(saved.json()).toMatchObject({
      instructions: "Answer in formal Chinese; I am a SQL reviewer.",
      webSearch: "auto",
      theme: "dark",
      language: null,
    });
    // Only the language changes; null clears a field; blank instructions are none.
    await save(dan, { language: "zh-CN" });
    expect(await read(dan)).toMatchObject({
      instructions: "Answer in formal Chinese; I am a SQL reviewer.",
      webSearch: "auto",
      theme: "dark",
      language: "zh-CN",
    });
    await save(dan, { theme: null, instructions: "   " });
    expect(await read(dan)).toMatchObject({ instructions: null, theme: null, language: "zh-CN" });
    // Memory is turned on and off alone.
    await save(dan, { memory: true });
    expect(await read(dan)).toMatchObject({ memory: true, language: "zh-CN", webSearch: "auto" });
    await save(dan, { language: "en" });
    expect(await read(dan)).toMatchObject({ memory: true, language: "en" });
    // Each user has their own.
    expect(await read(carol)).toMatchObject({ language: null, webSearch: null, memory: false });
  });

  it("refuses what a form field would: too long, a NUL, a blocked word, a value that is not one", async () => {
    const before = await read(carol);
    const tooLong = await save(carol, { instructions: "x".repeat(10_001) });
    expect(issueOf(tooLong)).toMatchObject({
      status: 400,
      code: "INVALID_REQUEST",
      issue: { path: "instructions", code: "too_big", origin: "string", maximum: 10_000 },
    });
    const nul = await save(carol, { instructions: "be\u0000brief" });
    expect(issueOf(nul)).toMatchObject({
      status: 400,
      code: "INVALID_REQUEST",
      issue: { path: "instructions", code: "nul_character" },
    });
    for (const [field, value] of [
      ["theme", "blue"],
      ["language", "fr"],
      ["webSearch", "always"],
    ] as const) {
      expect(issueOf(await save(carol, { [field]: value })), field).toMatchObject({
        status: 400,
        code: "INVALID_REQUEST",
        issue: { path: field, code: "invalid_value" },
      });
    }
    expect(issueOf(await save(carol, { memory: "yes" }))).toMatchObject({
      status: 400,
      code: "INVALID_REQUEST",
      issue: { path: "memory", code: "invalid_type" },
    });
    expect(issueOf(await save(carol, { colour: "red" })).code).toBe("INVALID_REQUEST");
    await setFilterWords(web.app, admin, ["forbidden"]);
    try {
      const blocked = await save(carol, { instructions: "say forbidden things" });
      expect(blocked.statusCode).toBe(422);
      expect(blocked.json().error).toMatchObject({
        code: "CONTENT_BLOCKED",
        details: { words: ["forbidden"] },
      });
    } finally {
      await setFilterWords(web.app, admin, []);
    }
    expect(await read(carol)).toEqual(before);
    // The limit itself is taken.
    expect((await save(carol, { instructions: "x".repeat(10_000) })).statusCode).toBe(200);
    await save(carol, { instructions: null });
  });

  it("counts the instructions' limit as a conversation's system prompt does, so a new chat always starts", async () => {
    const gina = await signUp(web.app, "gina");
    // An emoji, or a CJK character outside the BMP, is two of the limit's characters (UTF-16 units)
    // for the instructions as for a system prompt: what Settings takes, a new chat takes.
    for (const tooLong of ["😀".repeat(6000), "𠮷".repeat(5001), `${"x".repeat(9999)}😀`]) {
      expect(issueOf(await save(gina, { instructions: tooLong }))).toMatchObject({
        status: 400,
        code: "INVALID_REQUEST",
        issue: { path: "instructions", code: "too_big", origin: "string", maximum: 10_000 },
      });
    }
    expect(await read(gina)).toMatchObject({ instructions: null });
    const fits = "𠮷".repeat(5000);
    expect((await save(gina, { instructions: fits })).statusCode).toBe(200);
    expect(await newConversation(gina)).toMatchObject({ systemPrompt: fits });

    // Instructions over the limit stored before (counted otherwise, or under a larger
    // web.maxMessageChars) do not make every new chat fail: a new conversation starts without them.
    const stored = "😀".repeat(6000);
    await writePreferences(web.db, gina.userId, { instructions: stored });
    expect(await read(gina)).toMatchObject({ instructions: stored });
    const started = await newConversation(gina);
    expect(started).toMatchObject({ systemPrompt: null });
    const parts = await send(gina, started.id, "hello");
    expect(parts.at(-1)).toMatchObject({ type: "finish" });
    expect(model.requests.at(-1)!.messages).toEqual([{ role: "user", content: "hello" }]);
    await save(gina, { instructions: null });
  });

  it("takes as default model only one the user may use, under the model service's spelling", async () => {
    const notOffered = await save(carol, { defaultModel: "no-such-model" });
    expect(issueOf(notOffered)).toMatchObject({
      status: 400,
      code: "INVALID_REQUEST",
      issue: { path: "defaultModel", code: "invalid_value" },
    });
    expect(notOffered.json().error.message).toContain('"no-such-model" is not a model you may use');
    // Limited to a group carol is not in.
    const group = (
      await web.app.inject({
        method: "POST",
        url: "/api/admin/groups",
        headers: admin.headers,
        payload: { name: "reviewers" },
      })
    ).json() as { id: string };
    const limit = await web.app.inject({
      method: "PUT",
      url: "/api/admin/models/big-model/access",
      headers: admin.headers,
      payload: { groupIds: [group.id] },
    });
    expect(limit.statusCode).toBe(200);
    try {
      expect(issueOf(await save(carol, { defaultModel: "big-model" }))).toMatchObject({
        status: 400,
        issue: { path: "defaultModel", code: "invalid_value" },
      });
      // The administrator, who may use every model, can choose it.
      expect((await save(admin, { defaultModel: "big-model" })).json()).toMatchObject({
        defaultModel: "big-model",
      });
    } finally {
      await web.app.inject({
        method: "PUT",
        url: "/api/admin/models/big-model/access",
        headers: admin.headers,
        payload: { groupIds: [] },
      });
      await save(admin, { defaultModel: null });
    }
    // Another spelling of an offered model is stored as the model service lists it.
    expect((await save(carol, { defaultModel: "tiny-story:latest" })).json()).toMatchObject({
      defaultModel: "tiny-story",
    });
    await save(carol, { defaultModel: null });
  });

  it("starts a new conversation with the instructions and default model; existing ones stay as they were", async () => {
    const erin = await signUp(web.app, "erin");
    const before = await newConversation(erin);
    expect(before).toMatchObject({ systemPrompt: null, model: null });
    const instructions = "You are a SQL reviewer. Answer in formal Chinese.";
    expect((await save(erin, { instructions, defaultModel: "big-model" })).statusCode).toBe(200);

    const started = await newConversation(erin);
    expect(started).toMatchObject({ systemPrompt: instructions, model: "big-model" });
    // Shown with the conversation, changeable as any conversation's system prompt, and sent first.
    const shown = await web.app.inject({ url: `/api/conversations/${started.id}`, headers: erin.headers });
    expect(shown.json()).toMatchObject({ systemPrompt: instructions });
    await send(erin, started.id, "review: SELECT *");
    expect(model.requests.at(-1)!.messages[0]).toEqual({ role: "system", content: instructions });
    const changed = await web.app.inject({
      method: "PATCH",
      url: `/api/conversations/${started.id}`,
      headers: erin.headers,
      payload: { systemPrompt: "Be brief." },
    });
    expect(changed.json()).toMatchObject({ systemPrompt: "Be brief." });
    expect(await read(erin)).toMatchObject({ instructions });

    // A conversation's own choice wins: a prompt of its own, or none (null).
    expect(await newConversation(erin, { systemPrompt: "Only haiku." })).toMatchObject({
      systemPrompt: "Only haiku.",
    });
    expect(await newConversation(erin, { systemPrompt: null, model: "tiny-story" })).toMatchObject({
      systemPrompt: null,
      model: "tiny-story",
    });
    // The conversation from before is as it was.
    const old = await web.app.inject({ url: `/api/conversations/${before.id}`, headers: erin.headers });
    expect(old.json()).toMatchObject({ systemPrompt: null, model: null });
    await send(erin, before.id, "hello");
    expect(model.requests.at(-1)!.messages).toEqual([{ role: "user", content: "hello" }]);

    // The public API is not the web UI: no instructions are added to its chats.
    const key = await createApiKey(web.app, erin);
    const v1 = await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
      body: JSON.stringify({ model: "tiny-story", messages: [{ role: "user", content: "plain" }] }),
    });
    expect(v1.status).toBe(200);
    await v1.text();
    expect(model.requests.at(-1)!.messages).toEqual([{ role: "user", content: "plain" }]);
  });

  it("falls back to the usual model when the default one is forbidden later, and chat goes on", async () => {
    const frank = await signUp(web.app, "frank");
    await save(frank, { defaultModel: "big-model", instructions: "Be kind." });
    const group = (
      await web.app.inject({
        method: "POST",
        url: "/api/admin/groups",
        headers: admin.headers,
        payload: { name: "big-users" },
      })
    ).json() as { id: string };
    await web.app.inject({
      method: "PUT",
      url: "/api/admin/models/big-model/access",
      headers: admin.headers,
      payload: { groupIds: [group.id] },
    });
    try {
      // The choice is kept (the page says it is no longer offered), but a new conversation does
      // not start with it, and chatting with the usual model works.
      expect(await read(frank)).toMatchObject({ defaultModel: "big-model" });
      const started = await newConversation(frank);
      expect(started).toMatchObject({ model: null, systemPrompt: "Be kind." });
      const parts = await send(frank, started.id, "still here?");
      expect(parts.at(-1)).toMatchObject({ type: "finish" });
      // Saving the other preferences is not refused for the default model kept from before.
      expect((await save(frank, { theme: "light", defaultModel: "big-model" })).statusCode).toBe(200);
    } finally {
      await web.app.inject({
        method: "PUT",
        url: "/api/admin/models/big-model/access",
        headers: admin.headers,
        payload: { groupIds: [] },
      });
    }
  });

  it("takes the web search modes the deployment offers", async () => {
    for (const mode of ["on", "auto", "off"])
      expect((await save(carol, { webSearch: mode })).json()).toMatchObject({ webSearch: mode });
  });

  it("is a browser session's only: an API key opens neither route", async () => {
    const key = await createApiKey(web.app, carol, "prefs");
    for (const method of ["GET", "PUT"] as const) {
      const response = await web.app.inject({
        method,
        url: PREFERENCES,
        headers: { authorization: `Bearer ${key}` },
        ...(method === "PUT" ? { payload: { theme: "dark" } } : {}),
      });
      expect(response.statusCode, method).toBe(401);
    }
  });

  it("goes with the account when an administrator deletes it", async () => {
    const gone = await signUp(web.app, "gone");
    await save(gone, { instructions: "secret habits", language: "en" });
    const rows = () =>
      web.db.selectFrom("user_preferences").select("user_id").where("user_id", "=", gone.userId).execute();
    expect(await rows()).toHaveLength(1);
    const deleted = await web.app.inject({
      method: "DELETE",
      url: `/api/admin/users/${gone.userId}`,
      headers: admin.headers,
    });
    expect(deleted.statusCode).toBe(204);
    expect(await rows()).toEqual([]);
  });
});

describe("personal chat defaults where no web search engine is configured", () => {
  let model: FakeModelService;
  let services: FakeKnowledge;
  let web: WebHarness;

  beforeAll(async () => {
    model = await startFakeModelService();
    services = await startFakeKnowledgeAndSearch();
    services.noProviders = true;
    web = await startWeb({ modelUrl: model.url, knowledgeUrl: services.url, searchUrl: services.url });
  });
  afterAll(async () => {
    await web?.close();
    await services?.close();
    await model?.close();
  });

  it("takes only off as the web search default, saying why otherwise", async () => {
    const grace = await signUp(web.app, "grace");
    const put = (webSearch: string) =>
      web.app.inject({ method: "PUT", url: PREFERENCES, headers: grace.headers, payload: { webSearch } });
    for (const mode of ["on", "auto"]) {
      const refused = await put(mode);
      expect(refused.statusCode, mode).toBe(400);
      expect(refused.json().error).toMatchObject({
        code: "INVALID_REQUEST",
        details: { issues: [{ path: "webSearch", code: "invalid_value" }] },
      });
      expect(refused.json().error.message).toContain("no web search engine is configured");
    }
    expect((await put("off")).json()).toMatchObject({ webSearch: "off" });
  });
});
