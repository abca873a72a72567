import type { Assistant } from "@hearth/contracts";
import OpenAI from "openai";
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

/** A web service with a model service and a knowledge service stand-in, and helpers over its API. */
function harness(dialect: (typeof dialects)[number] = "sqlite") {
  const state = {} as {
    model: FakeModelService;
    services: FakeKnowledge;
    web: WebHarness;
    url: string;
    admin: Session;
  };
  beforeAll(async () => {
    state.model = await startFakeModelService({ models: ["tiny-story", "big-model"] });
    state.services = await startFakeKnowledgeAndSearch();
    state.web = await startWeb(
      { modelUrl: state.model.url, knowledgeUrl: state.services.url, searchUrl: state.services.url },
      { maxMessageChars: 2000 },
      dialect,
    );
    state.url = await state.web.app.listen({ host: "127.0.0.1", port: 0 });
    state.admin = await signUp(state.web.app, `${dialect}-admin`);
  });
  afterAll(async () => {
    await state.web.close();
    await state.services.close();
    await state.model.close();
  });
  let users = 0;
  const inject = (
    session: Session | undefined,
    method: "GET" | "POST" | "PATCH" | "DELETE" | "PUT",
    url: string,
    payload?: unknown,
  ) =>
    state.web.app.inject({
      method,
      url,
      ...(session ? { headers: session.headers } : {}),
      ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}),
    });
  return {
    state,
    inject,
    newUser: () => signUp(state.web.app, `${dialect}-user-${++users}`),
    create: (session: Session, payload: Record<string, unknown>) =>
      inject(session, "POST", "/api/assistants", payload),
    made: async (session: Session, payload: Record<string, unknown>) => {
      const response = await inject(session, "POST", "/api/assistants", payload);
      expect(response.statusCode, response.body).toBe(201);
      return response.json() as Assistant;
    },
    list: async (session: Session, query = "") => {
      const response = await inject(session, "GET", `/api/assistants${query}`);
      expect(response.statusCode, response.body).toBe(200);
      return response.json() as { assistants: Assistant[]; groups: Array<{ id: string; name: string }> };
    },
    /** A group of these users, made by the administrator. */
    group: async (name: string, members: Session[]) => {
      const group = (await inject(state.admin, "POST", "/api/admin/groups", { name })).json() as {
        id: string;
      };
      const put = await inject(state.admin, "PUT", `/api/admin/groups/${group.id}/members`, {
        userIds: members.map((member) => member.userId),
      });
      expect(put.statusCode, put.body).toBe(200);
      return group.id;
    },
    /** A knowledge base of the session's user holding one text document. */
    baseWith: async (session: Session, name: string, text: string) => {
      const base = (await inject(session, "POST", "/api/knowledge-bases", { name })).json() as { id: string };
      const form = new FormData();
      form.append("file", new Blob([text], { type: "text/plain" }), `${name}.txt`);
      const uploaded = await fetch(`${state.url}/api/knowledge-bases/${base.id}/documents`, {
        method: "POST",
        headers: session.headers,
        body: form,
      });
      expect(uploaded.status).toBe(202);
      return base.id;
    },
  };
}

const error = (response: { statusCode: number; json(): unknown }) => [
  response.statusCode,
  (response.json() as { error: { code: string } }).error.code,
];

