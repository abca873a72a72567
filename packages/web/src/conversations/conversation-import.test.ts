import { strToU8, type Zippable, zipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeModelService, startFakeModelService } from "../../test/support/fake-model-service.js";
import { type Session, setFilterWords, signUp } from "../../test/support/web-client.js";
import { dialects, startWeb, type WebHarness } from "../../test/support/web-harness.js";
import { ConversationStore } from "./conversation-store.js";

/** The limits this file's service runs with: small, so that going over them takes little. */
const MAX_MESSAGE_CHARS = 2_000;
const IMPORT_LIMIT_BYTES = 256 * 1024;

interface Conversation {
  id: string;
  title: string;
  model: string | null;
  systemPrompt: string | null;
  createdAt: string;
  updatedAt: string;
  messages: Array<{
    id: string;
    role: string;
    content: string;
    reasoning: string | null;
    status: string;
    model: string | null;
    citations: unknown[];
    finishReason?: string | null;
    createdAt: string;
  }>;
}

interface Answer {
  format: string;
  imported: number;
  skipped: number;
  conversations: Array<{ id: string; title: string }>;
  skippedConversations: Array<{ index: number; title: string | null; reason: string }>;
}

/** A ChatGPT node: a message under `parent`, with `children`. */
const node = (
  id: string,
  parent: string | null,
  children: string[],
  message: Record<string, unknown> | null,
) => ({ id, parent, children, message: message && { id, ...message } });

/** A ChatGPT message by `role`, its content parts as given. */
const said = (role: string, parts: unknown[], extra: Record<string, unknown> = {}) => ({
  author: { role, name: null, metadata: {} },
  create_time: 1_700_000_000 + parts.length,
  content: { content_type: "text", parts },
  status: "finished_successfully",
  recipient: "all",
  metadata: {},
  ...extra,
});

/**
 * A ChatGPT export conversation whose first question was answered twice (regenerated): the second
 * answer is the thread shown (`current_node`). Around it, what the export holds and a reader never
 * saw: a system message, a hidden context message, a call to a tool and the tool's output, an
 * image, an empty message.
 */
const chatgptConversation = {
  title: "Bread at altitude",
  create_time: 1_700_000_000.25,
  update_time: 1_700_000_900.5,
  current_node: "a2-followup",
  default_model_slug: "gpt-4o",
  mapping: {
    root: node("root", null, ["sys"], null),
    sys: node(
      "sys",
      "root",
      ["ctx"],
      said("system", [""], { metadata: { is_visually_hidden_from_conversation: true } }),
    ),
    ctx: node("ctx", "sys", ["u1"], {
      ...said("user", ["Custom instructions"]),
      content: { content_type: "user_editable_context", user_profile: "x" },
      metadata: { is_visually_hidden_from_conversation: true },
    }),
    u1: node("u1", "ctx", ["a1", "a2"], {
      ...said("user", ["How long does bread rise at 2000 m?"]),
      create_time: 1_700_000_100,
    }),
    a1: node("a1", "u1", [], {
      ...said("assistant", ["The first answer, regenerated away."]),
      metadata: { model_slug: "gpt-4" },
    }),
    a2: node("a2", "u1", ["a2-tool-call"], {
      ...said("assistant", ["Less time: about two thirds."]),
      create_time: 1_700_000_200,
      metadata: { model_slug: "gpt-4o" },
    }),
    "a2-tool-call": node("a2-tool-call", "a2", ["a2-tool"], {
      ...said("assistant", ["search('altitude baking')"]),
      content: { content_type: "code", language: "unknown", text: "search('altitude baking')" },
      recipient: "browser",
    }),
    "a2-tool": node("a2-tool", "a2-tool-call", ["a2-image"], said("tool", ["results..."])),
    "a2-image": node("a2-image", "a2-tool", ["a2-empty"], {
      ...said("user", [
        { content_type: "image_asset_pointer", asset_pointer: "file-service://x" },
        "And this loaf?",
      ]),
      content: {
        content_type: "multimodal_text",
        parts: [{ content_type: "image_asset_pointer", asset_pointer: "file-service://x" }, "And this loaf?"],
      },
      create_time: 1_700_000_300,
    }),
    "a2-empty": node("a2-empty", "a2-image", ["a2-followup"], said("assistant", [""])),
    "a2-followup": node("a2-followup", "a2-empty", [], {
      ...said("assistant", ["It rose well."]),
      create_time: 1_700_000_400,
      metadata: { model_slug: "gpt-4o" },
    }),
  },
};

