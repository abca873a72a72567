import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeKnowledge, startFakeKnowledgeAndSearch } from "../../test/support/fake-knowledge-search.js";
import { type FakeModelService, startFakeModelService } from "../../test/support/fake-model-service.js";
import { newConversation, type Session, signUp } from "../../test/support/web-client.js";
import { startWeb, type WebHarness } from "../../test/support/web-harness.js";
import { isExternalKnowledgeRequest } from "../public-api/external-knowledge-api.js";

/**
 * Walks the whole route table of the web service (every /api/ and /v1/ route, as registered)
 * against every role and ownership case: anonymous, a signed-in user who owns nothing, the
 * resource's owner, and an admin; cookie sessions without a CSRF token; API keys outside /v1/.
 * A route added later is walked too; one whose parameters this test cannot fill fails it.
 */
describe("RBAC over the whole route table", () => {
  let model: FakeModelService;
  let services: FakeKnowledge;
  let web: WebHarness;
  let admin: Session;
  let owner: Session;
  let stranger: Session;
  const ids: Record<string, string> = {};
  let strangerKey: string;

  beforeAll(async () => {
    model = await startFakeModelService();
    services = await startFakeKnowledgeAndSearch();
    web = await startWeb({ modelUrl: model.url, knowledgeUrl: services.url, searchUrl: services.url });
    admin = await signUp(web.app, "admin");
    owner = await signUp(web.app, "owner");
    stranger = await signUp(web.app, "stranger");
    const conversation = await web.app.inject({
      method: "POST",
      url: "/api/conversations",
      headers: owner.headers,
      payload: {},
    });
    ids.conversation = (conversation.json() as { id: string }).id;
    // The owner's conversation shared: its link is for every signed-in user to read and copy.
    const share = await web.app.inject({
      method: "POST",
      url: `/api/conversations/${ids.conversation}/share`,
      headers: owner.headers,
    });
    ids.share = (share.json() as { id: string }).id;
    // The owner's folder, holding the conversation.
    const folder = await web.app.inject({
      method: "POST",
      url: "/api/folders",
      headers: owner.headers,
      payload: { name: "Private folder" },
    });
    ids.folder = (folder.json() as { id: string }).id;
    await web.app.inject({
      method: "PATCH",
      url: `/api/conversations/${ids.conversation}`,
      headers: owner.headers,
      payload: { folderId: ids.folder },
    });
    const base = await web.app.inject({
      method: "POST",
      url: "/api/knowledge-bases",
      headers: owner.headers,
      payload: { name: "private" },
    });
    ids.knowledgeBase = (base.json() as { id: string }).id;
    const form = new FormData();
    form.append("file", new Blob(["secret text"]), "secret.txt");
    const url = await web.app.listen({ host: "127.0.0.1", port: 0 });
    const uploaded = (await (
      await fetch(`${url}/api/knowledge-bases/${ids.knowledgeBase}/documents`, {
        method: "POST",
        headers: owner.headers,
        body: form,
      })
    ).json()) as {
      job: { id: string };
      documents: Array<{ id: string }>;
    };
    ids.job = uploaded.job.id;
    ids.document = uploaded.documents[0]!.id;
    const key = await web.app.inject({
      method: "POST",
      url: "/api/account/api-keys",
      headers: owner.headers,
      payload: { name: "k" },
    });
    ids.apiKey = (key.json() as { id: string }).id;
    // The owner's personal instructions: their own, never another user's to read or change.
    const preferences = await web.app.inject({
      method: "PUT",
      url: "/api/account/preferences",
      headers: owner.headers,
      payload: { instructions: "the owner's secret instructions", theme: "dark" },
    });
    expect(preferences.statusCode).toBe(200);
    // The owner's own prompt (theirs alone) and a prompt the administrator shares with everyone.
    const prompt = await web.app.inject({
      method: "POST",
      url: "/api/prompts",
      headers: owner.headers,
      payload: { command: "secret", title: "Private prompt", content: "the owner's secret prompt" },
    });
    ids.prompt = (prompt.json() as { id: string }).id;
    const sharedPrompt = await web.app.inject({
      method: "POST",
      url: "/api/prompts",
      headers: admin.headers,
      payload: { command: "team", title: "Team prompt", content: "For everyone", shared: true },
    });
    ids.sharedPrompt = (sharedPrompt.json() as { id: string }).id;
    // The owner's memory: theirs alone, never another user's to read, change or clear.
    const memory = await web.app.inject({
      method: "POST",
      url: "/api/memories",
      headers: owner.headers,
      payload: { content: "the owner's secret memory" },
    });
    expect(memory.statusCode, memory.body).toBe(201);
    ids.memory = (memory.json() as { id: string }).id;
    // The owner's private assistant: another user's attempts on it are a 404.
    const assistant = await web.app.inject({
      method: "POST",
      url: "/api/assistants",
      headers: owner.headers,
      payload: { name: "Private assistant", model: "tiny-story", systemPrompt: "the owner's secret preset" },
    });
    expect(assistant.statusCode, assistant.body).toBe(201);
    ids.assistant = (assistant.json() as { id: string }).id;
    strangerKey = (
      (
        await web.app.inject({
          method: "POST",
          url: "/api/account/api-keys",
          headers: stranger.headers,
          payload: { name: "k" },
        })
      ).json() as { key: string }
    ).key;
    const group = await web.app.inject({
      method: "POST",
      url: "/api/admin/groups",
      headers: admin.headers,
      payload: { name: "g" },
    });
    ids.group = (group.json() as { id: string }).id;
    // An announcement banner for everyone, which a user may close.
    const banner = await web.app.inject({
      method: "POST",
      url: "/api/admin/banners",
      headers: admin.headers,
      payload: { text: "Maintenance tonight", dismissible: true },
    });
    ids.banner = (banner.json() as { id: string }).id;
  });
  afterAll(async () => {
    await web.close();
    await services.close();
    await model.close();
  });

  /** Fills a route's parameters with the owner's resources. */
  function fill(url: string): string {
    return url
      .replace(/^\/api\/conversations\/:id/, `/api/conversations/${ids.conversation}`)
      .replace(/^\/api\/knowledge-bases\/:id/, `/api/knowledge-bases/${ids.knowledgeBase}`)
      .replace(/^\/api\/folders\/:id/, `/api/folders/${ids.folder}`)
      .replace(/^\/api\/prompts\/:id/, `/api/prompts/${ids.prompt}`)
      .replace(/^\/api\/memories\/:id/, `/api/memories/${ids.memory}`)
      .replace(/^\/api\/assistants\/:id/, `/api/assistants/${ids.assistant}`)
      .replace(":seq", "2")
      .replace(":documentId", ids.document!)
      .replace(":jobId", ids.job!)
      .replace(":shareId", ids.share!)
      .replace(/^\/api\/account\/api-keys\/:id/, `/api/account/api-keys/${ids.apiKey}`)
      .replace(/^\/api\/admin\/users\/:id/, `/api/admin/users/${owner.userId}`)
      .replace(/^\/api\/admin\/groups\/:id/, `/api/admin/groups/${ids.group}`)
      .replace(/^\/api\/(admin\/)?banners\/:id/, (path) => path.replace(":id", ids.banner!))
      .replace(":keyId", ids.apiKey!)
      .replace(":model", "tiny-story")
      .replace(/^\/v1\/models\/\*$/, "/v1/models/tiny-story")
      .replace(/^\/v1\/\*$/, "/v1/chat/completions");
  }

  /** Routes where a signed-in user only reaches their own resources. */
  const OWNED =
    /^\/api\/(conversations|folders|prompts|memories|assistants|knowledge-bases|jobs|account\/api-keys)\/:/;

  it("declares an access level on every route, and the table has the routes we expect", () => {
    expect(web.routes.length).toBeGreaterThan(40);
    for (const route of web.routes) {
      expect(["public", "user", "admin"]).toContain(route.access);
      expect(
        fill(route.url),
        `${route.method} ${route.url} has a parameter this test cannot fill`,
      ).not.toContain(":");
    }
    const publicRoutes = web.routes.filter((r) => r.access === "public").map((r) => `${r.method} ${r.url}`);
    expect(publicRoutes.sort()).toEqual([
      // Single sign-on: redirects to the provider and back, whoever calls (oidc-routes.ts).
      "GET /api/auth/oidc/callback",
      "GET /api/auth/oidc/start",
      "GET /api/auth/session",
      // Browsers' CORS preflights for the public API and the browser routes an API key opens:
      // they carry no credentials and open nothing.
      "OPTIONS /api/knowledge-bases",
      "OPTIONS /api/knowledge-bases/:id/documents/:documentId/file",
      "OPTIONS /api/knowledge-bases/:id/query",
      "OPTIONS /v1/*",
      "POST /api/auth/login",
      "POST /api/auth/signup",
    ]);
    // The public API's routes, every one for signed-in users (its key's user).
    expect(
      web.routes
        .filter((r) => r.url.startsWith("/v1/") && r.access !== "public")
        .map((r) => `${r.method} ${r.url} ${r.access}`)
        .sort(),
    ).toEqual([
      "GET /v1/models user",
      "GET /v1/models/* user",
      // Dify's External Knowledge API (public-api/external-knowledge-api.ts) where an endpoint
      // given with a slash at its end has Dify call, as /v1/retrieval below.
      "POST /v1//retrieval user",
      "POST /v1/chat/completions user",
      "POST /v1/completions user",
      "POST /v1/embeddings user",
      "POST /v1/rerank user",
      "POST /v1/retrieval user",
    ]);
    for (const route of web.routes.filter((r) => r.url.startsWith("/api/admin/")))
      expect(route.access, route.url).toBe("admin");
    // An administrator's account changes are walked below like every route: refused to anonymous
    // callers (401) and to members (403 ADMIN_REQUIRED).
    expect(web.routes.map((r) => `${r.method} ${r.url} ${r.access}`)).toEqual(
      expect.arrayContaining([
        "POST /api/admin/users admin",
        "POST /api/admin/users/:id/password admin",
        "PATCH /api/admin/users/:id admin",
        "DELETE /api/admin/users/:id admin",
        // Import writes the caller's own conversations: a signed-in user's, with the CSRF token
        // (walked below like every route; no API key opens it, as none opens a conversation).
        "POST /api/conversations/import user",
        // Share links: the owner shares and stops sharing (OWNED: another user's conversation is a
        // 404); any signed-in user reads and copies a link (a cookie session: no API key opens
        // them, and the copy needs the CSRF token).
        "POST /api/conversations/:id/share user",
        "DELETE /api/conversations/:id/share user",
        "GET /api/shares/:shareId user",
        "POST /api/shares/:shareId/copy user",
        // Folders are their owner's (OWNED: another user's is a 404); archiving all archives the
        // caller's own conversations.
        "GET /api/folders user",
        "POST /api/folders user",
        "PATCH /api/folders/:id user",
        "DELETE /api/folders/:id user",
        "POST /api/conversations/archive-all user",
        // A message's versions: only the owner switches them (OWNED: another user's conversation
        // is a 404, an administrator's attempt too); a cookie session with the CSRF token.
        "POST /api/conversations/:id/versions user",
        // Branch in new chat: the owner's conversation copied into a new one of theirs (OWNED:
        // another user's conversation is a 404 whatever the body); with the CSRF token.
        "POST /api/conversations/:id/branch user",
        // Continue: the model goes on with the owner's last answer (OWNED: another user's
        // conversation is a 404 whatever the body, an administrator's attempt too); with the CSRF token.
        "POST /api/conversations/:id/continue user",
        // Answer feedback: only the owner rates their conversation's answers (OWNED: another
        // user's conversation is a 404, an administrator's attempt too); a cookie session with the
        // CSRF token. The report of it is an administrator's (every /api/admin/ route is).
        "PUT /api/conversations/:id/messages/:seq/feedback user",
        "DELETE /api/conversations/:id/messages/:seq/feedback user",
        "GET /api/admin/feedback admin",
        // Files attached to a chat: its owner's alone (OWNED: another user's conversation is a
        // 404, an administrator's attempt too); a cookie session, the changes with the CSRF token.
        "GET /api/conversations/:id/files user",
        "POST /api/conversations/:id/files user",
        "DELETE /api/conversations/:id/files/:documentId user",
        // Switching a knowledge base's document off for answers, or on: whoever may write the base
        // (OWNED: another user's base is a 404; a reader's attempt is 403, knowledge-routes.test.ts).
        "PATCH /api/knowledge-bases/:id/documents/:documentId user",
        // Personal chat defaults: the signed-in user's own, with a session (an API key opens
        // neither: walked below), the change with the CSRF token.
        "GET /api/account/preferences user",
        "PUT /api/account/preferences user",
        // The prompt library: a user's own prompts (OWNED: another user's is a 404, an
        // administrator's attempt too) and the shared ones, changed by administrators only; a
        // session's (no API key opens them), changes with the CSRF token.
        "GET /api/prompts user",
        "POST /api/prompts user",
        "PATCH /api/prompts/:id user",
        "DELETE /api/prompts/:id user",
        // Memory: a user's own memories (OWNED: another user's is a 404, an administrator's attempt
        // too); "clear all" clears the caller's own. A session's (no API key opens them), changes
        // with the CSRF token.
        "GET /api/memories user",
        "POST /api/memories user",
        "DELETE /api/memories user",
        "PATCH /api/memories/:id user",
        "DELETE /api/memories/:id user",
        // Announcement banners: administrators manage them (every /api/admin/ route is theirs);
        // every signed-in user reads those shown now and closes one for themselves (a session's:
        // no API key opens them; the dismissal with the CSRF token).
        "GET /api/admin/banners admin",
        "POST /api/admin/banners admin",
        "PATCH /api/admin/banners/:id admin",
        "DELETE /api/admin/banners/:id admin",
        "PUT /api/admin/banners/order admin",
        "GET /api/banners user",
        "POST /api/banners/:id/dismiss user",
        // Search engines: administrators list them, disabled ones too, and test them (a disabled
        // one by name); chat never names one, so no user reaches a disabled engine.
        "GET /api/admin/search/providers admin",
        "POST /api/admin/search/test admin",
        // Assistants: any signed-in user makes their own and lists those they may use; another
        // user's private one is a 404 (OWNED), one shared with them is 403 to change
        // (assistants.test.ts); the owner and administrators change and delete it. A session's (the
        // public API uses them as `assistant:<id>` models), changes with the CSRF token.
        "GET /api/assistants user",
        "POST /api/assistants user",
        "GET /api/assistants/:id user",
        "PATCH /api/assistants/:id user",
        "DELETE /api/assistants/:id user",
      ]),
    );
  });

  it("refuses every non-public route to anonymous callers", async () => {
    for (const route of web.routes.filter((r) => r.access !== "public")) {
      const response = await web.app.inject({
        method: route.method as "GET",
        url: fill(route.url),
        payload: route.method === "GET" || route.method === "DELETE" ? undefined : {},
      });
      // Dify's External Knowledge API refuses as Dify's spec says: 403, its error 1001.
      const status = isExternalKnowledgeRequest(route.url) ? 403 : 401;
      expect(response.statusCode, `${route.method} ${route.url}`).toBe(status);
    }
  });

  it("refuses state changes made with a session cookie but without the CSRF token", async () => {
    for (const route of web.routes.filter((r) => r.access !== "public" && r.method !== "GET")) {
      const response = await web.app.inject({
        method: route.method as "POST",
        url: fill(route.url),
        headers: { cookie: admin.cookie },
        payload: {},
      });
      expect(response.statusCode, `${route.method} ${route.url}`).toBe(403);
      // Hearth's code: in `error`, or beside Dify's error_code on Dify's External Knowledge API.
      const body = response.json() as { error?: { code: string }; code?: string };
      expect(body.error?.code ?? body.code, `${route.method} ${route.url}`).toBe("CSRF_TOKEN_INVALID");
    }
  });

  it("accepts API keys only on the public API (/v1/), the knowledge bases it grounds in, the document file its citations link to and a base's retrieval test", async () => {
    // The browser routes a key opens: they read a knowledge base, held to the key user's permissions.
    expect(web.routes.filter((r) => r.apiKey).map((r) => `${r.method} ${r.url}`)).toEqual([
      "GET /api/knowledge-bases",
      "POST /api/knowledge-bases/:id/query",
      "GET /api/knowledge-bases/:id/documents/:documentId/file",
    ]);
    for (const route of web.routes.filter((r) => r.access !== "public" && r.url.startsWith("/api/"))) {
      const response = await web.app.inject({
        method: route.method as "GET",
        url: fill(route.url),
        headers: { authorization: `Bearer ${strangerKey}` },
        payload: route.method === "GET" || route.method === "DELETE" ? undefined : {},
      });
      // The stranger's key is taken there, and another user's base and document are hidden as in
      // the UI: not listed, and 404.
      const where = `${route.method} ${route.url}`;
      if (route.method === "GET" && route.url === "/api/knowledge-bases") {
        expect(response.statusCode, where).toBe(200);
        expect(response.json(), where).toEqual({ knowledgeBases: [], maxUploadBytes: expect.any(Number) });
      } else expect(response.statusCode, where).toBe(route.apiKey ? 404 : 401);
    }
    // The owner's key lists the owner's base, as the UI does.
    const ownerKey = (
      (
        await web.app.inject({
          method: "POST",
          url: "/api/account/api-keys",
          headers: owner.headers,
          payload: { name: "list" },
        })
      ).json() as { key: string }
    ).key;
    const listed = await web.app.inject({
      url: "/api/knowledge-bases",
      headers: { authorization: `Bearer ${ownerKey}` },
    });
    expect(listed.json()).toMatchObject({
      knowledgeBases: [{ id: ids.knowledgeBase, name: "private", permission: "manage", owned: true }],
    });
  });

  it("answers CORS preflights for every /v1/ route and the /api/ ones keys open, never with credentials", async () => {
    for (const route of web.routes.filter((r) => r.access !== "public")) {
      const response = await web.app.inject({
        method: "OPTIONS",
        url: fill(route.url),
        headers: {
          origin: "https://elsewhere.example",
          "access-control-request-method": route.method,
          "access-control-request-headers": "authorization, content-type",
        },
      });
      const where = `${route.method} ${route.url}`;
      expect(response.headers["access-control-allow-credentials"], where).toBeUndefined();
      if (route.url.startsWith("/v1/") || route.apiKey) {
        expect(response.statusCode, where).toBe(204);
        expect(response.headers["access-control-allow-origin"], where).toBe("*");
        expect(String(response.headers["access-control-allow-methods"]), where).toContain(route.method);
      } else if (web.routes.some((r) => r.apiKey && r.url === route.url)) {
        // A path a key opens for reading (GET /api/knowledge-bases): its preflight allows only that.
        expect(response.statusCode, where).toBe(204);
        expect(String(response.headers["access-control-allow-methods"]), where).not.toContain(route.method);
      } else {
        expect(response.statusCode, where).toBe(404);
        expect(response.headers["access-control-allow-origin"], where).toBeUndefined();
      }
    }
  });

  it("refuses admin routes to users, and hides other users' resources as 404", async () => {
    // Signing out ends the session the walk uses: it goes last.
    const routes = web.routes
      .filter((r) => r.access !== "public")
      .sort((a, b) => Number(a.url === "/api/auth/logout") - Number(b.url === "/api/auth/logout"));
    for (const route of routes) {
      const response = await web.app.inject({
        method: route.method as "GET",
        url: fill(route.url),
        headers: stranger.headers,
        payload: route.method === "GET" || route.method === "DELETE" ? undefined : {},
      });
      const where = `${route.method} ${route.url}`;
      expect(response.body, where).not.toContain("the owner's secret instructions");
      if (route.access === "admin") {
        expect(response.statusCode, where).toBe(403);
        expect(response.json().error.code, where).toBe("ADMIN_REQUIRED");
      } else if (OWNED.test(route.url)) {
        expect(response.statusCode, where).toBe(404);
        expect(response.body, where).not.toContain("secret");
      } else if (route.url.startsWith("/api/shares/")) {
        // Another user's share link is for every signed-in user: read (200), copied (201).
        expect([200, 201], where).toContain(response.statusCode);
      } else {
        expect([200, 201, 204, 400, 413, 422], where).toContain(response.statusCode);
      }
    }
    // Nothing of the owner's was changed by the attempts.
    const conversation = await web.app.inject({
      url: `/api/conversations/${ids.conversation}`,
      headers: owner.headers,
    });
    expect(conversation.statusCode).toBe(200);
    // Still in the owner's folder, not archived (the stranger's "archive all" archived their own).
    expect(conversation.json()).toMatchObject({ folderId: ids.folder, archivedAt: null });
    const folders = (await web.app.inject({ url: "/api/folders", headers: owner.headers })).json() as {
      folders: Array<{ id: string; name: string; conversationCount: number }>;
    };
    expect(folders.folders).toEqual([
      expect.objectContaining({ id: ids.folder, name: "Private folder", conversationCount: 1 }),
    ]);
    // Still shared, and the stranger's reading and copying of the link took nothing from it.
    expect(conversation.json()).toMatchObject({ share: { id: ids.share, open: true } });
    const keys = (await web.app.inject({ url: "/api/account/api-keys", headers: owner.headers })).json() as {
      keys: Array<{ revokedAt: string | null }>;
    };
    expect(keys.keys[0]!.revokedAt).toBeNull();
    // The stranger read and saved only their own preferences.
    const preferences = await web.app.inject({ url: "/api/account/preferences", headers: owner.headers });
    expect(preferences.json()).toMatchObject({
      instructions: "the owner's secret instructions",
      theme: "dark",
    });
    // The owner's prompt is as it was, and the stranger's list held only the shared one.
    const prompts = (await web.app.inject({ url: "/api/prompts", headers: owner.headers })).json() as {
      prompts: Array<{ id: string; content: string }>;
    };
    expect(prompts.prompts.map((p) => [p.id, p.content])).toEqual([
      [ids.prompt, "the owner's secret prompt"],
      [ids.sharedPrompt, "For everyone"],
    ]);
    // The owner's memory is as it was: the stranger's "clear all" cleared their own.
    const memories = (await web.app.inject({ url: "/api/memories", headers: owner.headers })).json() as {
      memories: Array<{ id: string; content: string }>;
    };
    expect(memories.memories.map((m) => [m.id, m.content])).toEqual([
      [ids.memory, "the owner's secret memory"],
    ]);
    // The stranger closed the banner for themselves alone, and changed nothing of it.
    const banners = (await web.app.inject({ url: "/api/banners", headers: owner.headers })).json() as {
      banners: Array<{ id: string; text: string }>;
    };
    expect(banners.banners).toEqual([
      expect.objectContaining({ id: ids.banner, text: "Maintenance tonight" }),
    ]);
    // The owner's assistant is as it was, and was in no list of the stranger's.
    const assistant = await web.app.inject({
      url: `/api/assistants/${ids.assistant}`,
      headers: owner.headers,
    });
    expect(assistant.json()).toMatchObject({
      name: "Private assistant",
      systemPrompt: "the owner's secret preset",
      visibility: "private",
    });
    const document = await web.app.inject({
      url: `/api/knowledge-bases/${ids.knowledgeBase}/documents/${ids.document}`,
      headers: owner.headers,
    });
    expect(document.statusCode).toBe(200);
    // Still answering queries: the stranger's attempt to switch it off reached nothing.
    expect(document.json()).toMatchObject({ enabled: true });
  });

  it("lets the owner and an admin reach the owner's resources", async () => {
    for (const session of [owner, admin]) {
      for (const path of [
        `/api/knowledge-bases/${ids.knowledgeBase}`,
        `/api/knowledge-bases/${ids.knowledgeBase}/documents`,
        `/api/knowledge-bases/${ids.knowledgeBase}/documents/${ids.document}/passages`,
        `/api/jobs/${ids.job}`,
      ]) {
        const response = await web.app.inject({ url: path, headers: session.headers });
        expect(response.statusCode, path).not.toBe(404);
        expect(response.statusCode, path).toBeLessThan(500);
      }
    }
    expect(
      (await web.app.inject({ url: `/api/conversations/${ids.conversation}`, headers: owner.headers }))
        .statusCode,
    ).toBe(200);
  });

  it("lets the owner and an administrator change an assistant; anonymous 401, no CSRF token 403, an API key 401, another user 404", async () => {
    const other = await signUp(web.app, "assistant-stranger");
    const path = `/api/assistants/${ids.assistant}`;
    for (const [who, headers, status, code] of [
      ["anonymous", undefined, 401, "UNAUTHORIZED"],
      ["a session cookie without the CSRF token", { cookie: owner.cookie }, 403, "CSRF_TOKEN_INVALID"],
      ["an API key", { authorization: `Bearer ${strangerKey}` }, 401, "UNAUTHORIZED"],
      ["another user", other.headers, 404, "ASSISTANT_NOT_FOUND"],
    ] as const) {
      for (const method of ["PATCH", "DELETE"] as const) {
        const response = await web.app.inject({
          method,
          url: path,
          ...(headers ? { headers } : {}),
          ...(method === "PATCH" ? { payload: { name: "taken over" } } : {}),
        });
        expect(response.statusCode, `${method} ${who}`).toBe(status);
        expect(response.json().error.code, `${method} ${who}`).toBe(code);
        expect(response.body, who).not.toContain("secret");
      }
    }
    for (const [session, name] of [
      [owner, "Renamed by its owner"],
      [admin, "Renamed by an administrator"],
    ] as const) {
      const response = await web.app.inject({
        method: "PATCH",
        url: path,
        headers: session.headers,
        payload: { name },
      });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({ name, editable: true });
    }
  });

  it("keeps a folder to its owner: an administrator is no owner, and the owner renames and lists it", async () => {
    for (const method of ["PATCH", "DELETE"] as const) {
      const response = await web.app.inject({
        method,
        url: `/api/folders/${ids.folder}`,
        headers: admin.headers,
        ...(method === "PATCH" ? { payload: { name: "taken over" } } : {}),
      });
      expect(response.statusCode, method).toBe(404);
      expect(response.json().error.code, method).toBe("FOLDER_NOT_FOUND");
    }
    const listed = await web.app.inject({
      url: `/api/conversations?folderId=${ids.folder}`,
      headers: admin.headers,
    });
    expect([listed.statusCode, listed.json().error.code]).toEqual([404, "FOLDER_NOT_FOUND"]);
    const renamed = await web.app.inject({
      method: "PATCH",
      url: `/api/folders/${ids.folder}`,
      headers: owner.headers,
      payload: { name: "Still private" },
    });
    expect(renamed.json()).toMatchObject({ id: ids.folder, name: "Still private", conversationCount: 1 });
    const own = await web.app.inject({
      url: `/api/conversations?folderId=${ids.folder}`,
      headers: owner.headers,
    });
    expect((own.json() as { conversations: Array<{ id: string }> }).conversations.map((c) => c.id)).toEqual([
      ids.conversation,
    ]);
  });

  /**
   * Everyone but a conversation's owner, as a request on it is refused for each: anonymous 401, the
   * owner's cookie without the CSRF token 403, an API key 401, another user and an administrator 404.
   */
  const notTheOwner = (
    other: Session,
  ): Array<[string, Record<string, string> | undefined, number, string]> => [
    ["anonymous", undefined, 401, "UNAUTHORIZED"],
    ["a session cookie without the CSRF token", { cookie: owner.cookie }, 403, "CSRF_TOKEN_INVALID"],
    ["an API key", { authorization: `Bearer ${strangerKey}` }, 401, "UNAUTHORIZED"],
    ["another user", other.headers, 404, "CONVERSATION_NOT_FOUND"],
    ["an administrator", admin.headers, 404, "CONVERSATION_NOT_FOUND"],
  ];

  it("lets only the owner switch a message's version: anonymous 401, no CSRF token 403, an API key 401, another user or an admin 404", async () => {
    // A conversation of the owner's whose answer has two versions (regenerated once).
    const id = await newConversation(web.app, owner);
    // Streamed turns, over HTTP (the service listens since beforeAll).
    const { port } = web.app.server.address() as { port: number };
    for (const [turn, payload] of [
      ["messages", { model: "tiny-story", content: "secret question" }],
      ["regenerate", { model: "tiny-story" }],
    ] as const) {
      const answered = await fetch(`http://127.0.0.1:${port}/api/conversations/${id}/${turn}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...owner.headers },
        body: JSON.stringify(payload),
      });
      expect(answered.status, turn).toBe(200);
      await answered.text();
    }
    const read = async () =>
      (
        (await web.app.inject({ url: `/api/conversations/${id}`, headers: owner.headers })).json() as {
          messages: Array<{ seq: number; content: string; versions?: { index: number; count: number } }>;
        }
      ).messages;
    const before = await read();
    expect(before[1]!.versions).toEqual({ index: 2, count: 2 });
    const path = `/api/conversations/${id}/versions`;
    const body = { seq: before[1]!.seq, index: 1 };
    const attempts = notTheOwner(await signUp(web.app, "another"));
    for (const [who, headers, status, code] of attempts) {
      const response = await web.app.inject({
        method: "POST",
        url: path,
        ...(headers ? { headers } : {}),
        payload: body,
      });
      expect(response.statusCode, who).toBe(status);
      expect(response.json().error.code, who).toBe(code);
      expect(response.body, who).not.toContain("secret");
    }
    // Nothing changed by the attempts; the owner switches.
    expect(await read()).toEqual(before);
    const own = await web.app.inject({ method: "POST", url: path, headers: owner.headers, payload: body });
    expect(own.statusCode).toBe(200);
    expect((await read())[1]!.versions).toEqual({ index: 1, count: 2 });
  });

  it("lets only the owner rate an answer or take the rating back: anonymous 401, no CSRF token 403, an API key 401, another user or an admin 404", async () => {
    const id = await newConversation(web.app, owner);
    const { port } = web.app.server.address() as { port: number };
    const answered = await fetch(`http://127.0.0.1:${port}/api/conversations/${id}/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", ...owner.headers },
      body: JSON.stringify({ model: "tiny-story", content: "secret question" }),
    });
    expect(answered.status).toBe(200);
    await answered.text();
    const path = `/api/conversations/${id}/messages/2/feedback`;
    const attempts = notTheOwner(await signUp(web.app, "another-rater"));
    const feedback = async () =>
      (
        (await web.app.inject({ url: `/api/conversations/${id}`, headers: owner.headers })).json() as {
          messages: Array<{ feedback?: { rating: string } }>;
        }
      ).messages[1]!.feedback;
    for (const method of ["PUT", "DELETE"] as const) {
      for (const [who, headers, status, code] of attempts) {
        const response = await web.app.inject({
          method,
          url: path,
          ...(headers ? { headers } : {}),
          ...(method === "PUT" ? { payload: { rating: "down", comment: "taken over" } } : {}),
        });
        expect(response.statusCode, `${method} ${who}`).toBe(status);
        expect(response.json().error.code, `${method} ${who}`).toBe(code);
        expect(response.body, who).not.toContain("secret");
      }
      expect(await feedback(), method).toBeUndefined();
    }
    const own = await web.app.inject({
      method: "PUT",
      url: path,
      headers: owner.headers,
      payload: { rating: "up" },
    });
    expect(own.statusCode).toBe(200);
    expect(await feedback()).toMatchObject({ rating: "up" });
  });

  it("lets only the owner share a conversation or stop sharing it, and anyone signed in read the link", async () => {
    // An administrator is no owner: another user's conversation is hidden from them too.
    for (const method of ["POST", "DELETE"] as const) {
      const response = await web.app.inject({
        method,
        url: `/api/conversations/${ids.conversation}/share`,
        headers: admin.headers,
      });
      expect(response.statusCode, method).toBe(404);
      expect(response.json().error.code, method).toBe("CONVERSATION_NOT_FOUND");
    }
    // (The stranger read and copied it in the walk above, which ended their session.)
    for (const session of [owner, admin]) {
      const response = await web.app.inject({ url: `/api/shares/${ids.share}`, headers: session.headers });
      expect(response.statusCode).toBe(200);
    }
    const updated = await web.app.inject({
      method: "POST",
      url: `/api/conversations/${ids.conversation}/share`,
      headers: owner.headers,
    });
    expect(updated.statusCode).toBe(200);
    expect(updated.json()).toMatchObject({ id: ids.share });
  });
  it("lets only the conversation's owner attach, list, remove and open its files: anonymous 401, no CSRF token 403, an API key 401, another user or an admin 404", async () => {
    const id = await newConversation(web.app, owner);
    const { port } = web.app.server.address() as { port: number };
    const base = `http://127.0.0.1:${port}/api/conversations/${id}/files`;
    const attach = (headers: Record<string, string> | undefined, name: string) => {
      const form = new FormData();
      form.append("file", new Blob(["secret attachment"]), name);
      return fetch(base, { method: "POST", ...(headers ? { headers } : {}), body: form });
    };
    expect((await attach(owner.headers, "mine.txt")).status).toBe(202);
    const listed = (
      await web.app.inject({ url: `/api/conversations/${id}/files`, headers: owner.headers })
    ).json() as { knowledgeBaseId: string; documents: Array<{ id: string }> };
    const documentId = listed.documents[0]!.id;
    const other = await signUp(web.app, "outsider");
    const attempts: Array<[string, Record<string, string> | undefined, number, string]> = [
      ["anonymous", undefined, 401, "UNAUTHORIZED"],
      ["a session cookie without the CSRF token", { cookie: owner.cookie }, 403, "CSRF_TOKEN_INVALID"],
      ["an API key", { authorization: `Bearer ${strangerKey}` }, 401, "UNAUTHORIZED"],
      ["another user", other.headers, 404, "CONVERSATION_NOT_FOUND"],
      ["an administrator", admin.headers, 404, "CONVERSATION_NOT_FOUND"],
    ];
    for (const [who, headers, status, code] of attempts) {
      const upload = await attach(headers, "planted.txt");
      expect(upload.status, who).toBe(status);
      expect(((await upload.json()) as { error: { code: string } }).error.code, who).toBe(code);
      const removal = await web.app.inject({
        method: "DELETE",
        url: `/api/conversations/${id}/files/${documentId}`,
        ...(headers ? { headers } : {}),
      });
      expect([removal.statusCode, removal.json().error.code], who).toEqual([status, code]);
      // Reading needs no CSRF token: the cookie alone reads as the owner.
      if (headers?.cookie === owner.cookie && !headers["x-csrf-token"]) continue;
      const list = await web.app.inject({
        url: `/api/conversations/${id}/files`,
        ...(headers ? { headers } : {}),
      });
      expect([list.statusCode, list.json().error.code], who).toEqual([status, code]);
      expect(list.body, who).not.toContain("mine.txt");
      // Its citations' routes: the base is hidden as one that never was (an API key's too).
      for (const path of [
        `/api/knowledge-bases/${listed.knowledgeBaseId}/documents/${documentId}/passages`,
        `/api/knowledge-bases/${listed.knowledgeBaseId}/documents/${documentId}/file`,
      ]) {
        const open = await web.app.inject({ url: path, ...(headers ? { headers } : {}) });
        // An API key opens a document's file (the link a /v1/ citation gives) as its user: a stranger.
        const expected = who === "an API key" && path.endsWith("/file") ? 404 : status;
        expect(open.statusCode, `${who} ${path}`).toBe(expected);
        expect(open.body, who).not.toContain("secret attachment");
      }
    }
    // Nothing changed by the attempts; the owner opens and removes the file.
    const after = (
      await web.app.inject({ url: `/api/conversations/${id}/files`, headers: owner.headers })
    ).json() as { documents: Array<{ id: string; name: string }> };
    expect(after.documents.map((d) => d.name)).toEqual(["mine.txt"]);
    const opened = await web.app.inject({
      url: `/api/knowledge-bases/${listed.knowledgeBaseId}/documents/${documentId}/file`,
      headers: owner.headers,
    });
    expect([opened.statusCode, opened.body]).toEqual([200, "secret attachment"]);
    const removed = await web.app.inject({
      method: "DELETE",
      url: `/api/conversations/${id}/files/${documentId}`,
      headers: owner.headers,
    });
    expect(removed.statusCode).toBe(204);
  });

  it("keeps a memory to its owner: anonymous 401, no CSRF token 403, an API key 401, another user or an admin 404", async () => {
    const other = await signUp(web.app, "memory-reader");
    const attempts: Array<[string, Record<string, string> | undefined, number, string]> = [
      ["anonymous", undefined, 401, "UNAUTHORIZED"],
      ["a session cookie without the CSRF token", { cookie: owner.cookie }, 403, "CSRF_TOKEN_INVALID"],
      ["an API key", { authorization: `Bearer ${strangerKey}` }, 401, "UNAUTHORIZED"],
      ["another user", other.headers, 404, "MEMORY_NOT_FOUND"],
      ["an administrator", admin.headers, 404, "MEMORY_NOT_FOUND"],
    ];
    for (const [who, headers, status, code] of attempts)
      for (const method of ["PATCH", "DELETE"] as const) {
        const response = await web.app.inject({
          method,
          url: `/api/memories/${ids.memory}`,
          ...(headers ? { headers } : {}),
          ...(method === "PATCH" ? { payload: { content: "taken over" } } : {}),
        });
        expect([response.statusCode, response.json().error.code], `${who} ${method}`).toEqual([status, code]);
        expect(response.body, who).not.toContain("secret memory");
      }
    // Another user's list and "clear all" are their own: the owner's memory is in neither.
    for (const session of [other, admin]) {
      const listed = await web.app.inject({ url: "/api/memories", headers: session.headers });
      expect(listed.json()).toMatchObject({ memories: [] });
      const cleared = await web.app.inject({
        method: "DELETE",
        url: "/api/memories",
        headers: session.headers,
      });
      expect(cleared.json()).toEqual({ deleted: 0 });
    }
    const own = await web.app.inject({
      method: "PATCH",
      url: `/api/memories/${ids.memory}`,
      headers: owner.headers,
      payload: { content: "the owner's memory, changed" },
    });
    expect(own.json()).toMatchObject({ id: ids.memory, content: "the owner's memory, changed" });
  });

  it("keeps a prompt to its owner and a shared prompt's changes to administrators: anonymous 401, no CSRF token 403, an API key 401", async () => {
    const other = await signUp(web.app, "prompt-reader");
    const attempts: Array<[string, string, Record<string, string> | undefined, number, string]> = [
      // The owner's own prompt: nobody else's, an administrator's neither.
      ["another user", ids.prompt!, other.headers, 404, "PROMPT_NOT_FOUND"],
      ["an administrator", ids.prompt!, admin.headers, 404, "PROMPT_NOT_FOUND"],
      // The shared one: read by all, changed by administrators only.
      ["a user, on a shared prompt", ids.sharedPrompt!, other.headers, 403, "ADMIN_REQUIRED"],
      [
        "another user (the owner of a prompt), on a shared prompt",
        ids.sharedPrompt!,
        owner.headers,
        403,
        "ADMIN_REQUIRED",
      ],
      ["anonymous", ids.prompt!, undefined, 401, "UNAUTHORIZED"],
      [
        "a session cookie without the CSRF token",
        ids.prompt!,
        { cookie: owner.cookie },
        403,
        "CSRF_TOKEN_INVALID",
      ],
      ["an API key", ids.prompt!, { authorization: `Bearer ${strangerKey}` }, 401, "UNAUTHORIZED"],
    ];
    for (const [who, id, headers, status, code] of attempts) {
      for (const method of ["PATCH", "DELETE"] as const) {
        const response = await web.app.inject({
          method,
          url: `/api/prompts/${id}`,
          ...(headers ? { headers } : {}),
          ...(method === "PATCH" ? { payload: { title: "taken over" } } : {}),
        });
        expect([response.statusCode, response.json().error.code], `${who} ${method}`).toEqual([status, code]);
        expect(response.body, who).not.toContain("secret prompt");
      }
    }
    // Every signed-in user reads the shared one; only administrators may share.
    const listed = (await web.app.inject({ url: "/api/prompts", headers: other.headers })).json() as {
      prompts: Array<{ id: string; editable: boolean }>;
    };
    expect(listed.prompts).toEqual([expect.objectContaining({ id: ids.sharedPrompt, editable: false })]);
    const share = await web.app.inject({
      method: "POST",
      url: "/api/prompts",
      headers: other.headers,
      payload: { command: "mine", title: "Mine", content: "x", shared: true },
    });
    expect([share.statusCode, share.json().error.code]).toEqual([403, "ADMIN_REQUIRED"]);
    // The owner and an administrator change what is theirs to change.
    const own = await web.app.inject({
      method: "PATCH",
      url: `/api/prompts/${ids.prompt}`,
      headers: owner.headers,
      payload: { title: "Still private" },
    });
    expect(own.json()).toMatchObject({ id: ids.prompt, title: "Still private", editable: true });
    const shared = await web.app.inject({
      method: "PATCH",
      url: `/api/prompts/${ids.sharedPrompt}`,
      headers: admin.headers,
      payload: { title: "Team prompt, revised" },
    });
    expect(shared.json()).toMatchObject({ title: "Team prompt, revised", shared: true, editable: true });
  });
});