describe.each(dialects)("assistants on %s", (dialect) => {
  const h = harness(dialect);

  it("creates, lists, changes and deletes a user's own assistant, audited, its name unique to them", async () => {
    const alice = await h.newUser();
    const bob = await h.newUser();
    const hr = await h.made(alice, {
      name: " HR assistant ",
      description: "Answers leave questions",
      model: "tiny-story",
      systemPrompt: "You answer HR questions.",
      webSearch: "auto",
      temperature: 0.7,
    });
    expect(hr).toMatchObject({
      name: "HR assistant",
      description: "Answers leave questions",
      model: "tiny-story",
      systemPrompt: "You answer HR questions.",
      knowledgeBaseIds: [],
      unavailableKnowledgeBases: 0,
      webSearch: "auto",
      temperature: 0.7,
      visibility: "private",
      groups: [],
      editable: true,
      apiModel: `assistant:${hr.id}`,
    });
    expect(hr.owner.username).toBe(`${dialect}-user-1`);
    // Names are compared as folder names are: case and width aside; another user has it free.
    for (const name of ["hr ASSISTANT", "ＨＲ assistant"]) {
      const taken = await h.create(alice, { name, model: "tiny-story" });
      expect(error(taken), name).toEqual([409, "ASSISTANT_NAME_TAKEN"]);
    }
    await h.made(bob, { name: "HR assistant", model: "tiny-story" });
    expect((await h.list(alice)).assistants.map((a) => a.id)).toEqual([hr.id]);
    // Another user's private assistant is one that never was, whatever they try.
    for (const response of [
      await h.inject(bob, "GET", `/api/assistants/${hr.id}`),
      await h.inject(bob, "PATCH", `/api/assistants/${hr.id}`, { name: "taken over" }),
      await h.inject(bob, "DELETE", `/api/assistants/${hr.id}`),
      await h.inject(bob, "POST", "/api/conversations", { assistantId: hr.id }),
    ]) {
      expect(error(response)).toEqual([404, "ASSISTANT_NOT_FOUND"]);
      expect(response.body).not.toContain("HR questions");
    }
    const changed = await h.inject(alice, "PATCH", `/api/assistants/${hr.id}`, {
      description: "Leave and benefits",
      temperature: null,
      webSearch: "off",
    });
    expect(changed.json()).toMatchObject({
      name: "HR assistant",
      description: "Leave and benefits",
      temperature: null,
      webSearch: "off",
    });
    // An administrator may change (and delete) any.
    const renamed = await h.inject(h.state.admin, "PATCH", `/api/assistants/${hr.id}`, {
      name: "People team",
    });
    expect(renamed.json()).toMatchObject({ name: "People team", editable: true });
    expect((await h.inject(alice, "DELETE", `/api/assistants/${hr.id}`)).statusCode).toBe(204);
    expect(error(await h.inject(alice, "GET", `/api/assistants/${hr.id}`))).toEqual([
      404,
      "ASSISTANT_NOT_FOUND",
    ]);
    const audit = (await h.inject(h.state.admin, "GET", `/api/admin/audit?limit=50`)).json() as {
      entries: Array<{ action: string; target: string | null; details: Record<string, unknown> | null }>;
    };
    expect(
      audit.entries
        .filter((entry) => entry.target === hr.id)
        .map((entry) => [entry.action, entry.details?.name])
        .reverse(),
    ).toEqual([
      ["assistant.create", "HR assistant"],
      ["assistant.change", "HR assistant"],
      ["assistant.change", "People team"],
      ["assistant.delete", "People team"],
    ]);
  });

  it("shares with groups as knowledge bases are: members list and use it, never change it; public for everyone", async () => {
    const owner = await h.newUser();
    const member = await h.newUser();
    const outsider = await h.newUser();
    const hrGroup = await h.group(`${dialect}-hr`, [member]);
    const shared = await h.made(owner, {
      name: "Shared",
      model: "tiny-story",
      visibility: "shared",
      groupIds: [hrGroup],
    });
    expect(shared.groups).toEqual([{ id: hrGroup, name: `${dialect}-hr` }]);
    const everyone = await h.made(owner, { name: "Everyone", model: "tiny-story", visibility: "public" });
    expect((await h.list(member)).assistants.map((a) => [a.name, a.editable])).toEqual([
      ["Everyone", false],
      ["Shared", false],
    ]);
    expect((await h.list(outsider)).assistants.map((a) => a.name)).toEqual(["Everyone"]);
    expect(error(await h.inject(outsider, "GET", `/api/assistants/${shared.id}`))).toEqual([
      404,
      "ASSISTANT_NOT_FOUND",
    ]);
    // A member may use it, not change it: said so (it is no secret to them).
    expect(error(await h.inject(member, "PATCH", `/api/assistants/${shared.id}`, { name: "Mine" }))).toEqual([
      403,
      "FORBIDDEN",
    ]);
    expect(error(await h.inject(member, "DELETE", `/api/assistants/${everyone.id}`))).toEqual([
      403,
      "FORBIDDEN",
    ]);
    // Taken back to private: the member no longer sees it.
    const back = await h.inject(owner, "PATCH", `/api/assistants/${shared.id}`, { visibility: "private" });
    expect(back.json()).toMatchObject({ visibility: "private", groups: [] });
    expect((await h.list(member)).assistants.map((a) => a.name)).toEqual(["Everyone"]);
    // A change that would leave it shared with no group, or name groups it is not shared with, is
    // refused with the field named, as on creation, and changes nothing.
    for (const [id, payload] of [
      [shared.id, { visibility: "shared" }],
      [shared.id, { groupIds: [hrGroup] }],
      [everyone.id, { groupIds: [hrGroup] }],
    ] as const) {
      const refused = await h.inject(owner, "PATCH", `/api/assistants/${id}`, payload);
      expect(error(refused), JSON.stringify(payload)).toEqual([400, "INVALID_REQUEST"]);
      expect(refused.body).toContain("groupIds");
    }
    expect((await h.inject(owner, "GET", `/api/assistants/${shared.id}`)).json()).toMatchObject({
      visibility: "private",
      groups: [],
    });
    expect((await h.inject(owner, "GET", `/api/assistants/${everyone.id}`)).json()).toMatchObject({
      visibility: "public",
      groups: [],
    });
    // Shared again with its group; then its groups alone may change, but not to none.
    const again = await h.inject(owner, "PATCH", `/api/assistants/${shared.id}`, {
      visibility: "shared",
      groupIds: [hrGroup],
    });
    expect(again.json()).toMatchObject({ visibility: "shared", groups: [{ id: hrGroup }] });
    expect(error(await h.inject(owner, "PATCH", `/api/assistants/${shared.id}`, { groupIds: [] }))).toEqual([
      400,
      "INVALID_REQUEST",
    ]);
    await h.inject(owner, "PATCH", `/api/assistants/${shared.id}`, { visibility: "private" });
    // A group deleted: an assistant shared with it alone becomes private, never wider.
    const onlyThem = await h.group(`${dialect}-temporary`, [member]);
    const teamOnly = await h.made(owner, {
      name: "Team only",
      model: "tiny-story",
      visibility: "shared",
      groupIds: [onlyThem],
    });
    expect((await h.list(member)).assistants.map((a) => a.name)).toContain("Team only");
    expect((await h.inject(h.state.admin, "DELETE", `/api/admin/groups/${onlyThem}`)).statusCode).toBe(204);
    expect((await h.inject(owner, "GET", `/api/assistants/${teamOnly.id}`)).json()).toMatchObject({
      visibility: "private",
      groups: [],
    });
    expect((await h.list(member)).assistants.map((a) => a.name)).toEqual(["Everyone"]);
    // Every user's assistants are for administrators alone to list.
    expect(error(await h.inject(member, "GET", "/api/assistants?all=true"))).toEqual([403, "ADMIN_REQUIRED"]);
    expect((await h.list(h.state.admin, "?all=true")).assistants.map((a) => a.id)).toEqual(
      expect.arrayContaining([shared.id, everyone.id]),
    );
  });

  it("lets its editor take out a knowledge base deleted since, which no one can read any more", async () => {
    const owner = await h.newUser();
    const base = (
      await h.inject(owner, "POST", "/api/knowledge-bases", { name: `${dialect}-old-handbook` })
    ).json() as {
      id: string;
    };
    const assistant = await h.made(owner, {
      name: "Handbook",
      model: "tiny-story",
      knowledgeBaseIds: [base.id],
    });
    expect((await h.inject(owner, "DELETE", `/api/knowledge-bases/${base.id}`)).statusCode).toBe(204);
    // Gone: not readable, so counted among the unavailable ones (its chats say one was left out) …
    expect((await h.inject(owner, "GET", `/api/assistants/${assistant.id}`)).json()).toMatchObject({
      knowledgeBaseIds: [],
      unavailableKnowledgeBases: 1,
    });
    // … until the owner saves its bases: a deleted one is not kept as another's unreadable one is.
    const saved = await h.inject(owner, "PATCH", `/api/assistants/${assistant.id}`, { knowledgeBaseIds: [] });
    expect(saved.json()).toMatchObject({ knowledgeBaseIds: [], unavailableKnowledgeBases: 0 });
  });

  it("keeps the bases its editor may no longer read when they change the others, and answers a change as it reads after", async () => {
    const owner = await h.newUser();
    const sharer = await h.newUser();
    const team = await h.group(`${dialect}-lent`, [owner]);
    const lent = (
      await h.inject(sharer, "POST", "/api/knowledge-bases", { name: `${dialect}-lent` })
    ).json() as {
      id: string;
    };
    const share = await h.inject(sharer, "PUT", `/api/knowledge-bases/${lent.id}/access`, {
      visibility: "shared",
      shares: [{ groupId: team, permission: "read" }],
    });
    expect(share.statusCode, share.body).toBe(200);
    const own = (
      await h.inject(owner, "POST", "/api/knowledge-bases", { name: `${dialect}-own` })
    ).json() as {
      id: string;
    };
    const later = (
      await h.inject(owner, "POST", "/api/knowledge-bases", { name: `${dialect}-later` })
    ).json() as {
      id: string;
    };
    const assistant = await h.made(owner, {
      name: "Lent bases",
      model: "tiny-story",
      knowledgeBaseIds: [lent.id, own.id],
    });
    await h.inject(sharer, "PUT", `/api/knowledge-bases/${lent.id}/access`, {
      visibility: "private",
      shares: [],
    });
    const changed = await h.inject(owner, "PATCH", `/api/assistants/${assistant.id}`, {
      knowledgeBaseIds: [later.id, own.id, later.id],
      temperature: 0.4,
    });
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.json()).toMatchObject({
      knowledgeBaseIds: [later.id, own.id],
      unavailableKnowledgeBases: 1,
      temperature: 0.4,
    });
    expect((await h.inject(owner, "GET", `/api/assistants/${assistant.id}`)).json()).toEqual(changed.json());
    // A repeated base counts once, towards the limit of 20 too.
    const repeated = await h.made(owner, {
      name: "One base, 21 times",
      model: "tiny-story",
      knowledgeBaseIds: Array.from({ length: 21 }, () => own.id),
    });
    expect(repeated.knowledgeBaseIds).toEqual([own.id]);
    // Shared again, the base kept is the owner's to see once more.
    await h.inject(sharer, "PUT", `/api/knowledge-bases/${lent.id}/access`, {
      visibility: "shared",
      shares: [{ groupId: team, permission: "read" }],
    });
    expect((await h.inject(owner, "GET", `/api/assistants/${assistant.id}`)).json()).toMatchObject({
      knowledgeBaseIds: [later.id, own.id, lent.id],
      unavailableKnowledgeBases: 0,
    });
  });

  it("goes with its owner's account; a chat started with it stays its user's, as it was", async () => {
    const leaving = await h.newUser();
    const member = await h.newUser();
    const gone = await h.made(leaving, {
      name: "Leaving",
      model: "tiny-story",
      systemPrompt: "Be kind.",
      visibility: "public",
    });
    const chat = (await h.inject(member, "POST", "/api/conversations", { assistantId: gone.id })).json() as {
      id: string;
    };
    const deleted = await h.inject(h.state.admin, "DELETE", `/api/admin/users/${leaving.userId}`);
    expect(deleted.statusCode, deleted.body).toBe(204);
    expect(error(await h.inject(h.state.admin, "GET", `/api/assistants/${gone.id}`))).toEqual([
      404,
      "ASSISTANT_NOT_FOUND",
    ]);
    expect((await h.inject(member, "GET", `/api/conversations/${chat.id}`)).json()).toMatchObject({
      assistant: { id: gone.id, name: "Leaving" },
      systemPrompt: "Be kind.",
    });
  });

  it("refuses bad bodies with the field named, unknown groups, other users' bases, disallowed models and blocked words", async () => {
    const alice = await h.newUser();
    for (const [payload, field] of [
      [{ model: "tiny-story" }, "name"],
      [{ name: "x".repeat(101), model: "tiny-story" }, "name"],
      [{ name: "ok" }, "model"],
      [{ name: "ok", model: "tiny-story", webSearch: "always" }, "webSearch"],
      [{ name: "ok", model: "tiny-story", temperature: 3 }, "temperature"],
      [{ name: "ok", model: "tiny-story", visibility: "shared" }, "groupIds"],
      [{ name: "ok", model: "tiny-story", visibility: "public", groupIds: ["no-such-group"] }, "groupIds"],
      [{ name: "ok", model: "tiny-story", systemPrompt: "x".repeat(2001) }, "systemPrompt"],
      [{ name: "ok", model: "tiny-story", owner: "someone" }, undefined],
    ] as const) {
      const response = await h.create(alice, payload);
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      if (field) expect(response.body, JSON.stringify(payload)).toContain(field);
    }
    const noGroup = await h.create(alice, {
      name: "ok",
      model: "tiny-story",
      visibility: "shared",
      groupIds: ["no-such-group"],
    });
    expect(error(noGroup)).toEqual([404, "GROUP_NOT_FOUND"]);
    const bob = await h.newUser();
    const secret = await h.baseWith(bob, `${dialect}-secret-base`, "Bob's secret salary table.");
    const othersBase = await h.create(alice, { name: "ok", model: "tiny-story", knowledgeBaseIds: [secret] });
    expect(error(othersBase)).toEqual([404, "KNOWLEDGE_BASE_NOT_FOUND"]);
    // A model the user's groups may not use is not theirs to build on either.
    const closed = await h.group(`${dialect}-closed`, []);
    await h.inject(h.state.admin, "PUT", "/api/admin/models/big-model/access", { groupIds: [closed] });
    expect(error(await h.create(alice, { name: "big", model: "big-model" }))).toEqual([
      403,
      "MODEL_NOT_ALLOWED",
    ]);
    await h.inject(h.state.admin, "PUT", "/api/admin/models/big-model/access", { groupIds: [] });
    await setFilterWords(h.state.web.app, h.state.admin, ["forbiddenword"]);
    try {
      for (const field of ["name", "description", "systemPrompt"]) {
        const blocked = await h.create(alice, {
          name: "ok",
          model: "tiny-story",
          [field]: "a forbiddenword here",
        });
        expect(error(blocked), field).toEqual([422, "CONTENT_BLOCKED"]);
      }
      const mine = await h.made(alice, { name: "clean", model: "tiny-story" });
      const patched = await h.inject(alice, "PATCH", `/api/assistants/${mine.id}`, {
        systemPrompt: "say forbiddenword",
      });
      expect(error(patched)).toEqual([422, "CONTENT_BLOCKED"]);
      expect((await h.inject(alice, "PATCH", `/api/assistants/${mine.id}`, {})).statusCode).toBe(400);
    } finally {
      await setFilterWords(h.state.web.app, h.state.admin, []);
    }
    // Nothing refused was stored (the public one is another user's, from the test before).
    expect(
      (await h.list(alice)).assistants.filter((a) => a.owner.id === alice.userId).map((a) => a.name),
    ).toEqual(["clean"]);
  });
});