/** An Open WebUI message in its history tree. */
const owui = (
  id: string,
  parentId: string | null,
  childrenIds: string[],
  role: string,
  content: string,
  timestamp: number,
  model?: string,
) => ({ id, parentId, childrenIds, role, content, timestamp, ...(model ? { model, models: [model] } : {}) });

/**
 * An Open WebUI export: one chat whose question was edited (two branches; currentId is the edited
 * one's answer), its own system prompt; and an older one with chat.messages and no history.
 */
const openWebUiExport = [
  {
    id: "owui-1",
    user_id: "someone-else",
    title: "Tea brewing",
    created_at: 1_710_000_000,
    updated_at: 1_710_000_500,
    chat: {
      id: "",
      title: "Tea brewing",
      models: ["llama3:8b"],
      params: { system: "Answer briefly." },
      messages: [
        owui("m1", null, ["m2"], "user", "How hot for green tea?", 1_710_000_010),
        owui("m2", "m1", [], "assistant", "Boiling.", 1_710_000_020, "llama3:8b"),
      ],
      history: {
        currentId: "m4",
        messages: {
          m1: owui("m1", null, ["m2"], "user", "How hot for green tea?", 1_710_000_010),
          m2: owui("m2", "m1", [], "assistant", "Boiling.", 1_710_000_020, "llama3:8b"),
          m3: owui("m3", null, ["m4"], "user", "How hot for green tea, in °C?", 1_710_000_100),
          m4: owui("m4", "m3", [], "assistant", "About 80 °C.", 1_710_000_110, "qwen2.5:7b"),
        },
      },
      timestamp: 1_710_000_000_000,
    },
  },
  {
    id: "owui-2",
    title: "Old chat",
    created_at: 1_700_500_000,
    updated_at: 1_700_500_100,
    chat: {
      title: "Old chat",
      messages: [
        { role: "user", content: "Hello", timestamp: 1_700_500_010 },
        { role: "assistant", content: "Hi there", timestamp: 1_700_500_020, model: "mistral" },
      ],
    },
  },
];

