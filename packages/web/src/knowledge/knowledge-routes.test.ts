import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rawRequest } from "../../../../test/support/raw-request.js";
import { type FakeKnowledge, startFakeKnowledgeAndSearch } from "../../test/support/fake-knowledge-search.js";
import { type FakeModelService, startFakeModelService } from "../../test/support/fake-model-service.js";
import { createApiKey, type Session, signUp } from "../../test/support/web-client.js";
import { dialects, startWeb, type WebHarness } from "../../test/support/web-harness.js";
import { audit } from "../audit/audit-log.js";

/** The knowledge routes as a user meets them: what reaches the knowledge service, and what comes back. */
describe("knowledge routes", () => {
  let model: FakeModelService;
  let services: FakeKnowledge;
  let web: WebHarness;
  let url: string;
  let admin: Session;
  let user: Session;

  beforeAll(async () => {
    model = await startFakeModelService();
    services = await startFakeKnowledgeAndSearch();
    web = await startWeb({ modelUrl: model.url, knowledgeUrl: services.url, searchUrl: services.url });
    url = await web.app.listen({ host: "127.0.0.1", port: 0 });
    admin = await signUp(web.app, "admin");
    user = await signUp(web.app, "user");
  });
  afterAll(async () => {
    await web.close();
    await services.close();
    await model.close();
  });

  const createBase = (session: Session, payload: Record<string, unknown>) =>
    web.app.inject({ method: "POST", url: "/api/knowledge-bases", headers: session.headers, payload });

  /** A new group of these users, by an administrator. */
  async function groupOf(name: string, members: Session[]) {
    const group = (
      await web.app.inject({
        method: "POST",
        url: "/api/admin/groups",
        headers: admin.headers,
        payload: { name },
      })
    ).json() as { id: string };
    await web.app.inject({
      method: "PUT",
      url: `/api/admin/groups/${group.id}/members`,
      headers: admin.headers,
      payload: { userIds: members.map((member) => member.userId) },
    });
    return group.id;
  }

  async function upload(session: Session, baseId: string, name: string, text: string) {
    const form = new FormData();
    form.append("file", new Blob([text]), name);
    const response = await fetch(`${url}/api/knowledge-bases/${baseId}/documents`, {
      method: "POST",
      headers: session.headers,
      body: form,
    });
    return (await response.json()) as { job: { id: string }; documents: Array<{ id: string }> };
  }

  it("says with the bases the largest file an upload may hold, as the knowledge service says it", async () => {
    services.maxUploadBytes = 5 * 1024 * 1024;
    try {
      const response = await web.app.inject({
        method: "GET",
        url: "/api/knowledge-bases",
        headers: user.headers,
      });
      expect(response.json()).toMatchObject({ maxUploadBytes: 5 * 1024 * 1024 });
    } finally {
      services.maxUploadBytes = 100 * 1024 * 1024;
    }
  });

  describe("watched folders", () => {
    it("refuses a watchFolder from a user who is not an administrator, and creates nothing", async () => {
      const before = services.knowledgeBaseBodies.length;
      const response = await createBase(user, { name: "sneaky", watchFolder: "/etc" });
      expect(response.statusCode).toBe(403);
      expect(response.json().error.code).toBe("FORBIDDEN");
      expect(response.json().error.message).toContain("watchFolder");
      expect(services.knowledgeBaseBodies.length).toBe(before);
    });

    it("refuses to set or clear the watchFolder of a user's own base", async () => {
      const base = (await createBase(user, { name: "mine" })).json() as { id: string };
      for (const watchFolder of ["/var/lib/hearth", null]) {
        const response = await web.app.inject({
          method: "PATCH",
          url: `/api/knowledge-bases/${base.id}`,
          headers: user.headers,
          payload: { watchFolder },
        });
        expect(response.statusCode).toBe(403);
        expect(response.json().error.code).toBe("FORBIDDEN");
      }
      const after = await web.app.inject({ url: `/api/knowledge-bases/${base.id}`, headers: user.headers });
      expect(after.json().watchFolder).toBeNull();
      // Renaming is still the owner's to do.
      const renamed = await web.app.inject({
        method: "PATCH",
        url: `/api/knowledge-bases/${base.id}`,
        headers: user.headers,
        payload: { name: "renamed" },
      });
      expect(renamed.statusCode).toBe(200);
      expect(renamed.json().name).toBe("renamed");
    });

    it("forwards only the documented fields, and refuses others", async () => {
      const created = await createBase(user, { name: "plain", description: "notes", visibility: "public" });
      expect(created.statusCode).toBe(201);
      expect(services.knowledgeBaseBodies.at(-1)).toEqual({
        method: "POST",
        path: "/v1/knowledge-bases",
        // The owner is the signed-in user, never a field the user sends (names are unique per owner).
        body: { name: "plain", description: "notes", owner: expect.any(String) },
      });
      const unknown = await createBase(user, { name: "odd", storagePath: "/" });
      expect(unknown.statusCode).toBe(400);
      expect(unknown.json().error.code).toBe("INVALID_REQUEST");
      const owner = await createBase(user, { name: "odd", owner: "someone-else" });
      expect(owner.statusCode).toBe(400);
      expect(owner.json().error.code).toBe("INVALID_REQUEST");
    });

    it("lets an administrator watch a folder", async () => {
      const created = await createBase(admin, { name: "shared drive", watchFolder: "/srv/shared" });
      expect(created.statusCode).toBe(201);
      expect(created.json().watchFolder).toBe("/srv/shared");
      const changed = await web.app.inject({
        method: "PATCH",
        url: `/api/knowledge-bases/${created.json().id}`,
        headers: admin.headers,
        payload: { watchFolder: "/srv/other" },
      });
      expect(changed.statusCode).toBe(200);
      expect(changed.json().watchFolder).toBe("/srv/other");
    });
  });

  describe("embedding models", () => {
    it("answers a failing knowledge service as 502 UPSTREAM_ERROR, never with its message naming its files, and records no base", async () => {
      const existing = (await createBase(user, { name: "made before" })).json() as { id: string };
      // A user with no base yet: the name is not checked against the list first.
      const newcomer = await signUp(web.app, "newcomer");
      services.knowledgeBaseError = {
        status: 503,
        code: "DATABASE_UNAVAILABLE",
        message: "/srv/hearth/data/knowledge/knowledge.db is damaged: restore a backup",
      };
      try {
        const created = await createBase(newcomer, { name: "while it fails" });
        const listed = await web.app.inject({
          method: "GET",
          url: `/api/knowledge-bases/${existing.id}/documents`,
          headers: user.headers,
        });
        for (const answer of [created, listed]) {
          expect(answer.statusCode).toBe(502);
          expect(answer.json().error.code).toBe("UPSTREAM_ERROR");
          expect(answer.body).not.toContain("knowledge.db");
        }
      } finally {
        services.knowledgeBaseError = undefined;
      }
      const mine = await web.app.inject({
        method: "GET",
        url: "/api/knowledge-bases",
        headers: user.headers,
      });
      expect(mine.json()).not.toContainEqual(expect.objectContaining({ name: "while it fails" }));
    });

    it("refuses a model the user may not use as a base's embedding model, on create and on change", async () => {
      const restricted = await web.app.inject({
        method: "PUT",
        url: "/api/admin/models/secret-embed/access",
        headers: admin.headers,
        payload: { groupIds: [], adminOnly: true },
      });
      expect(restricted.statusCode).toBe(200);
      const before = services.knowledgeBaseBodies.length;
      const created = await createBase(user, { name: "smuggled", embeddingModel: "secret-embed" });
      expect(created.statusCode).toBe(403);
      expect(created.json().error.code).toBe("MODEL_NOT_ALLOWED");
      expect(services.knowledgeBaseBodies.length).toBe(before);

      const base = (await createBase(user, { name: "own embeddings" })).json() as { id: string };
      const changed = await web.app.inject({
        method: "PATCH",
        url: `/api/knowledge-bases/${base.id}`,
        headers: user.headers,
        payload: { embeddingModel: "secret-embed" },
      });
      expect(changed.statusCode).toBe(403);
      expect(changed.json().error.code).toBe("MODEL_NOT_ALLOWED");
      expect(services.knowledgeBaseBodies.at(-1)?.method).toBe("POST");

      expect((await createBase(admin, { name: "admin's", embeddingModel: "secret-embed" })).statusCode).toBe(
        201,
      );
    });

    it("forwards a base's rerank model on create and change, refusing one the user may not use as an embedding model is", async () => {
      await web.app.inject({
        method: "PUT",
        url: "/api/admin/models/secret-rerank/access",
        headers: admin.headers,
        payload: { groupIds: [], adminOnly: true },
      });
      const before = services.knowledgeBaseBodies.length;
      const smuggled = await createBase(user, { name: "smuggled rerank", rerankModel: "secret-rerank" });
      expect([smuggled.statusCode, smuggled.json().error.code]).toEqual([403, "MODEL_NOT_ALLOWED"]);
      expect(services.knowledgeBaseBodies.length).toBe(before);

      const created = await createBase(user, { name: "reranked", rerankModel: "bge-reranker-v2-m3" });
      expect(created.statusCode).toBe(201);
      expect(created.json()).toMatchObject({ rerankModel: "bge-reranker-v2-m3" });
      expect(services.knowledgeBaseBodies.at(-1)?.body).toEqual({
        name: "reranked",
        rerankModel: "bge-reranker-v2-m3",
        owner: expect.any(String),
      });
      const change = (rerankModel: string | null) =>
        web.app.inject({
          method: "PATCH",
          url: `/api/knowledge-bases/${created.json().id}`,
          headers: user.headers,
          payload: { rerankModel },
        });
      const refused = await change("secret-rerank");
      expect([refused.statusCode, refused.json().error.code]).toEqual([403, "MODEL_NOT_ALLOWED"]);
      expect(services.knowledgeBaseBodies.at(-1)?.method).toBe("POST");
      // Taken away without re-indexing: a query-time setting.
      const cleared = await change(null);
      expect(cleared.statusCode).toBe(200);
      expect(cleared.json()).toMatchObject({ rerankModel: null });
      expect(cleared.json()).not.toHaveProperty("reindexJobId");
      expect(services.knowledgeBaseBodies.at(-1)?.body).toEqual({ rerankModel: null });
    });
  });

  describe("document files", () => {
    it("serves an uploaded HTML page sandboxed, never as a page of the app's origin", async () => {
      const base = (await createBase(user, { name: "pages" })).json() as { id: string };
      const { documents } = await upload(user, base.id, "page.html", "<script>steal()</script>");
      const fileUrl = `/api/knowledge-bases/${base.id}/documents/${documents[0]!.id}/file`;
      for (const sandboxHeaders of [true, false]) {
        services.sandboxHeaders = sandboxHeaders;
        const response = await web.app.inject({ url: fileUrl, headers: user.headers });
        const where = `knowledge service sends sandbox headers: ${sandboxHeaders}`;
        expect(response.statusCode, where).toBe(200);
        expect(response.body, where).toContain("<script>");
        expect(response.headers["x-content-type-options"], where).toBe("nosniff");
        expect(response.headers["content-security-policy"], where).toBe("default-src 'none'; sandbox");
        // Shown as text in the browser (a citation opens readable), never rendered as a page.
        expect(response.headers["content-type"], where).toBe("text/plain; charset=utf-8");
        expect(response.headers["content-disposition"], where).toMatch(/^inline/);
      }
      services.sandboxHeaders = true;
    });

    it("refuses a document id that would climb to another path of the knowledge service", async () => {
      const base = (await createBase(user, { name: "climb" })).json() as { id: string };
      await upload(user, base.id, "keep.txt", "kept");
      for (const documentId of ["%2E%2E", "..", "%2e", "."]) {
        // As sent by curl --path-as-is: fetch and inject resolve the dots before sending.
        const response = await rawRequest(url, {
          method: "DELETE",
          path: `/api/knowledge-bases/${base.id}/documents/${documentId}`,
          headers: user.headers,
        });
        expect(response.status, `${documentId} ${response.body}`).toBe(400);
        expect(JSON.parse(response.body).error.code).toBe("INVALID_REQUEST");
      }
      const kept = await web.app.inject({
        url: `/api/knowledge-bases/${base.id}/documents`,
        headers: user.headers,
      });
      expect(kept.json().documents).toHaveLength(1);
    });

    it("records who deleted which document of which base in the audit log", async () => {
      const base = (await createBase(user, { name: "audited" })).json() as { id: string };
      const { documents } = await upload(user, base.id, "salaries.txt", "numbers");
      const deleted = await web.app.inject({
        method: "DELETE",
        url: `/api/knowledge-bases/${base.id}/documents/${documents[0]!.id}`,
        headers: user.headers,
      });
      expect(deleted.statusCode).toBe(204);
      const audit = await web.app.inject({ url: "/api/admin/audit", headers: admin.headers });
      expect(audit.json().entries[0]).toMatchObject({
        action: "knowledge-base.document-delete",
        actorName: "user",
        target: base.id,
        targetName: "audited",
        details: { documentId: documents[0]!.id, name: "salaries.txt" },
      });
    });

    it("names a deleted base in the audit log, after it is gone", async () => {
      const base = (await createBase(user, { name: "old minutes" })).json() as { id: string };
      const deleted = await web.app.inject({
        method: "DELETE",
        url: `/api/knowledge-bases/${base.id}`,
        headers: user.headers,
      });
      expect(deleted.statusCode).toBe(204);
      const audit = await web.app.inject({ url: "/api/admin/audit", headers: admin.headers });
      expect(audit.json().entries[0]).toMatchObject({
        action: "knowledge-base.delete",
        target: base.id,
        targetName: "old minutes",
        details: { name: "old minutes" },
      });
    });
  });

  describe("switching a document off for answers", () => {
    it("lets whoever may write the base switch a document off and on, audited; a reader is refused, a stranger as for any base they cannot see", async () => {
      const writer = await signUp(web.app, "switch-writer");
      const reader = await signUp(web.app, "switch-reader");
      const stranger = await signUp(web.app, "switch-stranger");
      const base = (await createBase(user, { name: "rules" })).json() as { id: string };
      await web.app.inject({
        method: "PUT",
        url: `/api/knowledge-bases/${base.id}/access`,
        headers: user.headers,
        payload: {
          visibility: "shared",
          shares: [
            { groupId: await groupOf("rule writers", [writer]), permission: "write" },
            { groupId: await groupOf("rule readers", [reader]), permission: "read" },
          ],
        },
      });
      const { documents } = await upload(user, base.id, "old-rules.txt", "Parking costs five euros a day.");
      await upload(user, base.id, "new-rules.txt", "Parking is free for bicycles.");
      const documentId = documents[0]!.id;
      const documentUrl = `/api/knowledge-bases/${base.id}/documents/${documentId}`;
      const change = (session: Session, payload: Record<string, unknown>) =>
        web.app.inject({ method: "PATCH", url: documentUrl, headers: session.headers, payload });
      const found = async () =>
        (
          (
            await web.app.inject({
              method: "POST",
              url: `/api/knowledge-bases/${base.id}/query`,
              headers: reader.headers,
              payload: { query: "parking" },
            })
          ).json() as { results: Array<{ documentTitle: string }> }
        ).results
          .map((result) => result.documentTitle)
          .sort();
      const audited = async () =>
        (
          (await web.app.inject({ url: "/api/admin/audit", headers: admin.headers })).json() as {
            entries: Array<{ action: string }>;
          }
        ).entries.filter((entry) => entry.action.startsWith("knowledge-base.document-"));
      expect(await found()).toEqual(["new-rules.txt", "old-rules.txt"]);

      // Neither a reader nor a stranger reaches the knowledge service; a stray field neither.
      const asked = services.knowledgeBaseBodies.length;
      const byReader = await change(reader, { enabled: false });
      expect(byReader.statusCode).toBe(403);
      expect(byReader.json().error.code).toBe("FORBIDDEN");
      const byStranger = await change(stranger, { enabled: false });
      expect(byStranger.statusCode).toBe(404);
      expect(byStranger.json().error.code).toBe("KNOWLEDGE_BASE_NOT_FOUND");
      const stray = await change(writer, { enabled: false, name: "renamed.txt" });
      expect(stray.statusCode).toBe(400);
      expect(stray.json().error.code).toBe("INVALID_REQUEST");
      expect(services.knowledgeBaseBodies.length).toBe(asked);
      expect(await found()).toEqual(["new-rules.txt", "old-rules.txt"]);

      const off = await change(writer, { enabled: false });
      expect(off.statusCode).toBe(200);
      expect(off.json()).toMatchObject({ id: documentId, name: "old-rules.txt", enabled: false });
      expect(services.knowledgeBaseBodies.at(-1)).toEqual({
        method: "PATCH",
        path: `/v1/knowledge-bases/${base.id}/documents/${documentId}`,
        body: { enabled: false },
      });
      expect(await found()).toEqual(["new-rules.txt"]);
      // The reader sees which documents are off.
      const listed = await web.app.inject({
        url: `/api/knowledge-bases/${base.id}/documents`,
        headers: reader.headers,
      });
      expect(
        (listed.json() as { documents: Array<{ name: string; enabled: boolean }> }).documents.map((d) => [
          d.name,
          d.enabled,
        ]),
      ).toEqual([
        ["old-rules.txt", false],
        ["new-rules.txt", true],
      ]);
      // Switching it off again changes nothing, and is not recorded again.
      expect((await change(writer, { enabled: false })).statusCode).toBe(200);
      expect((await change(user, { enabled: true })).statusCode).toBe(200);
      expect(await found()).toEqual(["new-rules.txt", "old-rules.txt"]);
      const entries = await audited();
      expect(entries.slice(0, 2)).toEqual([
        expect.objectContaining({
          action: "knowledge-base.document-enable",
          actorName: "user",
          target: base.id,
          targetName: "rules",
          details: { documentId, name: "old-rules.txt" },
        }),
        expect.objectContaining({
          action: "knowledge-base.document-disable",
          actorName: "switch-writer",
          target: base.id,
          details: { documentId, name: "old-rules.txt" },
        }),
      ]);
      expect(entries.filter((entry) => entry.action === "knowledge-base.document-disable")).toHaveLength(1);
    });
  });

  describe("another user's bases", () => {
    it("name their owner (ownerName) to whoever sees them, not the caller's own, and count only the documents answers may use", async () => {
      const base = (await createBase(user, { name: "owner-named" })).json() as { id: string };
      const listed = async (session: Session) =>
        (
          (await web.app.inject({ url: "/api/knowledge-bases", headers: session.headers })).json() as {
            knowledgeBases: Array<{
              id: string;
              owned: boolean;
              ownerName?: string;
              documentCount: number;
              indexedDocumentCount?: number;
            }>;
          }
        ).knowledgeBases.find((b) => b.id === base.id);
      expect(await listed(admin)).toMatchObject({ owned: false, ownerName: "user" });
      const own = await listed(user);
      expect(own).toMatchObject({ owned: true });
      expect(own?.ownerName).toBeUndefined();
      // A refused file is counted among its documents, not among those answers may use.
      const boundary = "----hearth";
      const part = (name: string, text: string) =>
        `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="${name}"\r\ncontent-type: text/plain\r\n\r\n${text}\r\n`;
      for (const [name, text] of [
        ["good.txt", "A usable passage."],
        ["fake.pdf", "MZ\u0090"],
      ] as const) {
        const uploaded = await web.app.inject({
          method: "POST",
          url: `/api/knowledge-bases/${base.id}/documents`,
          headers: { ...user.headers, "content-type": `multipart/form-data; boundary=${boundary}` },
          payload: `${part(name, text)}--${boundary}--\r\n`,
        });
        expect(uploaded.statusCode).toBe(202);
      }
      expect(await listed(user)).toMatchObject({ documentCount: 2, indexedDocumentCount: 1 });
    });
  });

  describe("bases made outside the web UI", () => {
    it("lists a base without an owner to administrators only, who adopt it, private and audited", async () => {
      const made = await fetch(`${services.url}/v1/knowledge-bases`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: "ingested by cli" }),
      });
      const { id } = (await made.json()) as { id: string };
      const listed = async (session: Session) =>
        (
          (await web.app.inject({ url: "/api/knowledge-bases", headers: session.headers })).json() as {
            knowledgeBases: Array<{ id: string; unowned?: boolean; permission: string }>;
          }
        ).knowledgeBases.find((base) => base.id === id);
      expect(await listed(user)).toBeUndefined();
      expect(await listed(admin)).toMatchObject({ unowned: true, permission: "manage" });

      const refused = await web.app.inject({
        method: "POST",
        url: `/api/knowledge-bases/${id}/adopt`,
        headers: user.headers,
        payload: {},
      });
      expect(refused.statusCode).toBe(403);
      const adopted = await web.app.inject({
        method: "POST",
        url: `/api/knowledge-bases/${id}/adopt`,
        headers: admin.headers,
        payload: {},
      });
      expect(adopted.statusCode).toBe(200);
      expect(await listed(admin)).toMatchObject({ visibility: "private", permission: "manage", owned: true });
      expect((await listed(admin))?.unowned).toBeUndefined();
      // Now it is the admin's as any base they made: its documents open, and sharing works.
      const documents = await web.app.inject({
        url: `/api/knowledge-bases/${id}/documents`,
        headers: admin.headers,
      });
      expect(documents.statusCode).toBe(200);
      const audit = await web.app.inject({ url: "/api/admin/audit", headers: admin.headers });
      expect(audit.json().entries[0]).toMatchObject({
        action: "knowledge-base.access-change",
        actorName: "admin",
        target: id,
        targetName: "ingested by cli",
        details: { owner: "admin", via: "web" },
      });

      // A second administrator cannot take it from the first.
      const other = await signUp(web.app, "second-admin");
      const promoted = await web.app.inject({
        method: "PATCH",
        url: `/api/admin/users/${other.userId}`,
        headers: admin.headers,
        payload: { role: "admin" },
      });
      expect(promoted.statusCode).toBe(200);
      const taken = await web.app.inject({
        method: "POST",
        url: `/api/knowledge-bases/${id}/adopt`,
        headers: other.headers,
        payload: {},
      });
      expect(taken.statusCode).toBe(403);
      expect(taken.json().error.code).toBe("FORBIDDEN");
      const missing = await web.app.inject({
        method: "POST",
        url: "/api/knowledge-bases/no-such-base/adopt",
        headers: admin.headers,
        payload: {},
      });
      expect(missing.statusCode).toBe(404);
      expect(missing.json().error.code).toBe("KNOWLEDGE_BASE_NOT_FOUND");
    });
  });

  describe("shares", () => {
    it("lets a write sharer change the documents but not the base's settings, which its owner changes audited", async () => {
      const editor = await signUp(web.app, "editor");
      const group = (
        await web.app.inject({
          method: "POST",
          url: "/api/admin/groups",
          headers: admin.headers,
          payload: { name: "editors" },
        })
      ).json() as { id: string };
      await web.app.inject({
        method: "PUT",
        url: `/api/admin/groups/${group.id}/members`,
        headers: admin.headers,
        payload: { userIds: [editor.userId] },
      });
      const base = (await createBase(user, { name: "team notes" })).json() as { id: string };
      const shared = await web.app.inject({
        method: "PUT",
        url: `/api/knowledge-bases/${base.id}/access`,
        headers: user.headers,
        payload: { visibility: "shared", shares: [{ groupId: group.id, permission: "write" }] },
      });
      expect(shared.statusCode).toBe(200);
      const sharing = await web.app.inject({
        url: "/api/admin/audit?action=knowledge-base.access-change",
        headers: admin.headers,
      });
      // The group is named in the entry (which outlives the group), not only by its id.
      expect(sharing.json().entries[0].details.shares).toEqual([
        { groupId: group.id, group: "editors", permission: "write" },
      ]);
      const change = (session: Session, payload: Record<string, unknown>) =>
        web.app.inject({
          method: "PATCH",
          url: `/api/knowledge-bases/${base.id}`,
          headers: session.headers,
          payload,
        });

      const { documents } = await upload(editor, base.id, "minutes.txt", "we met");
      expect(documents).toHaveLength(1);
      for (const payload of [{ name: "hijacked" }, { chunking: { maxTokens: 100 } }]) {
        const refused = await change(editor, payload);
        expect(refused.statusCode, JSON.stringify(payload)).toBe(403);
        expect(refused.json().error.code).toBe("FORBIDDEN");
      }
      const kept = await web.app.inject({ url: `/api/knowledge-bases/${base.id}`, headers: editor.headers });
      expect(kept.json().name).toBe("team notes");

      expect((await change(user, { name: "team minutes" })).statusCode).toBe(200);
      const audit = await web.app.inject({ url: "/api/admin/audit", headers: admin.headers });
      expect(audit.json().entries[0]).toMatchObject({
        action: "knowledge-base.settings-change",
        actorName: "user",
        target: base.id,
        details: { name: "team minutes" },
      });
    });
  });

  describe("jobs", () => {
    it("answers another user's job exactly as an unknown one", async () => {
      const stranger = await signUp(web.app, "stranger");
      const base = (await createBase(user, { name: "jobs" })).json() as { id: string };
      const { job } = await upload(user, base.id, "notes.txt", "private notes");
      const mine = await web.app.inject({ url: `/api/jobs/${job.id}`, headers: user.headers });
      expect(mine.statusCode).toBe(200);
      for (const [method, suffix] of [
        ["GET", ""],
        ["GET", "/events"],
        ["POST", "/cancel"],
      ] as const) {
        const call = (id: string) =>
          web.app.inject({ method, url: `/api/jobs/${id}${suffix}`, headers: stranger.headers });
        const theirs = await call(job.id);
        const unknown = await call("no-such-job");
        expect(theirs.statusCode, `${method} ${suffix}`).toBe(404);
        expect(theirs.json().error.code, `${method} ${suffix}`).toBe("JOB_NOT_FOUND");
        expect(unknown.statusCode, `${method} ${suffix}`).toBe(404);
        expect(unknown.body, `${method} ${suffix}`).toBe(theirs.body);
      }
    });

    it("lets whoever may write a base cancel the job its document list names, one started outside the web service too", async () => {
      const stranger = await signUp(web.app, "outsider");
      const base = (await createBase(user, { name: "watched elsewhere" })).json() as { id: string };
      // A job the knowledge service started itself (a watched folder's scan): the web never saw it.
      const {
        jobId,
        documentIds: [documentId],
      } = services.ingestElsewhere(base.id, { "scanned.txt": "Scanned text." });
      const list = async () =>
        (
          await web.app.inject({ url: `/api/knowledge-bases/${base.id}/documents`, headers: user.headers })
        ).json().documents as Array<{ id: string; status: string; jobId?: string; error?: { code: string } }>;
      expect(await list()).toEqual([expect.objectContaining({ id: documentId, status: "queued", jobId })]);

      const cancel = (session: Session, id: string) =>
        web.app.inject({
          method: "POST",
          url: `/api/jobs/${id}/cancel`,
          headers: session.headers,
          payload: {},
        });
      // Another user's job answers as an unknown one does, and stays running.
      const theirs = await cancel(stranger, jobId);
      const unknown = await cancel(stranger, "no-such-job");
      expect(theirs.statusCode).toBe(404);
      expect(theirs.json().error.code).toBe("JOB_NOT_FOUND");
      expect(unknown.body).toBe(theirs.body);
      expect((await list())[0]?.jobId).toBe(jobId);

      const cancelled = await cancel(user, jobId);
      expect(cancelled.statusCode).toBe(200);
      expect(cancelled.json()).toMatchObject({ id: jobId, status: "cancelled" });
      const [document] = await list();
      expect(document).toMatchObject({ status: "failed", error: { code: "JOB_CANCELLED" } });
      expect(document).not.toHaveProperty("jobId");
    });
  });

  describe("retrieval test", () => {
    const ask = (session: Session, baseId: string, payload: unknown) =>
      web.app.inject({
        method: "POST",
        url: `/api/knowledge-bases/${baseId}/query`,
        headers: session.headers,
        payload: payload as Record<string, unknown>,
      });
    type Answer = {
      results: Array<{ documentTitle: string; text: string; score: number }>;
      warnings?: Array<{ code: string }>;
    };

    it("gives a reader the base's passages for a question, best first, in English and in Chinese; a stranger as any base they cannot read", async () => {
      const reader = await signUp(web.app, "reader");
      const stranger = await signUp(web.app, "passer-by");
      const groupId = await groupOf("readers", [reader]);
      const base = (await createBase(user, { name: "handbook" })).json() as { id: string };
      await web.app.inject({
        method: "PUT",
        url: `/api/knowledge-bases/${base.id}/access`,
        headers: user.headers,
        payload: { visibility: "shared", shares: [{ groupId, permission: "read" }] },
      });
      await upload(
        user,
        base.id,
        "handbook.txt",
        "Vacation requests go to your manager.\n\nThe office opens at nine.\n\nEvery employee gets twenty vacation days a year.",
      );
      await upload(user, base.id, "员工守则.txt", "办公室九点开门。\n\n员工每年享有十五天带薪年假。");

      const english = await ask(reader, base.id, { query: "vacation days for every employee" });
      expect(english.statusCode).toBe(200);
      const { results, warnings } = english.json() as Answer;
      expect(results.map((result) => [result.documentTitle, result.text])).toEqual([
        ["handbook.txt", "Every employee gets twenty vacation days a year."],
        ["handbook.txt", "Vacation requests go to your manager."],
      ]);
      expect(results[0]!.score).toBeGreaterThan(results[1]!.score);
      // Sent on as asked, the defaults filled in; the default mode asks for no warning.
      expect(services.knowledgeBaseBodies.at(-1)).toEqual({
        method: "POST",
        path: `/v1/knowledge-bases/${base.id}/query`,
        body: { query: "vacation days for every employee", topK: 10 },
      });
      expect(warnings).toBeUndefined();

      const chinese = await ask(reader, base.id, { query: "年假有几天？", topK: 5, mode: "lexical" });
      expect(chinese.statusCode).toBe(200);
      expect((chinese.json() as Answer).results).toEqual([
        expect.objectContaining({ documentTitle: "员工守则.txt", text: "员工每年享有十五天带薪年假。" }),
      ]);

      // Another user's base answers as the base's other routes do for them: as if it did not exist.
      const asked = services.knowledgeBaseBodies.length;
      const refused = await ask(stranger, base.id, { query: "vacation days" });
      const documents = await web.app.inject({
        url: `/api/knowledge-bases/${base.id}/documents`,
        headers: stranger.headers,
      });
      const unknown = await ask(stranger, "no-such-base", { query: "vacation days" });
      expect(refused.statusCode).toBe(404);
      expect(refused.json().error.code).toBe("KNOWLEDGE_BASE_NOT_FOUND");
      expect(refused.body).toBe(documents.body);
      expect(refused.body).toBe(unknown.body);
      // Its bad question too: nothing says there is a base to ask.
      expect((await ask(stranger, base.id, { query: "" })).body).toBe(refused.body);
      expect(services.knowledgeBaseBodies.length).toBe(asked);
    });

    it("refuses a question out of bounds with INVALID_REQUEST, asking nothing of the knowledge service", async () => {
      const base = (await createBase(user, { name: "bounds" })).json() as { id: string };
      const asked = services.knowledgeBaseBodies.length;
      for (const payload of [
        {},
        { query: "   " },
        { query: "x".repeat(8001) },
        { query: "leave", topK: 0 },
        { query: "leave", topK: 51 },
        { query: "leave", topK: 2.5 },
        { query: "leave", mode: "semantic" },
        { query: "leave", knowledgeBaseIds: ["another"] },
      ]) {
        const response = await ask(user, base.id, payload);
        expect(response.statusCode, JSON.stringify(payload).slice(0, 80)).toBe(400);
        expect(response.json().error.code).toBe("INVALID_REQUEST");
      }
      expect(services.knowledgeBaseBodies.length).toBe(asked);
      expect((await ask(user, base.id, { query: "leave", topK: 50, mode: "hybrid" })).statusCode).toBe(200);
    });

    it("holds the passages to the base's minimum relevance, set in its settings without re-indexing; a test's own tries another", async () => {
      const base = (await createBase(user, { name: "thresholds" })).json() as { id: string };
      await upload(
        user,
        base.id,
        "handbook.txt",
        "Vacation requests go to your manager.\n\nEvery employee gets twenty vacation days a year.",
      );
      const relevances = async (payload: Record<string, unknown>) =>
        ((await ask(user, base.id, payload)).json() as { results: Array<{ relevance: number }> }).results.map(
          (result) => result.relevance,
        );
      const question = { query: "vacation employee" };
      expect(await relevances(question)).toEqual([1, 0.5]);
      const change = (payload: Record<string, unknown>) =>
        web.app.inject({
          method: "PATCH",
          url: `/api/knowledge-bases/${base.id}`,
          headers: user.headers,
          payload,
        });
      const saved = await change({ minRelevance: 0.6 });
      expect(saved.statusCode).toBe(200);
      expect(saved.json()).toMatchObject({ minRelevance: 0.6 });
      expect(saved.json()).not.toHaveProperty("reindexJobId");
      expect(services.knowledgeBaseBodies.at(-1)).toEqual({
        method: "PATCH",
        path: `/v1/knowledge-bases/${base.id}`,
        body: { minRelevance: 0.6 },
      });
      expect(await relevances(question)).toEqual([1]);
      expect(await relevances({ ...question, minRelevance: 0 })).toEqual([1, 0.5]);
      expect(services.knowledgeBaseBodies.at(-1)?.body).toEqual({ ...question, topK: 10, minRelevance: 0 });

      const asked = services.knowledgeBaseBodies.length;
      for (const minRelevance of [1.5, -0.1, "0.5"]) {
        const refused = await change({ minRelevance });
        expect([refused.statusCode, refused.json().error.code]).toEqual([400, "INVALID_REQUEST"]);
        const test = await ask(user, base.id, { ...question, minRelevance });
        expect([test.statusCode, test.json().error.code]).toEqual([400, "INVALID_REQUEST"]);
      }
      expect(services.knowledgeBaseBodies.length).toBe(asked);
    });

    it("says which model reranked the passages, asks for them unreranked when told, and passes a rerank failure on as a warning", async () => {
      const base = (
        await createBase(user, { name: "reranked handbook", rerankModel: "bge-reranker-v2-m3" })
      ).json() as { id: string };
      await upload(user, base.id, "leave.txt", "Annual leave is booked in the portal.");
      const reranked = await ask(user, base.id, { query: "annual leave" });
      expect(reranked.statusCode).toBe(200);
      expect(reranked.json()).toMatchObject({
        results: [{ text: "Annual leave is booked in the portal." }],
        reranked: [{ model: "bge-reranker-v2-m3", knowledgeBaseIds: [base.id] }],
      });
      const plain = await ask(user, base.id, { query: "annual leave", rerank: false });
      expect(plain.json()).not.toHaveProperty("reranked");
      expect(services.knowledgeBaseBodies.at(-1)?.body).toEqual({
        query: "annual leave",
        topK: 10,
        rerank: false,
      });
      expect((await ask(user, base.id, { query: "annual leave", rerank: "no" })).statusCode).toBe(400);

      services.failingRerankModels.add("bge-reranker-v2-m3");
      try {
        const failed = await ask(user, base.id, { query: "annual leave" });
        expect(failed.statusCode).toBe(200);
        expect(failed.json()).toMatchObject({
          results: [{ text: "Annual leave is booked in the portal." }],
          warnings: [
            { knowledgeBaseId: base.id, code: "RERANK_FAILED", details: { model: "bge-reranker-v2-m3" } },
          ],
        });
      } finally {
        services.failingRerankModels.clear();
      }
    });

    it("says when a base was searched on full text only, and an embedding model's failure by its code", async () => {
      const plain = (await createBase(user, { name: "no vectors" })).json() as { id: string };
      await upload(user, plain.id, "leave.txt", "Annual leave is booked in the portal.");
      const hybrid = await ask(user, plain.id, { query: "annual leave", mode: "hybrid" });
      expect(hybrid.statusCode).toBe(200);
      expect(hybrid.json()).toMatchObject({
        results: [{ text: "Annual leave is booked in the portal." }],
        warnings: [{ knowledgeBaseId: plain.id, code: "EMBEDDING_MODEL_REQUIRED" }],
      });
      const vector = await ask(user, plain.id, { query: "annual leave", mode: "vector" });
      expect(vector.statusCode).toBe(400);
      expect(vector.json().error.code).toBe("EMBEDDING_MODEL_REQUIRED");

      // Its embedding model is not there: hybrid falls back to full text, vectors alone fail.
      const embedded = (
        await createBase(user, { name: "vectors", embeddingModel: "absent-embed" })
      ).json() as {
        id: string;
      };
      await upload(user, embedded.id, "leave.txt", "Annual leave is booked in the portal.");
      const fallback = await ask(user, embedded.id, { query: "annual leave" });
      expect(fallback.statusCode).toBe(200);
      expect(fallback.json()).toMatchObject({
        results: [{ text: "Annual leave is booked in the portal." }],
        warnings: [{ knowledgeBaseId: embedded.id, code: "EMBEDDING_FAILED" }],
      });
      const failed = await ask(user, embedded.id, { query: "annual leave", mode: "vector" });
      expect(failed.statusCode).toBe(502);
      expect(failed.json().error.code).toBe("EMBEDDING_FAILED");
    });
  });

  /**
   * A base read from other tools with an API key: its retrieval test, and Dify's External Knowledge
   * API (`POST /v1/retrieval`, docs/api.md) with Dify's request, records and errors.
   */
  describe("a knowledge base read with an API key", () => {
    let reader: Session;
    let base: { id: string };
    let handbook: string;
    let guide: string;
    let readerKey: string;
    let strangerKey: string;
    let revokedKey: string;

    beforeAll(async () => {
      reader = await signUp(web.app, "key-reader");
      const stranger = await signUp(web.app, "key-stranger");
      const groupId = await groupOf("key readers", [reader]);
      base = (await createBase(user, { name: "handbook for tools" })).json() as { id: string };
      await web.app.inject({
        method: "PUT",
        url: `/api/knowledge-bases/${base.id}/access`,
        headers: user.headers,
        payload: { visibility: "shared", shares: [{ groupId, permission: "read" }] },
      });
      handbook = (
        await upload(
          user,
          base.id,
          "handbook.txt",
          "Vacation requests go to your manager.\n\nThe office opens at nine.\n\nEvery employee gets twenty vacation days a year.",
        )
      ).documents[0]!.id;
      await upload(user, base.id, "员工守则.txt", "办公室九点开门。\n\n员工每年享有十五天带薪年假。");
      guide = (await upload(user, base.id, "guide.pdf", "Parking permits are issued at reception."))
        .documents[0]!.id;
      readerKey = await createApiKey(web.app, reader);
      strangerKey = await createApiKey(web.app, stranger);
      const revoked = (
        await web.app.inject({
          method: "POST",
          url: "/api/account/api-keys",
          headers: reader.headers,
          payload: { name: "revoked" },
        })
      ).json() as { id: string; key: string };
      await web.app.inject({
        method: "DELETE",
        url: `/api/account/api-keys/${revoked.id}`,
        headers: reader.headers,
      });
      revokedKey = revoked.key;
    });

    const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

    it("runs a base's retrieval test for a reader's key as for the reader, without the CSRF token, readable from any page; a stranger's key as any base, a revoked key not at all", async () => {
      const ask = (headers: Record<string, string>, id = base.id) =>
        web.app.inject({
          method: "POST",
          url: `/api/knowledge-bases/${id}/query`,
          headers,
          payload: { query: "vacation days for every employee", topK: 5 },
        });
      const withKey = await ask(bearer(readerKey));
      expect(withKey.statusCode).toBe(200);
      expect(withKey.json()).toEqual((await ask(reader.headers)).json());
      expect((withKey.json() as { results: Array<{ text: string }> }).results[0]!.text).toBe(
        "Every employee gets twenty vacation days a year.",
      );
      expect(withKey.headers["access-control-allow-origin"]).toBe("*");
      const refused = await ask(bearer(strangerKey));
      expect([refused.statusCode, refused.json().error.code]).toEqual([404, "KNOWLEDGE_BASE_NOT_FOUND"]);
      expect(refused.body).toBe((await ask(bearer(strangerKey), "no-such-base")).body);
      const revoked = await ask(bearer(revokedKey));
      expect([revoked.statusCode, revoked.json().error.code]).toEqual([401, "API_KEY_INVALID"]);
    });

    describe("Dify's External Knowledge API", () => {
      const retrieve = (headers: Record<string, string>, payload?: unknown) =>
        web.app.inject({
          method: "POST",
          url: "/v1/retrieval",
          headers,
          ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
        });
      const request = (query: string, setting: { top_k?: unknown; score_threshold?: unknown } = {}) => ({
        knowledge_id: base.id,
        query,
        retrieval_setting: { top_k: 5, score_threshold: 0, ...setting },
      });
      type Records = {
        records: Array<{ content: string; score: number; title: string; metadata: Record<string, unknown> }>;
      };

      it("gives a reader's key the passages as Dify's records, best first, in English and in Chinese", async () => {
        const english = await retrieve(bearer(readerKey), request("vacation days for every employee"));
        expect(english.statusCode).toBe(200);
        expect(english.json()).toEqual({
          records: [
            {
              content: "Every employee gets twenty vacation days a year.",
              score: expect.any(Number),
              title: "handbook.txt",
              metadata: {
                document_id: handbook,
                chunk_id: `${handbook}-2`,
                heading_path: [],
                url: `/api/knowledge-bases/${base.id}/documents/${handbook}/file`,
              },
            },
            expect.objectContaining({
              content: "Vacation requests go to your manager.",
              title: "handbook.txt",
            }),
          ],
        });
        // Queried as a chat grounds in it: hybrid (the default), at most top_k passages, held to
        // score_threshold as the query's minimum relevance.
        expect(services.knowledgeBaseBodies.at(-1)).toEqual({
          method: "POST",
          path: `/v1/knowledge-bases/${base.id}/query`,
          body: { query: "vacation days for every employee", topK: 5, minRelevance: 0 },
        });
        const chinese = await retrieve(bearer(readerKey), request("年假有几天？"));
        expect((chinese.json() as Records).records).toEqual([
          expect.objectContaining({ content: "员工每年享有十五天带薪年假。", title: "员工守则.txt" }),
        ]);
        // An endpoint given with a slash at its end (…/v1/) has Dify call /v1//retrieval: the same.
        const afterSlash = await web.app.inject({
          method: "POST",
          url: "/v1//retrieval",
          headers: bearer(readerKey),
          payload: request("vacation days for every employee"),
        });
        expect([afterSlash.statusCode, afterSlash.json()]).toEqual([200, english.json()]);
        // A PDF passage names its page, and its file's link opens that page.
        const pdf = await retrieve(bearer(readerKey), request("parking permits"));
        expect((pdf.json() as Records).records[0]!.metadata).toEqual({
          document_id: guide,
          chunk_id: `${guide}-0`,
          page: 1,
          heading_path: [],
          url: `/api/knowledge-bases/${base.id}/documents/${guide}/file#page=1`,
        });
      });

      it("scores records from 0 to 1 (Hearth's relevance, not its unbounded score), best first, and leaves out those below score_threshold, in place of the base's own minimum", async () => {
        const test = (
          await web.app.inject({
            method: "POST",
            url: `/api/knowledge-bases/${base.id}/query`,
            headers: reader.headers,
            payload: { query: "vacation employee" },
          })
        ).json() as { results: Array<{ text: string; score: number; relevance: number }> };
        // The retrieval test's scores are on full text's scale, above 1: no threshold could pick between them.
        expect(test.results.map((result) => result.score)).toEqual([2, 1]);
        const scored = (threshold: number) =>
          retrieve(bearer(readerKey), request("vacation employee", { score_threshold: threshold })).then(
            (response) =>
              (response.json() as Records).records.map((record) => [record.content, record.score]),
          );
        const all = [
          ["Every employee gets twenty vacation days a year.", 1],
          ["Vacation requests go to your manager.", 0.5],
        ];
        expect(test.results.map((result) => [result.text, result.relevance])).toEqual(all);
        expect(await scored(0)).toEqual(all);
        expect(await scored(0.5)).toEqual(all);
        expect(await scored(0.6)).toEqual(all.slice(0, 1));
        expect(await scored(1)).toEqual(all.slice(0, 1));

        // Dify's threshold is the one held, above or below the base's minimum relevance.
        const holdTo = (minRelevance: number) =>
          web.app.inject({
            method: "PATCH",
            url: `/api/knowledge-bases/${base.id}`,
            headers: user.headers,
            payload: { minRelevance },
          });
        expect((await holdTo(0.6)).json()).toMatchObject({ minRelevance: 0.6 });
        try {
          expect(await scored(0)).toEqual(all);
          expect(await scored(0.5)).toEqual(all);
          await holdTo(0.2);
          expect(await scored(0.6)).toEqual(all.slice(0, 1));
        } finally {
          await holdTo(0);
        }
      });

      it("asks for at most 50 passages, top_k being the most Dify wants, and refuses a top_k below 1 or not whole", async () => {
        const many = await retrieve(bearer(readerKey), request("vacation", { top_k: 100 }));
        expect(many.statusCode).toBe(200);
        expect(services.knowledgeBaseBodies.at(-1)?.body).toEqual({
          query: "vacation",
          topK: 50,
          minRelevance: 0,
        });
        const asked = services.knowledgeBaseBodies.length;
        for (const topK of [0, -1, 2.5, "5", null]) {
          const response = await retrieve(bearer(readerKey), request("vacation", { top_k: topK }));
          expect(response.statusCode, String(topK)).toBe(400);
          expect(response.json(), String(topK)).toMatchObject({ error_code: 400, code: "INVALID_REQUEST" });
          expect(response.json().error_msg, String(topK)).toContain("retrieval_setting.top_k");
        }
        expect(services.knowledgeBaseBodies.length).toBe(asked);
      });

      it("refuses a body out of Dify's spec with 400, asking nothing of the knowledge service; cuts a long query as a chat's", async () => {
        const asked = services.knowledgeBaseBodies.length;
        const { knowledge_id: _id, ...withoutId } = request("vacation");
        const { retrieval_setting: _setting, ...withoutSetting } = request("vacation");
        for (const payload of [
          {},
          withoutId,
          withoutSetting,
          { ...request("vacation"), retrieval_setting: { top_k: 5 } },
          request("vacation", { score_threshold: 1.5 }),
          request("vacation", { score_threshold: -0.1 }),
          request("   "),
          { ...request("vacation"), query: 42 },
          { ...request("vacation"), knowledge_id: "" },
        ]) {
          const response = await retrieve(bearer(readerKey), payload);
          const where = JSON.stringify(payload).slice(0, 120);
          expect(response.statusCode, where).toBe(400);
          expect(response.json(), where).toMatchObject({ error_code: 400, code: "INVALID_REQUEST" });
        }
        // Dify checks a new External Knowledge API with a bodiless request: a 400 is a key taken
        // (only 403, 404 and 502 fail the check).
        const check = await retrieve(bearer(readerKey));
        expect(check.statusCode).toBe(400);
        expect(services.knowledgeBaseBodies.length).toBe(asked);
        const long = await retrieve(bearer(readerKey), request(`${"vacation ".repeat(1000)}days`));
        expect(long.statusCode).toBe(200);
        const sent = services.knowledgeBaseBodies.at(-1)?.body as { query: string };
        expect(sent.query.length).toBeLessThanOrEqual(8000);
        expect(sent.query.startsWith("vacation vacation")).toBe(true);
      });

      it("refuses a missing or malformed Authorization with Dify's 1001, a refused key with 1002, both 403; a base the key's user cannot read, or gone, with 2001; the knowledge service's failure with 502", async () => {
        const asked = services.knowledgeBaseBodies.length;
        const body = request("vacation");
        const malformed: Array<Record<string, string>> = [
          {},
          { authorization: `Basic ${readerKey}` },
          { authorization: "Bearer " },
        ];
        for (const headers of malformed) {
          const response = await retrieve(headers, body);
          expect(response.statusCode, JSON.stringify(headers)).toBe(403);
          expect(response.json(), JSON.stringify(headers)).toMatchObject({
            error_code: 1001,
            error_msg: expect.stringContaining("Bearer"),
          });
        }
        for (const key of ["hk-not-a-key", revokedKey]) {
          const response = await retrieve(bearer(key), body);
          expect(response.statusCode, key).toBe(403);
          expect(response.json(), key).toEqual({
            error_code: 1002,
            error_msg: "The API key is unknown or has been revoked",
            code: "API_KEY_INVALID",
          });
        }
        const stranger = await retrieve(bearer(strangerKey), body);
        expect(stranger.statusCode).toBe(404);
        expect(stranger.json()).toMatchObject({ error_code: 2001, code: "KNOWLEDGE_BASE_NOT_FOUND" });
        const unknown = await retrieve(bearer(readerKey), { ...body, knowledge_id: "no-such-base" });
        expect(unknown.body).toBe(stranger.body);
        expect(services.knowledgeBaseBodies.length).toBe(asked);
        // A base gone from the knowledge service is one that does not exist too; its failure is a 502.
        services.knowledgeBaseError = { status: 404, code: "KNOWLEDGE_BASE_NOT_FOUND", message: "gone" };
        const gone = await retrieve(bearer(readerKey), body);
        services.knowledgeBaseError = { status: 503, code: "DATABASE_UNAVAILABLE", message: "damaged" };
        const failed = await retrieve(bearer(readerKey), body);
        services.knowledgeBaseError = undefined;
        expect([gone.statusCode, gone.json().error_code]).toEqual([404, 2001]);
        expect(failed.statusCode).toBe(502);
        expect(failed.json()).toMatchObject({ error_code: 502, code: "UPSTREAM_ERROR" });
        expect(failed.body).not.toContain("damaged");
      });

      it("applies a metadata_condition Hearth's filters can say, and refuses one they cannot", async () => {
        const filtered = await retrieve(bearer(readerKey), {
          ...request("vacation"),
          metadata_condition: {
            logical_operator: "and",
            conditions: [
              { name: "document_id", comparison_operator: "in", value: [handbook, guide] },
              { name: "document_name", comparison_operator: "is", value: "handbook.txt" },
            ],
          },
        });
        expect(filtered.statusCode).toBe(200);
        expect(services.knowledgeBaseBodies.at(-1)?.body).toEqual({
          query: "vacation",
          topK: 5,
          filters: { documentIds: [handbook, guide], metadata: { documentName: "handbook.txt" } },
          minRelevance: 0,
        });
        // As Dify sends it with no condition: no filter.
        await retrieve(bearer(readerKey), {
          ...request("vacation"),
          metadata_condition: { logical_operator: "and", conditions: null },
        });
        expect(services.knowledgeBaseBodies.at(-1)?.body).toEqual({
          query: "vacation",
          topK: 5,
          minRelevance: 0,
        });
        const asked = services.knowledgeBaseBodies.length;
        for (const metadata_condition of [
          { conditions: [{ name: "document_name", comparison_operator: "contains", value: "hand" }] },
          { conditions: [{ name: "author", comparison_operator: "is", value: "me" }] },
          {
            logical_operator: "or",
            conditions: [
              { name: "source", comparison_operator: "is", value: "upload" },
              { name: "source", comparison_operator: "is", value: "url" },
            ],
          },
          {
            conditions: [
              { name: "document_id", comparison_operator: "is", value: handbook },
              { name: "document_id", comparison_operator: "is", value: guide },
            ],
          },
        ]) {
          const response = await retrieve(bearer(readerKey), { ...request("vacation"), metadata_condition });
          const where = JSON.stringify(metadata_condition);
          expect(response.statusCode, where).toBe(400);
          expect(response.json(), where).toMatchObject({ error_code: 400, code: "INVALID_REQUEST" });
          expect(response.json().error_msg, where).toContain('Hearth applies "is" on document_id');
        }
        expect(services.knowledgeBaseBodies.length).toBe(asked);
      });
    });
  });

  describe("bases named in the audit log", () => {
    it("names the base of every change to it in the audit log: its name at the time, kept after a rename", async () => {
      const base = (await createBase(user, { name: "leave rules" })).json() as { id: string };
      const { documents } = await upload(user, base.id, "leave.txt", "Leave is 25 days.");
      const entries = async () =>
        (
          (await web.app.inject({ url: "/api/admin/audit", headers: admin.headers })).json() as {
            entries: Array<{ action: string; target: string; targetName: string | null }>;
          }
        ).entries.filter((entry) => entry.target === base.id);
      const changes = [
        {
          method: "PATCH",
          url: `/api/knowledge-bases/${base.id}/documents/${documents[0]!.id}`,
          payload: { enabled: false },
        },
        {
          method: "PUT",
          url: `/api/knowledge-bases/${base.id}/access`,
          payload: { visibility: "public", shares: [] },
        },
        { method: "PATCH", url: `/api/knowledge-bases/${base.id}`, payload: { name: "staff leave rules" } },
        { method: "PATCH", url: `/api/knowledge-bases/${base.id}`, payload: { description: "For staff" } },
      ] as const;
      for (const change of changes) {
        const response = await web.app.inject({ ...change, headers: user.headers });
        expect(response.statusCode, change.url).toBe(200);
      }
      expect((await entries()).map((entry) => [entry.action, entry.targetName])).toEqual([
        ["knowledge-base.settings-change", "staff leave rules"],
        ["knowledge-base.settings-change", "staff leave rules"],
        ["knowledge-base.access-change", "leave rules"],
        ["knowledge-base.document-disable", "leave rules"],
      ]);
    });

    it("names a base in an entry that keeps no name (the command line's, an earlier Hearth's) while it exists", async () => {
      const kept = (await createBase(user, { name: "kept minutes" })).json() as { id: string };
      const gone = (await createBase(user, { name: "gone minutes" })).json() as { id: string };
      for (const { id } of [kept, gone])
        await audit(web.db, { actorId: null, action: "knowledge-base.access-change", target: id });
      await fetch(`${services.url}/v1/knowledge-bases/${gone.id}`, { method: "DELETE" });
      const listed = (
        (await web.app.inject({ url: "/api/admin/audit", headers: admin.headers })).json() as {
          entries: Array<{ target: string; targetName: string | null }>;
        }
      ).entries;
      expect(listed.find((entry) => entry.target === kept.id)?.targetName).toBe("kept minutes");
      expect(listed.find((entry) => entry.target === gone.id)?.targetName).toBeNull();
    });
  });
});

