import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Harness,
  startHarness,
} from "../../packages/knowledge/src/testing/knowledge-harness.fixture.js";
import { startModelService } from "../../packages/model/test/start-model-service.js";
import {
  createApiKey,
  parseSse,
  type Session,
  sendInNewConversation,
  signUp,
} from "../../packages/web/test/support/web-client.js";
import { startWeb, type WebHarness } from "../../packages/web/test/support/web-harness.js";
import { seededRandom } from "../support/seeded-random.js";
import { writeTinyGguf } from "../support/tiny-gguf.js";

/** The tiny model's context: five default-sized passages (512 tokens each) are far more than it holds. */
const CONTEXT = 1024;

/** A document of the tiny model's own words (one token each), in paragraphs, about `topic` words. */
function documentText(seed: number, words: number): string {
  const vocabulary =
    "the a hello world once upon time there was little cat dog and is in on it to of big red sun day happy girl boy".split(
      " ",
    );
  const random = seededRandom(seed);
  const paragraphs: string[] = [];
  for (let written = 0; written < words; written += 60) {
    const sentence: string[] = [];
    for (let i = 0; i < 60; i++) sentence.push(vocabulary[Math.floor(random() * vocabulary.length)]!);
    paragraphs.push(`${sentence.join(" ")}.`);
  }
  return paragraphs.join("\n\n");
}

/**
 * Grounded chat over the real model, knowledge and web services, with a tiny GGUF whose context
 * (1024 tokens) cannot hold a knowledge base's five best passages at the default chunk size, nor a
 * conversation after one long answer: the prompt is sized to the context the model service reports.
 */