describe.each(dialects)("conversation import on %s", (dialect) => {
  let model: FakeModelService;
  let web: WebHarness;
  let alice: Session;
  let bob: Session;

  beforeAll(async () => {
    model = await startFakeModelService({ models: ["tiny-story"] });
    web = await startWeb(
      { modelUrl: model.url },
      { maxMessageChars: MAX_MESSAGE_CHARS, importLimitBytes: IMPORT_LIMIT_BYTES },
      dialect,
    );
    alice = await signUp(web.app, "alice");
    bob = await signUp(web.app, "bob");
  });
  afterAll(async () => {
    await web?.close();
    await model?.close();
  });

  const importFile = (session: Session, body: unknown) =>
    web.app.inject({
      method: "POST",
      url: "/api/conversations/import",
      headers: { ...session.headers, "content-type": "application/json" },
      payload: typeof body === "string" ? body : JSON.stringify(body),
    });
  const get = async (session: Session, id: string) =>
    (
      await web.app.inject({ url: `/api/conversations/${id}`, headers: session.headers })
    ).json() as Conversation;
  const listIds = async (session: Session) =>
    (
      (await web.app.inject({ url: "/api/conversations", headers: session.headers })).json() as {
        conversations: Array<{ id: string }>;
      }
    ).conversations.map((c) => c.id);

  it("keeps why the model ended an answer through Hearth's export and import: one cut off at the length limit says so", async () => {
    const store = new ConversationStore(web.db);
    const original = await store.create(alice.userId, { title: "A long story" });
    await store.append(original.id, { role: "user", content: "Tell it all", status: "done", model: null });
    const answer = await store.append(original.id, {
      role: "assistant",
      content: "",
      status: "streaming",
      model: "tiny-story",
    });
    await store.finishMessage(answer.id, {
      content: "Once upon a",
      reasoning: null,
      status: "done",
      finishReason: "length",
    });
    const exported = await web.app.inject({
      url: `/api/conversations/${original.id}/export?format=json`,
      headers: alice.headers,
    });
    expect(
      (exported.json() as { messages: Array<{ finishReason: string | null }> }).messages.at(-1),
    ).toMatchObject({ finishReason: "length" });
    const imported = (await importFile(alice, exported.body)).json() as Answer;
    const copy = await get(alice, imported.conversations[0]!.id);
    expect(copy.messages.map((m) => m.finishReason)).toEqual([null, "length"]);
  });

  it("imports Hearth's own JSON export as the same conversation (one, or an array of them)", async () => {
    const store = new ConversationStore(web.db);
    const original = await store.create(alice.userId, {
      title: "行政诉讼",
      model: "qwen2.5:7b",
      systemPrompt: "Cite the law.",
    });
    await store.append(original.id, {
      role: "user",
      content: "诉讼时效是多久？",
      status: "done",
      model: null,
    });
    await store.append(original.id, {
      role: "assistant",
      content: "一般为六个月 [1]。",
      reasoning: "Look it up.",
      status: "stopped",
      model: "qwen2.5:7b",
      citations: [
        {
          n: 1,
          kind: "document",
          title: "行政诉讼法.pdf",
          url: "/api/knowledge-bases/b1/documents/d1/file#page=3",
          snippet: "六个月",
        },
        { n: 2, kind: "web", title: "Law", url: "https://example.org/law" },
        {
          n: 3,
          kind: "document",
          title: "附件 一.docx",
          url: "/api/knowledge-bases/b%201/documents/d%E4%B8%80/file",
        },
      ],
    });
    const exported = await web.app.inject({
      url: `/api/conversations/${original.id}/export?format=json`,
      headers: alice.headers,
    });
    const file = exported.json() as Conversation;

    const single = await importFile(alice, exported.body);
    expect(single.statusCode).toBe(200);
    const answer = single.json() as Answer;
    expect(answer).toMatchObject({ format: "hearth", imported: 1, skipped: 0, skippedConversations: [] });
    const copy = await get(alice, answer.conversations[0]!.id);
    expect(copy.id).not.toBe(original.id);
    expect(copy).toMatchObject({
      title: "行政诉讼",
      model: "qwen2.5:7b",
      systemPrompt: "Cite the law.",
      createdAt: file.createdAt,
      updatedAt: file.updatedAt,
    });
    const kept = (messages: Conversation["messages"]) =>
      messages.map(({ role, content, reasoning, status, model, citations, createdAt }) => ({
        role,
        content,
        reasoning,
        status,
        model,
        citations,
        createdAt,
      }));
    // The export's links are absolute (its origin's), for programs reading it.
    expect(file.messages[1]!.citations[0]).toMatchObject({
      url: expect.stringMatching(/^http:\/\/.+\/api\/knowledge-bases\/b1\/documents\/d1\/file#page=3$/),
    });
    // Imported, a knowledge document's link is this site's path again, as the original's was (so
    // the page opens its passage in place); the web page's stays as it was.
    const stored = await store.messages(alice.userId, original.id);
    expect(kept(copy.messages)).toEqual(kept(stored as unknown as Conversation["messages"]));
    expect(copy.messages[1]!.citations.map((citation) => (citation as { url: string }).url)).toEqual([
      "/api/knowledge-bases/b1/documents/d1/file#page=3",
      "https://example.org/law",
      "/api/knowledge-bases/b%201/documents/d%E4%B8%80/file",
    ]);

    const several = (await importFile(alice, [file, { ...file, title: "Second copy" }])).json() as Answer;
    expect(several.conversations.map((c) => c.title)).toEqual(["行政诉讼", "Second copy"]);
  });

  it("reads a knowledge citation's link from any site as this site's document path; other links as written", async () => {
    const answer = (
      await importFile(alice, {
        title: "From another Hearth",
        messages: [
          { role: "user", content: "What does the manual say?" },
          {
            role: "assistant",
            content: "See [1], [2], [3] and [4].",
            citations: [
              {
                n: 1,
                kind: "document",
                title: "manual.pdf",
                url: "https://hearth.example.com:8443/api/knowledge-bases/kb-9/documents/doc-9/file#page=12",
                snippet: "Chapter one",
              },
              {
                n: 2,
                kind: "document",
                title: "elsewhere.pdf",
                url: "https://files.example.com/manual.pdf",
              },
              {
                n: 3,
                kind: "web",
                title: "A page",
                url: "https://hearth.example.com/api/knowledge-bases/kb-9/documents/doc-9/file",
              },
              {
                n: 4,
                kind: "document",
                title: "asked.pdf",
                url: "https://hearth.example.com/api/knowledge-bases/kb-9/documents/doc-9/file?download=1",
              },
            ],
          },
        ],
      })
    ).json() as Answer;
    expect(answer.imported).toBe(1);
    const copy = await get(alice, answer.conversations[0]!.id);
    expect(copy.messages[1]!.citations).toEqual([
      {
        n: 1,
        kind: "document",
        title: "manual.pdf",
        url: "/api/knowledge-bases/kb-9/documents/doc-9/file#page=12",
        snippet: "Chapter one",
      },
      { n: 2, kind: "document", title: "elsewhere.pdf", url: "https://files.example.com/manual.pdf" },
      {
        n: 3,
        kind: "web",
        title: "A page",
        url: "https://hearth.example.com/api/knowledge-bases/kb-9/documents/doc-9/file",
      },
      {
        n: 4,
        kind: "document",
        title: "asked.pdf",
        url: "https://hearth.example.com/api/knowledge-bases/kb-9/documents/doc-9/file?download=1",
      },
    ]);
  });

  it("imports the thread ChatGPT showed: from current_node back to the root, text only", async () => {
    const response = await importFile(alice, [chatgptConversation]);
    expect(response.statusCode).toBe(200);
    const answer = response.json() as Answer;
    expect(answer).toMatchObject({ format: "chatgpt", imported: 1, skipped: 0 });
    const copy = await get(alice, answer.conversations[0]!.id);
    expect(copy).toMatchObject({
      title: "Bread at altitude",
      model: "gpt-4o",
      systemPrompt: null,
      createdAt: "2023-11-14T22:13:20.250Z",
    });
    expect(copy.messages.map((m) => [m.role, m.content, m.model, m.createdAt])).toEqual([
      ["user", "How long does bread rise at 2000 m?", null, "2023-11-14T22:15:00.000Z"],
      ["assistant", "Less time: about two thirds.", "gpt-4o", "2023-11-14T22:16:40.000Z"],
      ["user", "And this loaf?", null, "2023-11-14T22:18:20.000Z"],
      ["assistant", "It rose well.", "gpt-4o", "2023-11-14T22:20:00.000Z"],
    ]);
    // The conversation's latest activity is its last message's.
    expect(copy.updatedAt).toBe("2023-11-14T22:20:00.000Z");

    // Without current_node: from the root along the latest reply each time (the regenerated answer).
    const { current_node: _, ...withoutCurrent } = chatgptConversation;
    const latest = (await importFile(alice, [withoutCurrent])).json() as Answer;
    const latestCopy = await get(alice, latest.conversations[0]!.id);
    expect(latestCopy.messages.map((m) => m.content)).toEqual([
      "How long does bread rise at 2000 m?",
      "Less time: about two thirds.",
      "And this loaf?",
      "It rose well.",
    ]);
  });

  it("imports Open WebUI's export along history.currentId's branch, else chat.messages", async () => {
    const response = await importFile(alice, openWebUiExport);
    expect(response.statusCode).toBe(200);
    const answer = response.json() as Answer;
    expect(answer).toMatchObject({ format: "open-webui", imported: 2, skipped: 0 });
    const edited = await get(alice, answer.conversations[0]!.id);
    expect(edited).toMatchObject({
      title: "Tea brewing",
      model: "llama3:8b",
      systemPrompt: "Answer briefly.",
      createdAt: "2024-03-09T16:00:00.000Z",
    });
    expect(edited.messages.map((m) => [m.role, m.content, m.model, m.createdAt])).toEqual([
      ["user", "How hot for green tea, in °C?", null, "2024-03-09T16:01:40.000Z"],
      ["assistant", "About 80 °C.", "qwen2.5:7b", "2024-03-09T16:01:50.000Z"],
    ]);
    const old = await get(alice, answer.conversations[1]!.id);
    expect(old.messages.map((m) => [m.role, m.content, m.model])).toEqual([
      ["user", "Hello", null],
      ["assistant", "Hi there", "mistral"],
    ]);
  });

  it("imports Hearth messages that give no status as done; only a failed or unfinished answer as interrupted", async () => {
    const answer = (
      await importFile(alice, {
        title: "Statuses",
        messages: [
          { role: "user", content: "no status given" },
          { role: "assistant", content: "an answer without one" },
          { role: "user", content: "again", status: null },
          { role: "assistant", content: "it failed", status: "error" },
          { role: "user", content: "and again", status: "done" },
          { role: "assistant", content: "cut off", status: "streaming" },
          { role: "user", content: "last" },
          { role: "assistant", content: "stopped here", status: "stopped" },
        ],
      })
    ).json() as Answer;
    const copy = await get(alice, answer.conversations[0]!.id);
    expect(copy.messages.map((m) => m.status)).toEqual([
      "done",
      "done",
      "done",
      "interrupted",
      "done",
      "interrupted",
      "done",
      "stopped",
    ]);
  });

  it("makes every imported conversation the caller's own: new ids, never another user's", async () => {
    const bobs = await new ConversationStore(web.db).create(bob.userId, { title: "Bob's own" });
    const before = await listIds(bob);
    // A file naming Bob's conversation and Bob as its owner, imported by Alice.
    const file = {
      id: bobs.id,
      user_id: bob.userId,
      userId: bob.userId,
      title: "Claims to be Bob's",
      createdAt: "2025-01-01T00:00:00.000Z",
      messages: [
        { id: "x", role: "user", content: "mine now", status: "done", createdAt: "2025-01-01T00:00:00.000Z" },
      ],
    };
    const answer = (await importFile(alice, file)).json() as Answer;
    const id = answer.conversations[0]!.id;
    expect(id).not.toBe(bobs.id);
    expect(await listIds(alice)).toContain(id);
    expect(await listIds(bob)).toEqual(before);
    expect((await web.app.inject({ url: `/api/conversations/${id}`, headers: bob.headers })).statusCode).toBe(
      404,
    );
    expect((await get(bob, bobs.id)).title).toBe("Bob's own");
  });

  it("skips what it cannot import, saying why, and imports the rest", async () => {
    const good = { title: "Fine", messages: [{ role: "user", content: "hello" }] };
    const answer = (
      await importFile(alice, [
        good,
        { title: "Nothing said", messages: [{ role: "user", content: "   " }] },
        { title: "Odd", messages: [{ role: "wizard", content: "abracadabra" }] },
        "not a conversation",
        { title: "Too long", messages: [{ role: "user", content: "x".repeat(MAX_MESSAGE_CHARS + 1) }] },
        {
          title: "Prompt too long",
          systemPrompt: "y".repeat(MAX_MESSAGE_CHARS + 1),
          messages: [{ role: "user", content: "hi" }],
        },
        { messages: [{ role: "user", content: "Untitled: named after its first message" }] },
      ])
    ).json() as Answer;
    expect(answer.imported).toBe(2);
    expect(answer.conversations.map((c) => c.title)).toEqual([
      "Fine",
      "Untitled: named after its first message",
    ]);
    expect(answer.skipped).toBe(5);
    expect(answer.skippedConversations).toEqual([
      { index: 1, title: "Nothing said", reason: "empty" },
      { index: 2, title: "Odd", reason: "unreadable" },
      { index: 3, title: null, reason: "unreadable" },
      { index: 4, title: "Too long", reason: "message-too-long" },
      { index: 5, title: "Prompt too long", reason: "message-too-long" },
    ]);
  });

  it("refuses a file that is not JSON, not an export, or too large, storing nothing", async () => {
    const before = await listIds(alice);
    const refusals: Array<[unknown, number, string]> = [
      ["{ this is not json", 400, "INVALID_JSON"],
      [{ hello: "world" }, 422, "IMPORT_FORMAT_UNKNOWN"],
      [[1, 2, 3], 422, "IMPORT_FORMAT_UNKNOWN"],
      [[], 422, "IMPORT_FORMAT_UNKNOWN"],
      [
        [{ title: "big", messages: [{ role: "user", content: "z".repeat(IMPORT_LIMIT_BYTES) }] }],
        413,
        "PAYLOAD_TOO_LARGE",
      ],
    ];
    for (const [body, status, code] of refusals) {
      const response = await importFile(alice, body);
      expect([response.statusCode, response.json().error.code], JSON.stringify(body).slice(0, 40)).toEqual([
        status,
        code,
      ]);
    }
    expect(await listIds(alice)).toEqual(before);
  });

  /** Posts `bytes` (a ZIP, or whatever a test makes of one) as the import's body. */
  const importZip = (session: Session, bytes: Uint8Array, contentType = "application/zip") =>
    web.app.inject({
      method: "POST",
      url: "/api/conversations/import",
      headers: { ...session.headers, "content-type": contentType },
      payload: Buffer.from(bytes),
    });
  /** ChatGPT's data export as the user downloads it: conversations.json beside the rest. */
  const chatgptZip = (conversations: unknown, folder?: string) => {
    const files: Zippable = {
      "conversations.json": strToU8(JSON.stringify(conversations)),
      "chat.html": strToU8("<html><body>The same conversations, to read</body></html>"),
      "user.json": strToU8(JSON.stringify({ id: "user-1", email: "a@example.org" })),
      "message_feedback.json": strToU8("[]"),
      "file-abc123.png": new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3, 4]),
    };
    return zipSync(folder ? { [folder]: files } : files);
  };

  it("imports ChatGPT's data export as downloaded: the .zip, conversations.json at its root or in one folder", async () => {
    const fromJson = (await importFile(alice, [chatgptConversation])).json() as Answer;
    const asJson = await get(alice, fromJson.conversations[0]!.id);
    const kept = (c: Conversation) => ({
      title: c.title,
      model: c.model,
      createdAt: c.createdAt,
      messages: c.messages.map((m) => [m.role, m.content, m.model, m.createdAt]),
    });
    const cases: Array<[string, Uint8Array]> = [
      ["application/zip", chatgptZip([chatgptConversation])],
      ["application/x-zip-compressed", chatgptZip([chatgptConversation], "chatgpt-export")],
      ["application/octet-stream", chatgptZip([chatgptConversation])],
    ];
    for (const [contentType, zip] of cases) {
      const response = await importZip(alice, zip, contentType);
      expect(response.statusCode, contentType).toBe(200);
      const answer = response.json() as Answer;
      expect(answer).toMatchObject({ format: "chatgpt", imported: 1, skipped: 0, skippedConversations: [] });
      expect(kept(await get(alice, answer.conversations[0]!.id))).toEqual(kept(asJson));
    }
    // As from its JSON: NUL characters taken out of the texts, what cannot be read skipped and named.
    const withNul = { ...chatgptConversation, title: "Bread\u0000 at altitude" };
    const answer = (
      await importZip(
        alice,
        chatgptZip([withNul, { title: "Nothing here", mapping: { root: node("root", null, [], null) } }]),
      )
    ).json() as Answer;
    expect(answer).toMatchObject({
      imported: 1,
      skippedConversations: [{ index: 1, title: "Nothing here", reason: "empty" }],
    });
    expect((await get(alice, answer.conversations[0]!.id)).title).toBe("Bread at altitude");
  });

  it("refuses a ZIP without one conversations.json, a corrupt one and one that unpacks past the limit, storing nothing", async () => {
    const before = await listIds(alice);
    const file = strToU8(JSON.stringify([chatgptConversation]));
    const whole = chatgptZip([chatgptConversation]);
    // conversations.json inflating to more than web.importLimitBytes from a few KiB...
    const bomb = zipSync({ "conversations.json": strToU8(" ".repeat(IMPORT_LIMIT_BYTES + 1)) }, { level: 9 });
    // ...the same with its sizes in the directory lying (declared 10 bytes)...
    const lying = Uint8Array.from(bomb);
    const view = new DataView(lying.buffer);
    for (let at = 0; at + 4 <= lying.length; at++) {
      if (view.getUint32(at, true) === 0x04034b50) view.setUint32(at + 22, 10, true);
      if (view.getUint32(at, true) === 0x02014b50) view.setUint32(at + 24, 10, true);
    }
    // ...and a whole one whose conversations.json (its first entry) holds no deflate stream.
    const damaged = Uint8Array.from(whole);
    const header = new DataView(damaged.buffer);
    const dataAt = 30 + header.getUint16(26, true) + header.getUint16(28, true);
    damaged.fill(0xff, dataAt, dataAt + header.getUint32(18, true));
    const incompressible = new Uint8Array(IMPORT_LIMIT_BYTES + 1024).map(
      (_, i) => (i * 7919 + (i >> 8)) % 251,
    );
    const refusals: Array<[string, Uint8Array, number, string, RegExp?]> = [
      [
        "no conversations.json",
        zipSync({ "chat.html": strToU8("<html></html>") }),
        422,
        "IMPORT_ARCHIVE_UNRECOGNIZED",
        /conversations\.json/,
      ],
      [
        "two",
        zipSync({ "conversations.json": file, "old/conversations.json": file }),
        422,
        "IMPORT_ARCHIVE_UNRECOGNIZED",
        /old\/conversations\.json/,
      ],
      [
        "two folders down",
        zipSync({ a: { b: { "conversations.json": file } } }),
        422,
        "IMPORT_ARCHIVE_UNRECOGNIZED",
      ],
      ["truncated", whole.subarray(0, Math.floor(whole.length / 2)), 422, "IMPORT_ARCHIVE_CORRUPT"],
      ["damaged", damaged, 422, "IMPORT_ARCHIVE_CORRUPT", /does not inflate/],
      [
        "a ZIP's first bytes only",
        strToU8("PK\u0003\u0004 and nothing of a ZIP"),
        422,
        "IMPORT_ARCHIVE_CORRUPT",
      ],
      ["bomb", bomb, 413, "PAYLOAD_TOO_LARGE", /conversations\.json/],
      ["bomb with lying sizes", lying, 413, "PAYLOAD_TOO_LARGE", /conversations\.json/],
      [
        "upload too large",
        zipSync({ "conversations.json": incompressible }, { level: 0 }),
        413,
        "PAYLOAD_TOO_LARGE",
      ],
      ["not JSON inside", zipSync({ "conversations.json": strToU8("{ not json") }), 400, "INVALID_JSON"],
      [
        "not an export inside",
        zipSync({ "conversations.json": strToU8('{"theme":"dark"}') }),
        422,
        "IMPORT_FORMAT_UNKNOWN",
      ],
    ];
    for (const [what, bytes, status, code, message] of refusals) {
      const response = await importZip(alice, bytes);
      const error = response.json().error as { code: string; message: string };
      expect([response.statusCode, error.code], what).toEqual([status, code]);
      if (message) expect(error.message, what).toMatch(message);
    }
    // Bytes of no ZIP sent as application/octet-stream: not a type this route reads.
    const octets = await importZip(alice, file, "application/octet-stream");
    expect([octets.statusCode, octets.json().error.code]).toEqual([415, "UNSUPPORTED_MEDIA_TYPE"]);
    expect(await listIds(alice)).toEqual(before);
  });

  it("holds a ZIP import to the rules of a JSON one (CSRF token), and no other route takes a ZIP", async () => {
    const zip = chatgptZip([chatgptConversation]);
    const withoutToken = await web.app.inject({
      method: "POST",
      url: "/api/conversations/import",
      headers: { cookie: alice.cookie, "content-type": "application/zip" },
      payload: Buffer.from(zip),
    });
    expect([withoutToken.statusCode, withoutToken.json().error.code]).toEqual([403, "CSRF_TOKEN_INVALID"]);
    const anonymous = await web.app.inject({
      method: "POST",
      url: "/api/conversations/import",
      headers: { "content-type": "application/zip" },
      payload: Buffer.from(zip),
    });
    expect(anonymous.statusCode).toBe(401);
    for (const contentType of ["application/zip", "application/octet-stream"]) {
      const elsewhere = await web.app.inject({
        method: "POST",
        url: "/api/conversations",
        headers: { ...alice.headers, "content-type": contentType },
        payload: Buffer.from(zip),
      });
      expect([elsewhere.statusCode, elsewhere.json().error.code], contentType).toEqual([
        415,
        "UNSUPPORTED_MEDIA_TYPE",
      ]);
    }
  });

  it("holds every turn of imported history to the input word filter: its user messages and system prompt, on every send", async () => {
    try {
      // Over HTTP: a turn let through streams its answer.
      const url = await web.app.listen({ host: "127.0.0.1", port: 0 });
      const post = async (session: Session, path: string, payload: Record<string, unknown>) => {
        const response = await fetch(`${url}/api/conversations/${path}`, {
          method: "POST",
          headers: { "content-type": "application/json", ...session.headers },
          body: JSON.stringify({ model: "tiny-story", ...payload }),
        });
        return { statusCode: response.status, body: await response.text() };
      };
      const sendTo = (session: Session, id: string, payload: Record<string, unknown>) =>
        post(session, `${id}/messages`, payload);
      const regenerate = (session: Session, id: string) => post(session, `${id}/regenerate`, {});
      const blocked = (response: { statusCode: number; body: string }) => [
        response.statusCode,
        response.statusCode === 200 ? response.body : (JSON.parse(response.body) as { error: unknown }).error,
      ];
      const refusal = [
        422,
        expect.objectContaining({ code: "CONTENT_BLOCKED", details: { words: ["NIGHTJAR"] } }),
      ];
      const answer = (
        await importFile(alice, [
          {
            title: "filter test",
            messages: [{ role: "user", content: "Tell me everything about NIGHTJAR" }],
          },
          {
            title: "prompt test",
            systemPrompt: "Always talk about NIGHTJAR.",
            messages: [{ role: "user", content: "hello" }],
          },
        ])
      ).json() as Answer;
      expect(answer.imported).toBe(2);
      const [question, prompted] = answer.conversations.map((c) => c.id) as [string, string];
      // Imported before the word was listed (an import after is skipped: filtered-import.test.ts).
      await setFilterWords(web.app, alice, ["NIGHTJAR"]);
      const asked = model.requests.length;

      // The imported message is refused as the same text sent would be: answered again, or
      // followed by a harmless message (it goes to the model with it).
      expect(
        blocked(await sendTo(alice, question, { content: "Tell me everything about NIGHTJAR" })),
      ).toEqual(refusal);
      expect(blocked(await regenerate(alice, question))).toEqual(refusal);
      expect(blocked(await sendTo(alice, question, { content: "go on" }))).toEqual(refusal);
      // A system prompt the file gave is held to it too, on a new message and on a regeneration.
      expect(blocked(await sendTo(alice, prompted, { content: "hi" }))).toEqual(refusal);
      expect(blocked(await regenerate(alice, prompted))).toEqual(refusal);
      expect(model.requests.length).toBe(asked);
      expect((await get(alice, question)).messages.map((m) => m.content)).toEqual([
        "Tell me everything about NIGHTJAR",
      ]);

      // A copy of a shared conversation ("Continue in my chats") is held to it as well.
      const link = (
        await web.app.inject({
          method: "POST",
          url: `/api/conversations/${question}/share`,
          headers: alice.headers,
        })
      ).json() as { id: string };
      const copied = (
        await web.app.inject({ method: "POST", url: `/api/shares/${link.id}/copy`, headers: bob.headers })
      ).json() as { id: string };
      expect(blocked(await regenerate(bob, copied.id))).toEqual(refusal);
      expect(model.requests.length).toBe(asked);

      // Editing the message away is the way on: what it replaces is not sent.
      const original = (await get(alice, question)).messages[0]!;
      const edited = await sendTo(alice, question, {
        content: "Tell me about birds",
        editMessageId: original.id,
      });
      expect(edited.statusCode).toBe(200);
      expect(model.requests.length).toBe(asked + 1);
    } finally {
      await setFilterWords(web.app, alice, []);
    }
  });

  it("skips a conversation holding a word the input filter refuses, and audits the counts, never the text", async () => {
    // Alice signed up first: she administers this service.
    await setFilterWords(web.app, alice, ["forbidden"]);
    try {
      const answer = (
        await importFile(alice, [
          { title: "History", messages: [{ role: "user", content: "a forbidden word, said long ago" }] },
          { title: "Empty", messages: [] },
          { title: "Kept", messages: [{ role: "user", content: "a harmless word" }] },
        ])
      ).json() as Answer;
      expect(answer).toMatchObject({
        imported: 1,
        skipped: 2,
        skippedConversations: [
          { index: 0, title: "History", reason: "content-blocked" },
          { index: 1, title: "Empty", reason: "empty" },
        ],
      });
      const entries = await web.db
        .selectFrom("audit_log")
        .selectAll()
        .where("action", "=", "conversation.import")
        .where("actor_id", "=", alice.userId)
        .orderBy("id", "desc")
        .execute();
      expect(JSON.parse(entries[0]!.details!)).toEqual({ format: "hearth", imported: 1, skipped: 2 });
      expect(JSON.stringify(entries)).not.toMatch(/forbidden|History|harmless/);
    } finally {
      await setFilterWords(web.app, alice, []);
    }
  });
});
