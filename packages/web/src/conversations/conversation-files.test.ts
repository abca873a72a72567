import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeKnowledge, startFakeKnowledgeAndSearch } from "../../test/support/fake-knowledge-search.js";
import { type FakeModelService, startFakeModelService } from "../../test/support/fake-model-service.js";
import { newConversation, parseSse, type Session, signUp } from "../../test/support/web-client.js";
import { dialects, startWeb, type WebHarness } from "../../test/support/web-harness.js";

interface Citation {
  n: number;
  kind: string;
  title: string;
  url: string;
  snippet?: string;
}
interface Listed {
  knowledgeBaseId: string | null;
  documents: Array<{ id: string; name: string; status: string; error?: { code: string } | null }>;
}

/**
 * Files attached to a chat, over the browser API, on each database: attached, listed, searched on
 * every turn of their chat beside the bases chosen, cited and opened as a knowledge base's are,
 * removed; the conversation's owner's alone; deleted with their chat, on the knowledge service too.
 */
describe.each(dialects)("files in a chat on %s", (dialect) => {
  let model: FakeModelService;
  let services: FakeKnowledge;
  let web: WebHarness;
  let url: string;
  let admin: Session;
  let alice: Session;
  let bob: Session;

  beforeAll(async () => {
    model = await startFakeModelService({ models: ["tiny-story"], delayMs: 1 });
    services = await startFakeKnowledgeAndSearch();
    web = await startWeb(
      { modelUrl: model.url, knowledgeUrl: services.url, searchUrl: services.url },
      {},
      dialect,
    );
    url = await web.app.listen({ host: "127.0.0.1", port: 0 });
    admin = await signUp(web.app, "admin");
    alice = await signUp(web.app, "alice");
    bob = await signUp(web.app, "bob");
  });
  afterAll(async () => {
    await web?.close();
    await services?.close();
    await model?.close();
  });

  const attach = async (session: Session, conversationId: string, name: string, text: string) => {
    const form = new FormData();
    form.append("file", new Blob([text], { type: "text/plain" }), name);
    const response = await fetch(`${url}/api/conversations/${conversationId}/files`, {
      method: "POST",
      headers: session.headers,
      body: form,
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const listed = async (session: Session, conversationId: string) => {
    const response = await web.app.inject({
      url: `/api/conversations/${conversationId}/files`,
      headers: session.headers,
    });
    return { status: response.statusCode, body: response.json() as Listed };
  };
  const turn = async (
    session: Session,
    conversationId: string,
    content: string,
    knowledgeBaseIds: string[] = [],
    path: "messages" | "regenerate" = "messages",
  ) => {
    const response = await fetch(`${url}/api/conversations/${conversationId}/${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...session.headers },
      body: JSON.stringify({
        model: "tiny-story",
        ...(path === "messages" ? { content } : {}),
        knowledgeBaseIds,
      }),
    });
    const parts = parseSse(await response.text());
    return {
      status: response.status,
      parts,
      citations: (parts.find((part) => part.type === "sources")?.citations as Citation[] | undefined) ?? [],
    };
  };
  /** The bases the knowledge service holds now. */
  const serviceBases = async () =>
    (
      (await (await fetch(`${services.url}/v1/knowledge-bases`)).json()) as {
        knowledgeBases: Array<{ id: string }>;
      }
    ).knowledgeBases.map((base) => base.id);

  it("grounds every turn of the chat in its attached files, cited and opened as a knowledge base's", async () => {
    const id = await newConversation(web.app, alice);
    expect((await listed(alice, id)).body).toEqual({ knowledgeBaseId: null, documents: [] });
    const attached = await attach(
      alice,
      id,
      "lease.txt",
      "Intro.\n\nThe lease deposit is three months of rent.",
    );
    expect(attached.status).toBe(202);
    const { body } = await listed(alice, id);
    expect(body.knowledgeBaseId).toEqual(expect.any(String));
    expect(body.documents).toEqual([expect.objectContaining({ name: "lease.txt", status: "indexed" })]);
    const documentId = body.documents[0]!.id;

    const first = await turn(alice, id, "How large is the lease deposit?");
    expect(first.status).toBe(200);
    expect(first.citations).toEqual([
      {
        n: 1,
        kind: "document",
        title: "lease.txt",
        url: `/api/knowledge-bases/${body.knowledgeBaseId}/documents/${documentId}/file`,
        snippet: "The lease deposit is three months of rent.",
      },
    ]);
    // Stored with the answer, as a knowledge base's citation is.
    const stored = await web.app.inject({ url: `/api/conversations/${id}`, headers: alice.headers });
    expect(stored.json().messages[1].citations).toEqual(first.citations);
    // The citation opens its passage for the owner.
    const passages = await web.app.inject({
      url: `/api/knowledge-bases/${body.knowledgeBaseId}/documents/${documentId}/passages`,
      headers: alice.headers,
    });
    expect(passages.statusCode).toBe(200);
    expect(passages.json().passages.map((p: { text: string }) => p.text)).toContain(
      "The lease deposit is three months of rent.",
    );
    // A regeneration is grounded in them too, and so is a turn with a base chosen beside them.
    const again = await turn(alice, id, "", [], "regenerate");
    expect(again.citations.map((c) => c.title)).toEqual(["lease.txt"]);
    const handbook = (
      await web.app.inject({
        method: "POST",
        url: "/api/knowledge-bases",
        headers: alice.headers,
        payload: { name: "handbook" },
      })
    ).json() as { id: string };
    const form = new FormData();
    form.append("file", new Blob(["The deposit returns within a month."]), "handbook.txt");
    await fetch(`${url}/api/knowledge-bases/${handbook.id}/documents`, {
      method: "POST",
      headers: alice.headers,
      body: form,
    });
    const both = await turn(alice, id, "When does the deposit come back?", [handbook.id]);
    expect(services.queries.at(-1)!.knowledgeBaseIds.sort()).toEqual(
      [body.knowledgeBaseId, handbook.id].sort(),
    );
    expect(both.citations.map((c) => c.title).sort()).toEqual(["handbook.txt", "lease.txt"]);
    // Another chat of the same owner is not grounded in this chat's files.
    const other = await newConversation(web.app, alice);
    const asked = services.queries.length;
    const elsewhere = await turn(alice, other, "How large is the lease deposit?");
    expect(elsewhere.citations).toEqual([]);
    expect(services.queries.slice(asked)).toEqual([]);
  });

  it("attaches every file chosen together to a new chat, all to one base", async () => {
    const id = await newConversation(web.app, alice);
    const names = ["a.txt", "b.txt", "c.txt", "d.txt", "e.txt"];
    const attached = await Promise.all(names.map((name) => attach(alice, id, name, `The file ${name}.`)));
    expect(attached.map((answer) => answer.status)).toEqual(names.map(() => 202));
    const { body } = await listed(alice, id);
    expect(body.documents.map((d) => d.name).sort()).toEqual(names);
    const chatBases = (
      (await (await fetch(`${services.url}/v1/knowledge-bases`)).json()) as {
        knowledgeBases: Array<{ id: string; name: string }>;
      }
    ).knowledgeBases.filter((base) => base.name === `Chat files ${id}`);
    expect(chatBases.map((base) => base.id)).toEqual([body.knowledgeBaseId]);
  });

  it("attaches a file when another web replica made the chat's base and has not recorded it yet", async () => {
    const id = await newConversation(web.app, alice);
    // The other replica's knowledge base, made on the knowledge service as it makes one.
    const other = await fetch(`${services.url}/v1/knowledge-bases`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: `Chat files ${id}`, owner: alice.userId }),
    });
    const made = (await other.json()) as { id: string };
    expect((await attach(alice, id, "late.txt", "Attached second.")).status).toBe(202);
    const { body } = await listed(alice, id);
    expect(body.knowledgeBaseId).toBe(made.id);
    expect(body.documents.map((d) => d.name)).toEqual(["late.txt"]);
  });

  it("lists the chat's base nowhere else, and keeps its files to the conversation's owner", async () => {
    const id = await newConversation(web.app, alice);
    await attach(alice, id, "salary.txt", "Alice earns a secret amount.");
    const { body } = await listed(alice, id);
    const documentId = body.documents[0]!.id;
    for (const session of [alice, admin, bob]) {
      const bases = await web.app.inject({ url: "/api/knowledge-bases", headers: session.headers });
      expect((bases.json().knowledgeBases as Array<{ id: string }>).map((b) => b.id)).not.toContain(
        body.knowledgeBaseId,
      );
    }
    for (const session of [admin, bob]) {
      const attempts = [
        await web.app.inject({ url: `/api/conversations/${id}/files`, headers: session.headers }),
        await web.app.inject({
          method: "DELETE",
          url: `/api/conversations/${id}/files/${documentId}`,
          headers: session.headers,
        }),
        await web.app.inject({
          url: `/api/knowledge-bases/${body.knowledgeBaseId}/documents/${documentId}/passages`,
          headers: session.headers,
        }),
        await web.app.inject({
          url: `/api/knowledge-bases/${body.knowledgeBaseId}/documents/${documentId}/file`,
          headers: session.headers,
        }),
        await web.app.inject({
          url: `/api/knowledge-bases/${body.knowledgeBaseId}`,
          headers: session.headers,
        }),
      ];
      for (const response of attempts) {
        expect(response.statusCode).toBe(404);
        expect(response.body).not.toContain("secret");
      }
      const upload = await attach(session, id, "planted.txt", "planted");
      expect([upload.status, (upload.body.error as { code: string }).code]).toEqual([
        404,
        "CONVERSATION_NOT_FOUND",
      ]);
    }
    // The owner changes its documents, not the base itself: it goes with the chat.
    for (const request of [
      {
        method: "PUT" as const,
        url: `/api/knowledge-bases/${body.knowledgeBaseId}/access`,
        payload: { visibility: "public" },
      },
      { method: "DELETE" as const, url: `/api/knowledge-bases/${body.knowledgeBaseId}` },
    ]) {
      const response = await web.app.inject({ ...request, headers: alice.headers });
      expect(response.statusCode).toBe(403);
    }
    expect((await listed(alice, id)).body.documents.map((d) => d.name)).toEqual(["salary.txt"]);
  });

  it("removes a file before or after sending: the next turns are no longer grounded in it", async () => {
    const id = await newConversation(web.app, alice);
    await attach(alice, id, "menu.txt", "The canteen serves dumplings on Friday.");
    await attach(alice, id, "rota.txt", "Bob cleans the kitchen on Friday.");
    const before = (await listed(alice, id)).body;
    expect(before.documents.map((d) => d.name).sort()).toEqual(["menu.txt", "rota.txt"]);
    expect((await turn(alice, id, "What happens on Friday?")).citations.map((c) => c.title).sort()).toEqual([
      "menu.txt",
      "rota.txt",
    ]);
    const menu = before.documents.find((d) => d.name === "menu.txt")!;
    const removed = await web.app.inject({
      method: "DELETE",
      url: `/api/conversations/${id}/files/${menu.id}`,
      headers: alice.headers,
    });
    expect(removed.statusCode).toBe(204);
    expect((await listed(alice, id)).body.documents.map((d) => d.name)).toEqual(["rota.txt"]);
    expect((await turn(alice, id, "What happens on Friday?")).citations.map((c) => c.title)).toEqual([
      "rota.txt",
    ]);
    const again = await web.app.inject({
      method: "DELETE",
      url: `/api/conversations/${id}/files/${menu.id}`,
      headers: alice.headers,
    });
    expect([again.statusCode, again.json().error.code]).toEqual([404, "DOCUMENT_NOT_FOUND"]);
  });

  it("says why a file was refused, with the knowledge service's error code", async () => {
    const id = await newConversation(web.app, alice);
    const attached = await attach(alice, id, "setup.exe", "MZ\u0090binary");
    expect(attached.status).toBe(202);
    expect((await listed(alice, id)).body.documents).toEqual([
      expect.objectContaining({
        name: "setup.exe",
        status: "failed",
        error: expect.objectContaining({ code: "DOCUMENT_UNSUPPORTED_FORMAT" }),
      }),
    ]);
    const plain = await web.app.inject({
      method: "POST",
      url: `/api/conversations/${id}/files`,
      headers: alice.headers,
      payload: { file: "not multipart" },
    });
    expect([plain.statusCode, plain.json().error.code]).toEqual([400, "INVALID_REQUEST"]);
  });

  it("answers an upload whose chat is deleted while it is accepted as the chat's absence, and keeps no trace of it", async () => {
    const id = await newConversation(web.app, alice);
    await attach(alice, id, "first.txt", "The first file.");
    const base = (await listed(alice, id)).body.knowledgeBaseId!;
    services.beforeUploadAnswer = async () => {
      services.beforeUploadAnswer = undefined;
      const deleted = await web.app.inject({
        method: "DELETE",
        url: `/api/conversations/${id}`,
        headers: alice.headers,
      });
      expect(deleted.statusCode).toBe(204);
    };
    const late = await attach(alice, id, "late.txt", "Attached as the chat went.");
    expect([late.status, (late.body.error as { code: string }).code]).toEqual([
      404,
      "CONVERSATION_NOT_FOUND",
    ]);
    expect(await serviceBases()).not.toContain(base);
    const jobs = await web.db
      .selectFrom("knowledge_jobs")
      .select("id")
      .where("knowledge_base_id", "=", base)
      .execute();
    expect(jobs).toEqual([]);
    // The service is undisturbed: the next chat attaches and lists its file.
    const next = await newConversation(web.app, alice);
    expect((await attach(alice, next, "next.txt", "Next.")).status).toBe(202);
    expect((await listed(alice, next)).body.documents.map((d) => d.name)).toEqual(["next.txt"]);
  });

  it("deletes a chat's files with it, on the knowledge service too: alone, with its folder, with the account", async () => {
    const baseOf = async (session: Session, id: string) => {
      await attach(session, id, "notes.txt", "Some notes.");
      return (await listed(session, id)).body.knowledgeBaseId!;
    };
    // Alone.
    const alone = await newConversation(web.app, alice);
    const aloneBase = await baseOf(alice, alone);
    expect(await serviceBases()).toContain(aloneBase);
    expect(
      (await web.app.inject({ method: "DELETE", url: `/api/conversations/${alone}`, headers: alice.headers }))
        .statusCode,
    ).toBe(204);
    expect(await serviceBases()).not.toContain(aloneBase);
    // With its folder.
    const folder = (
      await web.app.inject({
        method: "POST",
        url: "/api/folders",
        headers: alice.headers,
        payload: { name: "F" },
      })
    ).json() as { id: string };
    const filed = await newConversation(web.app, alice);
    await web.app.inject({
      method: "PATCH",
      url: `/api/conversations/${filed}`,
      headers: alice.headers,
      payload: { folderId: folder.id },
    });
    const filedBase = await baseOf(alice, filed);
    expect(
      (
        await web.app.inject({
          method: "DELETE",
          url: `/api/folders/${folder.id}?withConversations=true`,
          headers: alice.headers,
        })
      ).statusCode,
    ).toBe(204);
    expect(await serviceBases()).not.toContain(filedBase);
    // With the account: the chat's files do not pass to the administrator, as its bases do.
    const carol = await signUp(web.app, "carol");
    const carolsChat = await newConversation(web.app, carol);
    const carolsBase = await baseOf(carol, carolsChat);
    const kept = (
      await web.app.inject({
        method: "POST",
        url: "/api/knowledge-bases",
        headers: carol.headers,
        payload: { name: "carol's own" },
      })
    ).json() as { id: string };
    expect(
      (
        await web.app.inject({
          method: "DELETE",
          url: `/api/admin/users/${carol.userId}`,
          headers: admin.headers,
        })
      ).statusCode,
    ).toBe(204);
    const bases = await serviceBases();
    expect(bases).not.toContain(carolsBase);
    expect(bases).toContain(kept.id);
    const adminBases = await web.app.inject({ url: "/api/knowledge-bases", headers: admin.headers });
    expect((adminBases.json().knowledgeBases as Array<{ id: string }>).map((b) => b.id)).toContain(kept.id);
    expect(await web.db.selectFrom("knowledge_base_deletions").selectAll().execute()).toEqual([]);
  });

  it("keeps a deleted chat's files that the knowledge service could not delete out of every list, and deletes them on the next try", async () => {
    const chat = await newConversation(web.app, alice);
    await attach(alice, chat, "notes.txt", "Some notes.");
    const base = (await listed(alice, chat)).body.knowledgeBaseId!;
    services.knowledgeBaseError = { status: 503, code: "DATABASE_UNAVAILABLE", message: "store down" };
    const deleted = await web.app.inject({
      method: "DELETE",
      url: `/api/conversations/${chat}`,
      headers: alice.headers,
    });
    services.knowledgeBaseError = undefined;
    expect(deleted.statusCode).toBe(204);
    expect(await serviceBases()).toContain(base);
    // Still on the knowledge service without an owner here, yet no base to adopt: it is a chat's.
    const adminList = await web.app.inject({ url: "/api/knowledge-bases", headers: admin.headers });
    expect((adminList.json().knowledgeBases as Array<{ id: string }>).map((b) => b.id)).not.toContain(base);
    const adopted = await web.app.inject({
      method: "POST",
      url: `/api/knowledge-bases/${base}/adopt`,
      headers: admin.headers,
    });
    expect([adopted.statusCode, adopted.json().error.code]).toEqual([404, "KNOWLEDGE_BASE_NOT_FOUND"]);
    // The next chat deleted tries again, and deletes it.
    const next = await newConversation(web.app, alice);
    await web.app.inject({ method: "DELETE", url: `/api/conversations/${next}`, headers: alice.headers });
    expect(await serviceBases()).not.toContain(base);
    expect(await web.db.selectFrom("knowledge_base_deletions").selectAll().execute()).toEqual([]);
  });
});