describe("using an assistant: never more than the user's own rights", () => {
  const h = harness();
  const cited = (parts: Array<Record<string, unknown>>) =>
    (parts.find((part) => part.type === "sources")?.citations as Array<{ title: string }> | undefined)?.map(
      (citation) => citation.title,
    ) ?? [];

  it("starts a chat with the assistant's settings and searches only the bases the user may read", async () => {
    const owner = await h.newUser();
    const member = await h.newUser();
    const hrGroup = await h.group("hr", [member]);
    const handbook = await h.baseWith(owner, "handbook", "Employees get 25 vacation days per year.");
    const payroll = await h.baseWith(owner, "payroll-secrets", "The CEO earns 900000 a year.");
    // The handbook is shared with HR; payroll is the owner's alone.
    const access = await h.inject(owner, "PUT", `/api/knowledge-bases/${handbook}/access`, {
      visibility: "shared",
      shares: [{ groupId: hrGroup, permission: "read" }],
    });
    expect(access.statusCode, access.body).toBe(200);
    const assistant = await h.made(owner, {
      name: "HR assistant",
      model: "tiny-story",
      systemPrompt: "You answer HR questions.",
      knowledgeBaseIds: [handbook, payroll],
      webSearch: "off",
      temperature: 0.3,
      visibility: "shared",
      groupIds: [hrGroup],
    });
    // The member sees the base they may read, and only a count of the other.
    const seen = (await h.inject(member, "GET", `/api/assistants/${assistant.id}`)).json() as Assistant;
    expect(seen).toMatchObject({ knowledgeBaseIds: [handbook], unavailableKnowledgeBases: 1 });
    expect(JSON.stringify(seen)).not.toContain("payroll");

    const created = await h.inject(member, "POST", "/api/conversations", { assistantId: assistant.id });
    expect(created.statusCode, created.body).toBe(201);
    const conversation = created.json() as {
      id: string;
      model: string;
      systemPrompt: string;
      assistant: { id: string; name: string };
      knowledgeBaseIds: string[];
      webSearch: string;
    };
    expect(conversation).toMatchObject({
      model: "tiny-story",
      systemPrompt: "You answer HR questions.",
      assistant: { id: assistant.id, name: "HR assistant" },
      webSearch: "off",
    });
    const response = await fetch(`${h.state.url}/api/conversations/${conversation.id}/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", ...member.headers },
      body: JSON.stringify({
        model: conversation.model,
        content: "How many vacation days do we get, and what does the CEO earn?",
        // The page chooses the bases the user sees (the assistant's, as they read it).
        knowledgeBaseIds: seen.knowledgeBaseIds,
        search: conversation.webSearch,
      }),
    });
    expect(response.status).toBe(200);
    const body = await response.text();
    const parts = parseSse(body);
    // Grounded in the handbook; payroll left out, the answer saying so by id, never by name or content.
    expect(cited(parts)).toEqual(["handbook.txt"]);
    expect(parts.filter((part) => part.type === "warning")).toEqual([
      { type: "warning", code: "knowledge-unavailable", knowledgeBaseIds: [payroll] },
    ]);
    expect(body).not.toContain("payroll-secrets");
    expect(body).not.toContain("900000");
    const sent = h.state.model.requests.at(-1)! as FakeModelService["requests"][number] & {
      temperature?: number;
    };
    expect(sent.messages.map((m) => m.content).join("\n")).not.toContain("900000");
    expect(sent.messages.find((m) => m.content === "You answer HR questions.")?.role).toBe("system");
    expect(sent.temperature).toBe(0.3);
    expect(h.state.services.queries.at(-1)!.knowledgeBaseIds).toEqual([handbook]);

    // Deleted later, the assistant leaves the conversation working with what it had.
    expect((await h.inject(owner, "DELETE", `/api/assistants/${assistant.id}`)).statusCode).toBe(204);
    const kept = (await h.inject(member, "GET", `/api/conversations/${conversation.id}`)).json() as Record<
      string,
      unknown
    >;
    expect(kept).toMatchObject({
      assistant: { id: assistant.id, name: "HR assistant" },
      systemPrompt: "You answer HR questions.",
      temperature: 0.3,
    });
    const again = await fetch(`${h.state.url}/api/conversations/${conversation.id}/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", ...member.headers },
      body: JSON.stringify({ model: "tiny-story", content: "And sick days?", knowledgeBaseIds: [handbook] }),
    });
    expect(again.status).toBe(200);
    const next = parseSse(await again.text());
    expect(cited(next)).toEqual(["handbook.txt"]);
    expect(next.filter((part) => part.type === "warning")).toEqual([
      { type: "warning", code: "knowledge-unavailable", knowledgeBaseIds: [payroll] },
    ]);
  });

  it("refuses a chat with an assistant whose base model the user's groups may not use", async () => {
    const owner = await h.newUser();
    const other = await h.newUser();
    const bigGroup = await h.group("big-model-users", [owner]);
    await h.inject(h.state.admin, "PUT", "/api/admin/models/big-model/access", { groupIds: [bigGroup] });
    const assistant = await h.made(owner, { name: "Big", model: "big-model", visibility: "public" });
    expect(error(await h.inject(other, "POST", "/api/conversations", { assistantId: assistant.id }))).toEqual(
      [403, "MODEL_NOT_ALLOWED"],
    );
    // Nor through the public API, where it is not even listed.
    const client = new OpenAI({
      apiKey: await createApiKey(h.state.web.app, other),
      baseURL: `${h.state.url}/v1`,
      maxRetries: 0,
    });
    expect((await client.models.list()).data.map((m) => m.id)).not.toContain(assistant.apiModel);
    const refused = await client.chat.completions
      .create({ model: assistant.apiModel, messages: [{ role: "user", content: "hi" }] })
      .catch((caught: unknown) => caught);
    expect(refused).toBeInstanceOf(OpenAI.APIError);
    expect((refused as InstanceType<typeof OpenAI.APIError>).status).toBe(403);
    // The owner, in the group, starts one.
    expect(
      (await h.inject(owner, "POST", "/api/conversations", { assistantId: assistant.id })).statusCode,
    ).toBe(201);
  });
});