/** Which bases each user sees, among many of every visibility and share, on each database. */
describe.each(dialects)("who sees which knowledge base, on %s", (dialect) => {
  let model: FakeModelService;
  let services: FakeKnowledge;
  let web: WebHarness;

  beforeAll(async () => {
    model = await startFakeModelService();
    services = await startFakeKnowledgeAndSearch();
    web = await startWeb(
      { modelUrl: model.url, knowledgeUrl: services.url, searchUrl: services.url },
      {},
      dialect,
    );
  });
  afterAll(async () => {
    await web.close();
    await services.close();
    await model.close();
  });

  const inject = (session: Session, method: "GET" | "POST" | "PUT", url: string, payload?: object) =>
    web.app.inject({ method, url, headers: session.headers, ...(payload ? { payload } : {}) });

  it("lists to each user exactly the bases they may use, each with their permission", async () => {
    const admin = await signUp(web.app, "admin");
    const owner = await signUp(web.app, "owner");
    const reader = await signUp(web.app, "reader");
    const stranger = await signUp(web.app, "stranger");
    const group = async (name: string, members: Session[]) => {
      const made = (await inject(admin, "POST", "/api/admin/groups", { name })).json() as { id: string };
      await inject(admin, "PUT", `/api/admin/groups/${made.id}/members`, {
        userIds: members.map((member) => member.userId),
      });
      return made.id;
    };
    const readers = await group("readers", [reader]);
    const writers = await group("writers", [reader]);
    const others = await group("others", [stranger]);
    const base = async (
      session: Session,
      name: string,
      visibility: "private" | "shared" | "public",
      shares: Array<{ groupId: string; permission: "read" | "write" }> = [],
    ) => {
      const made = (await inject(session, "POST", "/api/knowledge-bases", { name })).json() as { id: string };
      if (visibility !== "private") {
        const access = await inject(session, "PUT", `/api/knowledge-bases/${made.id}/access`, {
          visibility,
          shares,
        });
        expect(access.statusCode, access.body).toBe(200);
      }
    };
    await base(owner, "private", "private");
    await base(owner, "public", "public");
    await base(owner, "read by readers", "shared", [{ groupId: readers, permission: "read" }]);
    await base(owner, "written by writers", "shared", [{ groupId: writers, permission: "write" }]);
    await base(owner, "read and written", "shared", [
      { groupId: readers, permission: "read" },
      { groupId: writers, permission: "write" },
    ]);
    await base(owner, "public, written by writers", "public", [{ groupId: writers, permission: "write" }]);
    await base(owner, "others' only", "shared", [{ groupId: others, permission: "write" }]);
    await base(reader, "reader's own", "private");

    const sees = async (session: Session) => {
      const response = await inject(session, "GET", "/api/knowledge-bases");
      expect(response.statusCode, response.body).toBe(200);
      const { knowledgeBases } = response.json() as {
        knowledgeBases: Array<{ name: string; permission: string }>;
      };
      return Object.fromEntries(knowledgeBases.map((b) => [b.name, b.permission]));
    };
    expect(await sees(reader)).toEqual({
      public: "read",
      "read by readers": "read",
      "written by writers": "write",
      "read and written": "write",
      "public, written by writers": "write",
      "reader's own": "manage",
    });
    expect(await sees(stranger)).toEqual({
      public: "read",
      "public, written by writers": "read",
      "others' only": "write",
    });
    const all = {
      private: "manage",
      public: "manage",
      "read by readers": "manage",
      "written by writers": "manage",
      "read and written": "manage",
      "public, written by writers": "manage",
      "others' only": "manage",
    };
    expect(await sees(owner)).toEqual(all);
    expect(await sees(admin)).toEqual({ ...all, "reader's own": "manage" });
  });
});
