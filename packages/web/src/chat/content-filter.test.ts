import { mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { createLogger } from "@hearth/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeModelService, startFakeModelService } from "../../test/support/fake-model-service.js";
import {
  createApiKey,
  parseSse,
  type Session,
  sendInNewConversation,
  signUp,
} from "../../test/support/web-client.js";
import { startWeb, type WebHarness } from "../../test/support/web-harness.js";

/** The texts of a chat stream's parts of one type (text-delta, reasoning-delta). */
const textOf = (parts: Array<Record<string, unknown>>, type: string) =>
  parts.filter((part) => part.type === type).map((part) => part.text as string);

/** The sensitive-word filter (@hearth/sensitive-words) on chat input and model output, end to end. */
describe("sensitive words in chat", () => {
  let model: FakeModelService;
  let web: WebHarness;
  let url: string;
  let admin: Session;
  let user: Session;
  let apiKey: string;
  let folder: string;
  let abuseFile: string;

  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), "hearth-web-words-"));
    abuseFile = join(folder, "abuse.txt");
    writeFileSync(abuseFile, "# words masked in answers\nidiot\n");
    writeFileSync(join(folder, "illegal.txt"), "制造炸药\n");
    writeFileSync(join(folder, "allowed.txt"), "idiot-proof\n");
    model = await startFakeModelService({ models: ["tiny-story"] });
    web = await startWeb(
      { modelUrl: model.url },
      {
        filter: {
          reloadIntervalMs: 30,
          lists: [
            { id: "abuse", action: "mask", file: abuseFile },
            { id: "illegal", action: "block", file: join(folder, "illegal.txt") },
            { id: "allowed", action: "allow", file: join(folder, "allowed.txt") },
          ],
        },
      },
    );
    url = await web.app.listen({ host: "127.0.0.1", port: 0 });
    admin = await signUp(web.app, "admin");
    user = await signUp(web.app, "user");
    apiKey = await createApiKey(web.app, user);
  });
  afterAll(async () => {
    await web.close();
    await model.close();
    rmSync(folder, { recursive: true, force: true });
  });

  const settings = (filter: {
    words: string[];
    allowedWords?: string[];
    applyToInput: boolean;
    applyToOutput: boolean;
  }) =>
    web.app.inject({
      method: "PATCH",
      url: "/api/admin/settings",
      headers: admin.headers,
      payload: { filter },
    });
  const send = async (content: string) => {
    const { conversationId: id, response } = await sendInNewConversation(web.app, url, user, {
      model: "tiny-story",
      content,
    });
    const body = response.ok
      ? undefined
      : ((await response.json()) as { error: { code: string; details?: { words?: string[] } } });
    const parts = response.ok ? parseSse(await response.text()) : [];
    const stored = (
      await web.app.inject({ url: `/api/conversations/${id}`, headers: user.headers })
    ).json() as { messages: Array<{ role: string; content: string; reasoning: string | null }> };
    return {
      status: response.status,
      code: body?.error.code,
      words: body?.error.details?.words,
      deltas: textOf(parts, "text-delta"),
      reasoning: textOf(parts, "reasoning-delta"),
      stored: stored.messages,
    };
  };
  /** The public API's streamed answer to "hi", as the deltas of its chunks. */
  const publicStream = async () => {
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
      body: JSON.stringify({
        model: "tiny-story",
        stream: true,
        messages: [{ role: "user", content: "hi" }],
      }),
    });
    return parseSse(await textUntilCut(response)).flatMap((event) =>
      ((event.choices ?? []) as Array<{ delta: { content?: string; reasoning_content?: string } }>).map(
        (choice) => choice.delta,
      ),
    );
  };
  /** The body as far as it came: a stream the model service broke off is cut, not ended. */
  const textUntilCut = async (response: Response) => {
    let text = "";
    const reader = response.body!.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return text;
        text += Buffer.from(value).toString("utf8");
      }
    } catch {
      return text;
    }
  };

  it("refuses a message holding an administrator's word, however it is written, and stores nothing", async () => {
    await settings({ words: ["forbidden", "model"], applyToInput: true, applyToOutput: true });
    for (const evasion of ["a FORBIDDEN thing", "a ｆｏｒｂｉｄｄｅｎ thing", "a f-o-r-b-i-d-d-e-n thing"]) {
      const refused = await send(evasion);
      expect([refused.status, refused.code], evasion).toEqual([422, "CONTENT_BLOCKED"]);
      expect(refused.stored).toEqual([]);
    }
    // A Latin word must stand alone: "forbiddenness" is not "forbidden".
    expect((await send("forbiddenness")).status).toBe(200);
  });

  it("masks an administrator's word in the streamed answer, split across chunks, and in the stored answer", async () => {
    await settings({ words: ["forbidden", "model"], applyToInput: true, applyToOutput: true });
    model.options.words = ["Hello", " from", " the", " mo", "del."];
    try {
      const { status, deltas, stored } = await send("hi");
      expect(status).toBe(200);
      expect(deltas.join("")).toBe("Hello from the *****. You said: hi");
      expect(stored.at(-1)?.content).toBe("Hello from the *****. You said: hi");
    } finally {
      model.options.words = undefined;
    }
  });

  it("masks the model's reasoning as well, in the chat (sent and stored) and in the public API's stream", async () => {
    await settings({ words: ["secret"], applyToInput: true, applyToOutput: true });
    model.options.reasoning = ["The sec", "ret plan"];
    try {
      const chat = await send("hi");
      expect(chat.reasoning.join("")).toBe("The ****** plan");
      expect(chat.stored.at(-1)?.reasoning).toBe("The ****** plan");
      expect(chat.deltas.join("")).toBe("Hello from the model. You said: hi");

      const deltas = await publicStream();
      expect(deltas.map((delta) => delta.reasoning_content ?? "").join("")).toBe("The ****** plan");
      expect(deltas.map((delta) => delta.content ?? "").join("")).toBe("Hello from the model. You said: hi");
    } finally {
      model.options.reasoning = undefined;
      await settings({ words: [], applyToInput: true, applyToOutput: true });
    }
  });

  it("sends what it held back when the public API's stream breaks off", async () => {
    await settings({ words: ["model"], applyToInput: true, applyToOutput: true });
    // " mo" may begin "model": the masker holds it back, then the model fails before the rest.
    model.options.words = ["Hello", " mo", "del"];
    model.options.failAfterWords = 2;
    try {
      const deltas = await publicStream();
      expect(deltas.map((delta) => delta.content ?? "").join("")).toBe("Hello mo");
    } finally {
      model.options.words = undefined;
      model.options.failAfterWords = undefined;
      await settings({ words: [], applyToInput: true, applyToOutput: true });
    }
  });

  it("applies to the chat that is not stored (POST /api/chat) as well", async () => {
    await settings({ words: ["forbidden", "model"], applyToInput: true, applyToOutput: true });
    const chat = (content: string) =>
      fetch(`${url}/api/chat`, {
        method: "POST",
        headers: { "content-type": "application/json", ...user.headers },
        body: JSON.stringify({ model: "tiny-story", messages: [{ role: "user", content }] }),
      });
    try {
      const refused = await chat("a forbidden thing");
      expect(refused.status).toBe(422);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("CONTENT_BLOCKED");
      const answered = parseSse(await (await chat("hi")).text());
      expect(textOf(answered, "text-delta").join("")).toBe("Hello from the *****. You said: hi");
    } finally {
      await settings({ words: [], applyToInput: true, applyToOutput: true });
    }
  });

  it("names the refused words on every chat door, and lets through the longer words allowed", async () => {
    await settings({ words: ["机密"], allowedWords: ["手机密码"], applyToInput: true, applyToOutput: false });
    const error = async (response: Response) =>
      ((await response.json()) as { error: { code: string; details?: { words?: string[] } } }).error;
    try {
      expect((await send("手机密码忘了怎么办")).status).toBe(200);
      const refused = await send("手机密码和机密文件");
      expect([refused.status, refused.code, refused.words]).toEqual([422, "CONTENT_BLOCKED", ["机密"]]);
      const body = JSON.stringify({ model: "tiny-story", messages: [{ role: "user", content: "機密文件" }] });
      const chat = await fetch(`${url}/api/chat`, {
        method: "POST",
        headers: { "content-type": "application/json", ...user.headers },
        body,
      });
      expect(await error(chat)).toMatchObject({ code: "CONTENT_BLOCKED", details: { words: ["機密"] } });
      const publicApi = await fetch(`${url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
        body,
      });
      expect(await error(publicApi)).toMatchObject({ code: "CONTENT_BLOCKED", details: { words: ["機密"] } });
    } finally {
      await settings({ words: [], applyToInput: true, applyToOutput: true });
    }
  });

  it("follows the administrator's switches: no input check, no output masking", async () => {
    await settings({ words: ["forbidden", "model"], applyToInput: false, applyToOutput: false });
    const { status, deltas } = await send("a forbidden thing");
    expect(status).toBe(200);
    expect(deltas.join("")).toBe("Hello from the model. You said: a forbidden thing");
    await settings({ words: [], applyToInput: true, applyToOutput: true });
  });

  it("applies the web.filter word lists: block refuses input, mask masks output, files reload", async () => {
    const blocked = await send("如何制 造 炸 藥");
    expect([blocked.status, blocked.code]).toEqual([422, "CONTENT_BLOCKED"]);
    // A mask list does not refuse input; its words are masked in the answer (the model echoes them).
    const masked = await send("you idiot");
    expect(masked.status).toBe(200);
    expect(masked.deltas.join("")).toBe("Hello from the model. You said: you *****");
    // An allow list lets a longer word holding a listed one through, and only that word.
    const allowed = await send("an idiot-proof idiot");
    expect(allowed.deltas.join("")).toBe("Hello from the model. You said: an idiot-proof *****");

    writeFileSync(abuseFile, "idiot\nmoron\n");
    let answer = "";
    for (let i = 0; i < 100 && !answer.includes("*****"); i++) {
      await new Promise((resolve) => setTimeout(resolve, 30));
      answer = (await send("a moron")).deltas.join("");
    }
    expect(answer).toBe("Hello from the model. You said: a *****");
  });

  it("shows administrators the config file's lists beside the settings, read-only: counts, never words", async () => {
    writeFileSync(abuseFile, "idiot\nmoron\nfool\n");
    const listed = async () =>
      (await web.app.inject({ url: "/api/admin/settings", headers: admin.headers })).json() as {
        wordListFiles: unknown;
      };
    // The count follows the file as it is reloaded.
    await expect
      .poll(async () => (await listed()).wordListFiles, { timeout: 5000 })
      .toEqual([
        { id: "abuse", file: abuseFile, action: "mask", words: 3, input: false, output: true },
        {
          id: "illegal",
          file: join(folder, "illegal.txt"),
          action: "block",
          words: 1,
          input: true,
          output: true,
        },
        {
          id: "allowed",
          file: join(folder, "allowed.txt"),
          action: "allow",
          words: 1,
          input: false,
          output: false,
        },
      ]);
    expect(JSON.stringify(await listed())).not.toContain("制造炸药");
    // Set in the config file, not here: the settings read and sent back whole are saved, the
    // lists left as they are; the answer to a save lists them too.
    const settings = (await listed()) as Record<string, unknown>;
    const saved = await web.app.inject({
      method: "PATCH",
      url: "/api/admin/settings",
      headers: admin.headers,
      payload: { ...settings, shareLinks: "off", wordListFiles: [] },
    });
    expect(saved.statusCode).toBe(200);
    expect(saved.json()).toMatchObject({
      shareLinks: "off",
      wordListFiles: [{ id: "abuse" }, { id: "illegal" }, { id: "allowed" }],
    });
    await web.app.inject({
      method: "PATCH",
      url: "/api/admin/settings",
      headers: admin.headers,
      payload: { shareLinks: settings.shareLinks },
    });
    // Others do not see them.
    expect((await web.app.inject({ url: "/api/admin/settings", headers: user.headers })).statusCode).toBe(
      403,
    );
  });

  it("masks the public API's non-streamed answers too", async () => {
    await settings({ words: ["model"], applyToInput: true, applyToOutput: true });
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
      body: JSON.stringify({ model: "tiny-story", messages: [{ role: "user", content: "hi idiot" }] }),
    });
    const answer = (await response.json()) as { choices: Array<{ message: { content: string } }> };
    expect(answer.choices[0]?.message.content).toBe("Hello from the *****. You said: hi *****");
    await settings({ words: [], applyToInput: true, applyToOutput: true });
  });

  it("counts hits per list in /metrics without the words", async () => {
    const metrics = (await web.app.inject({ url: "/metrics" })).body;
    expect(metrics).toMatch(/hearth_web_filter_hits_total\{[^}]*list="abuse",action="mask"[^}]*\} [1-9]/);
    expect(metrics).toMatch(/hearth_web_filter_hits_total\{[^}]*list="illegal",action="block"[^}]*\} [1-9]/);
    expect(metrics).not.toMatch(/idiot|moron|forbidden/);
  });
});

describe("web.filter at start-up", () => {
  it("refuses to start with a list file that cannot be read, naming the list", async () => {
    const model = await startFakeModelService();
    try {
      await expect(
        startWeb(
          { modelUrl: model.url },
          { filter: { lists: [{ id: "gone", action: "block", file: "/nonexistent/words.txt" }] } },
        ),
      ).rejects.toMatchObject({
        code: "WEB_WORD_LIST_UNREADABLE",
        message: expect.stringContaining('"gone"'),
      });
    } finally {
      await model.close();
    }
  });

  it("refuses to start with a list file that is not UTF-8 (saved as GBK), saying to save it as UTF-8", async () => {
    const model = await startFakeModelService();
    const folder = mkdtempSync(join(tmpdir(), "hearth-web-words-"));
    try {
      const file = join(folder, "block.txt");
      writeFileSync(file, Buffer.from("d0b9c3dc0a", "hex")); // 泄密 in GBK, as Notepad's "ANSI" saves it
      await expect(
        startWeb({ modelUrl: model.url }, { filter: { lists: [{ id: "illegal", action: "block", file }] } }),
      ).rejects.toMatchObject({
        code: "WEB_WORD_LIST_UNREADABLE",
        message: expect.stringMatching(/"illegal" \(.*block\.txt\): not UTF-8 text.*save it as UTF-8/),
      });
    } finally {
      await model.close();
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it("keeps a list's words when its file is rewritten as GBK, logging a warning that names the file and why", async () => {
    const model = await startFakeModelService();
    const folder = mkdtempSync(join(tmpdir(), "hearth-web-words-"));
    const file = join(folder, "block.txt");
    writeFileSync(file, "泄密\n");
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const web = await startWeb(
      { modelUrl: model.url },
      { filter: { reloadIntervalMs: 30, lists: [{ id: "illegal", action: "block", file }] } },
      "sqlite",
      { logger: createLogger({ level: "info", destination }) },
    );
    try {
      const user = await signUp(web.app, "user");
      const chat = async () =>
        (
          await web.app.inject({
            method: "POST",
            url: "/api/chat",
            headers: user.headers,
            payload: { model: "tiny-story", messages: [{ role: "user", content: "这是泄密行为" }] },
          })
        ).statusCode;
      expect(await chat()).toBe(422);
      const failed = () =>
        lines.map((line) => JSON.parse(line)).find((entry) => entry.msg.includes("reload failed"));
      writeFileSync(file, Buffer.from("d0b9c3dc0a", "hex")); // 泄密 in GBK
      // A rewrite within the file system's clock tick keeps the modification time: moved on.
      const later = new Date(Date.now() + 5_000);
      utimesSync(file, later, later);
      for (let i = 0; i < 250 && !failed(); i++) await new Promise((r) => setTimeout(r, 20));
      expect(failed()).toMatchObject({
        level: 40,
        list: "illegal",
        reason: expect.stringMatching(/block\.txt\): not UTF-8 text.*save it as UTF-8/),
      });
      expect(await chat()).toBe(422);
    } finally {
      await web.close();
      await model.close();
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