describe("assistants over the public API, with the openai client", () => {
  const h = harness();

  it("lists the assistants the key's user may use as models and applies one to a chat", async () => {
    const owner = await h.newUser();
    const user = await h.newUser();
    const stranger = await h.newUser();
    const team = await h.group("support", [user]);
    const manual = await h.baseWith(
      owner,
      "manual",
      "Reset the router by holding the button for 10 seconds.",
    );
    const notes = await h.baseWith(owner, "private-notes", "Internal escalation phone: 555-0100.");
    await h.inject(owner, "PUT", `/api/knowledge-bases/${manual}/access`, {
      visibility: "public",
      shares: [],
    });
    const assistant = await h.made(owner, {
      name: "Support bot",
      model: "tiny-story",
      systemPrompt: "You are the support desk.",
      knowledgeBaseIds: [manual, notes],
      temperature: 0.2,
      visibility: "shared",
      groupIds: [team],
    });
    await h.made(owner, { name: "Owner only", model: "tiny-story" });
    const client = new OpenAI({
      apiKey: await createApiKey(h.state.web.app, user),
      baseURL: `${h.state.url}/v1`,
      maxRetries: 0,
    });
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(["tiny-story", "big-model", `assistant:${assistant.id}`]);
    expect(await client.models.retrieve(`assistant:${assistant.id}`)).toMatchObject({
      id: `assistant:${assistant.id}`,
      object: "model",
      owned_by: assistant.owner.username,
      // An assistant chats.
      capabilities: ["completion"],
    });

    const answer = (await client.chat.completions.create({
      model: `assistant:${assistant.id}`,
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "How do I reset the router?" },
      ],
    })) as OpenAI.Chat.Completions.ChatCompletion & {
      hearth?: {
        citations: Array<{ title: string }>;
        warnings?: string[];
        warningDetails?: Record<string, unknown>;
      };
    };
    expect(answer.choices[0]?.message.content).toContain("reset the router");
    expect(answer.hearth?.citations.map((c) => c.title)).toEqual(["manual.txt"]);
    expect(answer.hearth?.warnings).toEqual(["knowledge-unavailable"]);
    expect(answer.hearth?.warningDetails).toEqual({ "knowledge-unavailable": { knowledgeBaseIds: [notes] } });
    expect(JSON.stringify(answer)).not.toContain("555-0100");
    const sent = h.state.model.requests.at(-1)! as FakeModelService["requests"][number] & {
      temperature?: number;
    };
    expect(sent.model).toBe("tiny-story");
    expect(sent.temperature).toBe(0.2);
    // The assistant's system prompt first, then the client's; the private notes never sent.
    const systems = sent.messages.filter((m) => m.role === "system").map((m) => m.content);
    expect(systems.slice(-2)).toEqual(["You are the support desk.", "Be brief."]);
    expect(sent.messages.map((m) => m.content).join("\n")).not.toContain("555-0100");

    // Streamed too; a temperature the client gives is its own.
    const stream = await client.chat.completions.create({
      model: `assistant:${assistant.id}`,
      messages: [{ role: "user", content: "hello stream" }],
      temperature: 1,
      stream: true,
    });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
    expect(text).toContain("hello stream");
    expect((h.state.model.requests.at(-1) as { temperature?: number }).temperature).toBe(1);

    // Another user's assistant not shared with them is one that never was.
    const strangerClient = new OpenAI({
      apiKey: await createApiKey(h.state.web.app, stranger),
      baseURL: `${h.state.url}/v1`,
      maxRetries: 0,
    });
    expect((await strangerClient.models.list()).data.map((m) => m.id)).toEqual(["tiny-story", "big-model"]);
    const refused = await strangerClient.chat.completions
      .create({ model: `assistant:${assistant.id}`, messages: [{ role: "user", content: "hi" }] })
      .catch((caught: unknown) => caught);
    expect((refused as InstanceType<typeof OpenAI.APIError>).status).toBe(404);
    expect((refused as InstanceType<typeof OpenAI.APIError>).code).toBe("ASSISTANT_NOT_FOUND");
  });
});
