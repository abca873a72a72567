import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeKnowledge, startFakeKnowledgeAndSearch } from "../../test/support/fake-knowledge-search.js";
import { type FakeModelService, startFakeModelService } from "../../test/support/fake-model-service.js";
import {
  newConversation,
  type Session,
  sendInNewConversation,
  setFilterWords,
  signUp,
} from "../../test/support/web-client.js";
import { startWeb, type WebHarness } from "../../test/support/web-harness.js";

/**
 * The names users write that others see (a conversation's title, through a share link; a folder's
 * name; a knowledge base's name and description, through sharing; a user name) are held to the
 * input filter as a message is: 422 CONTENT_BLOCKED naming the field and the words, nothing stored,
 * and a flag list's hits counted.
 */
describe("names held to the input filter", () => {
  let model: FakeModelService;
  let services: FakeKnowledge;
  let web: WebHarness;
  let url: string;
  let admin: Session;
  let user: Session;
  let folder: string;

  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), "hearth-web-names-"));
    writeFileSync(join(folder, "watch.txt"), "sourdough\n");
    model = await startFakeModelService({ models: ["tiny-story"] });
    services = await startFakeKnowledgeAndSearch();
    web = await startWeb(
      { modelUrl: model.url, knowledgeUrl: services.url, searchUrl: services.url },
      { filter: { lists: [{ id: "watch", action: "flag", file: join(folder, "watch.txt") }] } },
    );
    url = await web.app.listen({ host: "127.0.0.1", port: 0 });
    admin = await signUp(web.app, "admin");
    user = await signUp(web.app, "user");
    await setFilterWords(web.app, admin, ["forbidden"]);
  });
  afterAll(async () => {
    await web?.close();
    await services?.close();
    await model?.close();
    rmSync(folder, { recursive: true, force: true });
  });

  const call = (method: "POST" | "PATCH", path: string, payload: Record<string, unknown>, session = user) =>
    web.app.inject({ method, url: path, headers: session.headers, payload });
  /** The refusal a request got: its status, code and details. */
  const refusal = (response: { statusCode: number; json(): unknown }) => {
    const { error } = response.json() as { error?: { code: string; details?: Record<string, unknown> } };
    return { status: response.statusCode, code: error?.code, details: error?.details };
  };
  const blocked = (field: string, words = ["forbidden"]) => ({
    status: 422,
    code: "CONTENT_BLOCKED",
    details: { field, words },
  });

  it("refuses a conversation's title with a blocked word, on creation, rename and branch", async () => {
    const before = (await web.app.inject({ url: "/api/conversations", headers: user.headers })).json();
    expect(refusal(await call("POST", "/api/conversations", { title: "A FORBIDDEN plan" }))).toEqual(
      blocked("title", ["FORBIDDEN"]),
    );
    expect((await web.app.inject({ url: "/api/conversations", headers: user.headers })).json()).toEqual(
      before,
    );

    const id = await newConversation(web.app, user);
    expect(refusal(await call("PATCH", `/api/conversations/${id}`, { title: "forbidden" }))).toEqual(
      blocked("title"),
    );
    expect(
      (
        (await web.app.inject({ url: `/api/conversations/${id}`, headers: user.headers })).json() as {
          title: string;
        }
      ).title,
    ).toBe("New chat");
    const renamed = await call("PATCH", `/api/conversations/${id}`, { title: "Travel plans" });
    expect(renamed.statusCode).toBe(200);

    const { conversationId, response } = await sendInNewConversation(web.app, url, user, {
      model: "tiny-story",
      content: "hi",
    });
    await response.text();
    expect(
      refusal(
        await call("POST", `/api/conversations/${conversationId}/branch`, {
          seq: 0,
          title: "f-o-r-b-i-d-d-e-n",
        }),
      ),
    ).toEqual(blocked("title", ["f-o-r-b-i-d-d-e-n"]));
  });

  it("refuses a folder's name with a blocked word, on creation and rename", async () => {
    expect(refusal(await call("POST", "/api/folders", { name: "forbidden stuff" }))).toEqual(blocked("name"));
    const created = await call("POST", "/api/folders", { name: "Work" });
    expect(created.statusCode).toBe(201);
    const { id } = created.json() as { id: string };
    expect(refusal(await call("PATCH", `/api/folders/${id}`, { name: "forbidden" }))).toEqual(
      blocked("name"),
    );
    const { folders } = (await web.app.inject({ url: "/api/folders", headers: user.headers })).json() as {
      folders: Array<{ name: string }>;
    };
    expect(folders.map((f) => f.name)).toEqual(["Work"]);
  });

  it("refuses a knowledge base's name or description with a blocked word, on creation and change", async () => {
    expect(refusal(await call("POST", "/api/knowledge-bases", { name: "forbidden docs" }))).toEqual(
      blocked("name"),
    );
    expect(
      refusal(
        await call("POST", "/api/knowledge-bases", { name: "Docs", description: "All things forbidden" }),
      ),
    ).toEqual(blocked("description"));
    const listed = async () =>
      (
        (await web.app.inject({ url: "/api/knowledge-bases", headers: user.headers })).json() as {
          knowledgeBases: Array<{ name: string; description?: string | null }>;
        }
      ).knowledgeBases.map((base) => base.name);
    expect(await listed()).toEqual([]);

    const created = await call("POST", "/api/knowledge-bases", { name: "Docs", description: "Our docs" });
    expect(created.statusCode).toBe(201);
    const { id } = created.json() as { id: string };
    expect(refusal(await call("PATCH", `/api/knowledge-bases/${id}`, { name: "forbidden" }))).toEqual(
      blocked("name"),
    );
    expect(refusal(await call("PATCH", `/api/knowledge-bases/${id}`, { description: "forbidden" }))).toEqual(
      blocked("description"),
    );
    expect(await listed()).toEqual(["Docs"]);
    expect(
      (await call("PATCH", `/api/knowledge-bases/${id}`, { description: "All our docs" })).statusCode,
    ).toBe(200);
  });

  it("refuses a user name with a blocked word at sign-up, making no account", async () => {
    const refused = await web.app.inject({
      method: "POST",
      url: "/api/auth/signup",
      payload: { username: "forbidden", password: "correct horse battery" },
    });
    expect(refusal(refused)).toEqual(blocked("username"));
    const login = await web.app.inject({
      method: "POST",
      url: "/api/auth/login",
      payload: { username: "forbidden", password: "correct horse battery" },
    });
    expect(login.statusCode).toBe(401);
  });

  it("lets every name through when the input filter is off, and counts a flag list's hits in names", async () => {
    await web.app.inject({
      method: "PATCH",
      url: "/api/admin/settings",
      headers: admin.headers,
      payload: { filter: { words: ["forbidden"], applyToInput: false, applyToOutput: true } },
    });
    try {
      expect((await call("POST", "/api/folders", { name: "forbidden" })).statusCode).toBe(201);
    } finally {
      await setFilterWords(web.app, admin, ["forbidden"]);
    }
    expect((await call("POST", "/api/folders", { name: "Sourdough" })).statusCode).toBe(201);
    const metrics = (await web.app.inject({ url: "/metrics" })).body;
    expect(metrics).toMatch(/hearth_web_filter_hits_total\{[^}]*list="watch",action="flag"[^}]*\} [1-9]/);
  });
});
