import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeModelService, startFakeModelService } from "../../test/support/fake-model-service.js";
import { type Session, setFilterWords, signUp } from "../../test/support/web-client.js";
import { dialects, startWeb, type WebHarness } from "../../test/support/web-harness.js";

interface Answer {
  imported: number;
  skipped: number;
  conversations: Array<{ id: string; title: string }>;
  skippedConversations: Array<{ index: number; title: string | null; reason: string }>;
}

interface Conversation {
  title: string;
  systemPrompt: string | null;
  folderId: string | null;
  messages: Array<{ role: string; content: string; reasoning: string | null; citations: unknown[] }>;
}

/**
 * An import is held to the sensitive-word filter as what is typed and generated here is (an imported
 * conversation may be shared, or continued): a conversation whose title, folder name, user message or
 * system prompt holds a word the input filter refuses is skipped ("content-blocked"), nothing of it
 * stored, the rest of the file imported; its answers get the output filter's masking; a flag list's
 * hits are counted; with the filter off for input or output, that side is imported as it was.
 */
describe.each(dialects)("an import held to the sensitive-word filter on %s", (dialect) => {
  let model: FakeModelService;
  let web: WebHarness;
  let folder: string;
  let admin: Session;
  let user: Session;

  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), "hearth-web-import-filter-"));
    writeFileSync(join(folder, "rude.txt"), "rutabaga\n");
    writeFileSync(join(folder, "watch.txt"), "sourdough\n");
    model = await startFakeModelService({ models: ["tiny-story"] });
    web = await startWeb(
      { modelUrl: model.url },
      {
        filter: {
          lists: [
            { id: "rude", action: "mask", file: join(folder, "rude.txt") },
            { id: "watch", action: "flag", file: join(folder, "watch.txt") },
          ],
        },
      },
      dialect,
    );
    admin = await signUp(web.app, "admin");
    user = await signUp(web.app, "user");
    await setFilterWords(web.app, admin, ["forbidden"]);
  });
  afterAll(async () => {
    await web?.close();
    await model?.close();
    rmSync(folder, { recursive: true, force: true });
  });

  const importFile = async (body: unknown) => {
    const response = await web.app.inject({
      method: "POST",
      url: "/api/conversations/import",
      headers: { ...user.headers, "content-type": "application/json" },
      payload: JSON.stringify(body),
    });
    expect(response.statusCode).toBe(200);
    return response.json() as Answer;
  };
  const get = async (id: string) =>
    (await web.app.inject({ url: `/api/conversations/${id}`, headers: user.headers })).json() as Conversation;
  const titles = async () =>
    (
      (await web.app.inject({ url: "/api/conversations", headers: user.headers })).json() as {
        conversations: Array<{ title: string }>;
      }
    ).conversations
      .map((c) => c.title)
      .sort();
  const folders = async () =>
    (
      (await web.app.inject({ url: "/api/folders", headers: user.headers })).json() as {
        folders: Array<{ id: string; name: string }>;
      }
    ).folders;
  const flagHits = async () => {
    const metrics = (await web.app.inject({ url: "/metrics" })).body;
    const line = metrics
      .split("\n")
      .find(
        (l) => /^hearth_web_filter_hits_total\{/.test(l) && /list="watch"/.test(l) && /action="flag"/.test(l),
      );
    return line ? Number(line.split(" ").at(-1)) : 0;
  };
  /** A Hearth export's conversation: a question and its answer. */
  const said = (title: string, question: string, answer: string, extra: Record<string, unknown> = {}) => ({
    title,
    messages: [
      { role: "user", content: question },
      { role: "assistant", content: answer, status: "done" },
    ],
    ...extra,
  });

  it("skips a conversation with a refused word in a user message or its title, storing nothing of it, and masks the answers it imports", async () => {
    const before = await titles();
    const foldersBefore = await folders();
    const answer = await importFile([
      said("Baking", "How is forbidden bread made?", "Like any other.", { folder: "Kitchen" }),
      said("A FORBIDDEN plan", "What shall we do?", "Rest.", { folder: "Plans" }),
      {
        ...said("Clean", "Is a rutabaga a turnip?", "A forbidden rutabaga, not quite.", { folder: "Garden" }),
        messages: [
          { role: "user", content: "Is a rutabaga a turnip?" },
          {
            role: "assistant",
            content: "A forbidden rutabaga, not quite.",
            reasoning: "Think of the rutabaga.",
            status: "done",
            citations: [
              {
                n: 1,
                kind: "web",
                title: "Forbidden roots",
                url: "https://example.org/roots",
                snippet: "the rutabaga",
              },
            ],
          },
        ],
      },
    ]);
    expect(answer).toMatchObject({ imported: 1, skipped: 2 });
    expect(answer.skippedConversations).toEqual([
      { index: 0, title: "Baking", reason: "content-blocked" },
      { index: 1, title: "A FORBIDDEN plan", reason: "content-blocked" },
    ]);
    expect(answer.conversations.map((c) => c.title)).toEqual(["Clean"]);

    // The answer is masked as a generated one would be (block and mask lists alike); the user's
    // message keeps a mask list's word, as one typed here does.
    const copy = await get(answer.conversations[0]!.id);
    expect(copy.messages.map(({ role, content, reasoning }) => ({ role, content, reasoning }))).toEqual([
      { role: "user", content: "Is a rutabaga a turnip?", reasoning: null },
      { role: "assistant", content: "A ********* ********, not quite.", reasoning: "Think of the ********." },
    ]);
    expect(copy.messages[1]!.citations).toEqual([
      {
        n: 1,
        kind: "web",
        title: "********* roots",
        url: "https://example.org/roots",
        snippet: "the ********",
      },
    ]);

    // Nothing of the skipped ones stored: no conversation, no folder made for them.
    expect(await titles()).toEqual([...before, "Clean"].sort());
    expect((await folders()).map((f) => f.name).sort()).toEqual(
      [...foldersBefore.map((f) => f.name), "Garden"].sort(),
    );
  });

  it("skips a conversation with a refused word in its folder's name or its system prompt, whatever the format", async () => {
    const answer = await importFile([
      said("Filed", "hello", "hi", { folder: "forbidden things" }),
      said("Prompted", "hello", "hi", { systemPrompt: "Always say forbidden." }),
      said("Fine", "hello", "hi"),
    ]);
    expect(answer.skippedConversations).toEqual([
      { index: 0, title: "Filed", reason: "content-blocked" },
      { index: 1, title: "Prompted", reason: "content-blocked" },
    ]);
    expect((await folders()).map((f) => f.name)).not.toContain("forbidden things");

    // ChatGPT's export: the title.
    const chatgpt = await importFile([
      {
        title: "Forbidden fruit",
        current_node: "a",
        mapping: {
          q: {
            parent: null,
            children: ["a"],
            message: { author: { role: "user" }, content: { content_type: "text", parts: ["hi"] } },
          },
          a: {
            parent: "q",
            children: [],
            message: { author: { role: "assistant" }, content: { content_type: "text", parts: ["hello"] } },
          },
        },
      },
    ]);
    expect(chatgpt).toMatchObject({
      imported: 0,
      skippedConversations: [{ index: 0, title: "Forbidden fruit", reason: "content-blocked" }],
    });
  });

  it("counts a flag list's hits in what it imports, as in a message and an answer", async () => {
    const before = await flagHits();
    const answer = await importFile([said("Bread", "Sourdough starter?", "Feed the sourdough daily.")]);
    expect(answer.imported).toBe(1);
    expect(await flagHits()).toBe(before + 2);
    // Flagged only: kept as written.
    expect((await get(answer.conversations[0]!.id)).messages.map((m) => m.content)).toEqual([
      "Sourdough starter?",
      "Feed the sourdough daily.",
    ]);
  });

  it("imports as it was with the filter off for input and output", async () => {
    const settings = (payload: Record<string, unknown>) =>
      web.app.inject({
        method: "PATCH",
        url: "/api/admin/settings",
        headers: admin.headers,
        payload: { filter: { words: ["forbidden"], ...payload } },
      });
    expect((await settings({ applyToInput: false, applyToOutput: false })).statusCode).toBe(200);
    try {
      const answer = await importFile([
        said("A forbidden title", "A forbidden question", "A forbidden rutabaga", { folder: "Forbidden" }),
      ]);
      expect(answer).toMatchObject({ imported: 1, skipped: 0 });
      const copy = await get(answer.conversations[0]!.id);
      expect(copy.title).toBe("A forbidden title");
      expect(copy.messages.map((m) => m.content)).toEqual(["A forbidden question", "A forbidden rutabaga"]);

      // Input on, output off: refused as typed, answers as written.
      expect((await settings({ applyToInput: true, applyToOutput: false })).statusCode).toBe(200);
      const mixed = await importFile([
        said("Refused", "A forbidden question", "fine"),
        said("Answered", "fine", "A forbidden rutabaga"),
      ]);
      expect(mixed.skippedConversations).toEqual([{ index: 0, title: "Refused", reason: "content-blocked" }]);
      expect((await get(mixed.conversations[0]!.id)).messages[1]!.content).toBe("A forbidden rutabaga");
    } finally {
      await setFilterWords(web.app, admin, ["forbidden"]);
    }
  });
});