describe("a grounded chat sized to the model's context", () => {
  let dir: string;
  let model: Awaited<ReturnType<typeof startModelService>>;
  let knowledge: Harness;
  let web: WebHarness;
  let url: string;
  let user: Session;
  let baseId: string;
  const modelId = "tiny";

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "hearth-e2e-grounded-"));
    // Trained on a longer context than it is served with, as most models are: the served one counts.
    await writeTinyGguf(join(dir, "tiny.gguf"), { contextLength: 4 * CONTEXT });
    model = await startModelService(dir, { contextSize: CONTEXT, cache: { enabled: false } });
    knowledge = await startHarness();
    web = await startWeb({ modelUrl: model.url, knowledgeUrl: knowledge.url });
    url = await web.app.listen({ host: "127.0.0.1", port: 0 });
    user = await signUp(web.app, "reader");

    // Default chunking (512 tokens); three documents of about 1,500 words each.
    const created = await web.app.inject({
      method: "POST",
      url: "/api/knowledge-bases",
      headers: user.headers,
      payload: { name: "Stories" },
    });
    baseId = (created.json() as { id: string; chunking: { maxTokens: number } }).id;
    expect(created.json().chunking.maxTokens).toBe(512);
    for (const seed of [1, 2, 3]) {
      const form = new FormData();
      form.append("file", new Blob([documentText(seed, 1500)]), `story-${seed}.md`);
      const upload = await fetch(`${url}/api/knowledge-bases/${baseId}/documents`, {
        method: "POST",
        headers: user.headers,
        body: form,
      });
      const { job } = (await upload.json()) as { job: { id: string } };
      expect((await knowledge.finalJob(job.id)).status).toBe("completed");
    }
  }, 120_000);

  afterAll(async () => {
    await web?.close();
    await knowledge?.close();
    await model?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("answers a grounded question through the public API, citing only the passages it sent", async () => {
    const key = await createApiKey(web.app, user);
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({
        model: modelId,
        messages: [{ role: "user", content: "Was there a little cat?" }],
        knowledge_base_ids: [baseId],
        max_tokens: 20,
      }),
    });
    const body = (await response.json()) as {
      error?: { code: string; message: string };
      choices?: Array<{ message: { content: string } }>;
      usage?: { prompt_tokens: number };
      hearth?: { citations: Array<{ n: number; title: string }> };
    };
    expect(body.error).toBeUndefined();
    expect(response.status).toBe(200);
    expect(body.choices?.[0]?.message.content).toBeTruthy();
    expect(body.usage!.prompt_tokens + 20).toBeLessThanOrEqual(CONTEXT);
    // Some passages were sent (numbered from 1), not all five the knowledge service found.
    const citations = body.hearth?.citations ?? [];
    expect(citations.length).toBeGreaterThan(0);
    expect(citations.length).toBeLessThan(5);
    expect(citations.map((c) => c.n)).toEqual(citations.map((_, i) => i + 1));
  });

  it("answers a grounded question in a conversation, and the sources it shows are the ones it sent", async () => {
    const created = await web.app.inject({
      method: "POST",
      url: "/api/conversations",
      headers: user.headers,
      payload: {},
    });
    const { id } = created.json() as { id: string };
    const response = await fetch(`${url}/api/conversations/${id}/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", ...user.headers },
      body: JSON.stringify({
        model: modelId,
        content: "Was there a little cat?",
        knowledgeBaseIds: [baseId],
      }),
    });
    const parts = parseSse(await response.text());
    expect(parts.find((part) => part.type === "error")).toBeUndefined();
    const sources = parts.find((part) => part.type === "sources") as { citations: Array<{ n: number }> };
    expect(sources.citations.length).toBeGreaterThan(0);
    expect(sources.citations.length).toBeLessThan(5);
    const finish = parts.find((part) => part.type === "finish") as { usage: { promptTokens: number } };
    expect(finish.usage.promptTokens).toBeLessThan(CONTEXT);
    // What is stored is what was shown.
    const stored = (
      await web.app.inject({ url: `/api/conversations/${id}`, headers: user.headers })
    ).json() as { messages: Array<{ role: string; citations: unknown[] }> };
    expect(stored.messages.at(-1)?.citations).toHaveLength(sources.citations.length);
  });

  it("answers the latest question of a conversation whose history no longer fits the context", async () => {
    // The first answer takes all the room the context leaves (the tiny model does not stop early).
    const { conversationId: id, response } = await sendInNewConversation(web.app, url, user, {
      model: modelId,
      content: "once upon a time there was a little cat ".repeat(20),
    });
    const first = parseSse(await response.text());
    expect(first.find((part) => part.type === "error")).toBeUndefined();
    expect(first.find((part) => part.type === "finish")).toMatchObject({ finishReason: "length" });

    for (const question of ["hello", "and the dog?"]) {
      const next = await fetch(`${url}/api/conversations/${id}/messages`, {
        method: "POST",
        headers: { "content-type": "application/json", ...user.headers },
        body: JSON.stringify({ model: modelId, content: question }),
      });
      const parts = parseSse(await next.text());
      expect(parts.find((part) => part.type === "error")).toBeUndefined();
      expect(parts.some((part) => part.type === "text-delta")).toBe(true);
      expect(parts.find((part) => part.type === "finish")).toBeTruthy();
    }
  });

  it("answers an unsaved chat whose history the client sends no longer fits the context", async () => {
    const long = "once upon a time there was a little cat ".repeat(60);
    const response = await fetch(`${url}/api/chat`, {
      method: "POST",
      headers: { "content-type": "application/json", ...user.headers },
      body: JSON.stringify({
        model: modelId,
        messages: [
          { role: "user", content: long },
          { role: "assistant", content: long },
          { role: "user", content: "and the dog?" },
        ],
      }),
    });
    const parts = parseSse(await response.text());
    expect(parts.find((part) => part.type === "error")).toBeUndefined();
    expect(parts.some((part) => part.type === "text-delta")).toBe(true);
    const finish = parts.find((part) => part.type === "finish") as { usage: { promptTokens: number } };
    expect(finish.usage.promptTokens).toBeLessThan(CONTEXT);
  });
});
