import { request as httpRequest } from "node:http";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeKnowledge, startFakeKnowledgeAndSearch } from "../../test/support/fake-knowledge-search.js";
import {
  type FakeModelService,
  MODEL_CREATED,
  startFakeModelService,
} from "../../test/support/fake-model-service.js";
import { createApiKey, type Session, setFilterWords, signUp } from "../../test/support/web-client.js";
import { startWeb, type WebHarness } from "../../test/support/web-harness.js";

describe("public OpenAI-compatible API with the official openai client", () => {
  let model: FakeModelService;
  let services: FakeKnowledge;
  let web: WebHarness;
  let url: string;
  let admin: Session;
  let user: Session;
  let client: OpenAI;
  let userKey: string;

  const upload = async (session: Session, knowledgeBaseId: string, name: string, text: string) => {
    const form = new FormData();
    form.append("file", new Blob([text], { type: "text/plain" }), name);
    return fetch(`${url}/api/knowledge-bases/${knowledgeBaseId}/documents`, {
      method: "POST",
      headers: session.headers,
      body: form,
    });
  };

  beforeAll(async () => {
    model = await startFakeModelService({ models: ["tiny-story", "big-model"] });
    services = await startFakeKnowledgeAndSearch();
    web = await startWeb({ modelUrl: model.url, knowledgeUrl: services.url, searchUrl: services.url });
    url = await web.app.listen({ host: "127.0.0.1", port: 0 });
    admin = await signUp(web.app, "admin");
    user = await signUp(web.app, "user");
    userKey = await createApiKey(web.app, user);
    client = new OpenAI({ apiKey: userKey, baseURL: `${url}/v1`, maxRetries: 0 });
  });
  afterAll(async () => {
    await web.close();
    await services.close();
    await model.close();
  });

  it("lists models and streams a chat", async () => {
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(["tiny-story", "big-model"]);
    // When the model service says the model was made, not 0.
    expect(models.data.map((m) => m.created)).toEqual([MODEL_CREATED, MODEL_CREATED]);
    // One model (models.retrieve) is the same object as its item in the list.
    expect(await client.models.retrieve("tiny-story")).toEqual(models.data[0]);
    const stream = await client.chat.completions.create({
      model: "tiny-story",
      messages: [{ role: "user", content: "hello api" }],
      stream: true,
    });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
    expect(text).toBe("Hello from the model. You said: hello api");
    const plain = await client.chat.completions.create({
      model: "tiny-story",
      messages: [{ role: "user", content: "again" }],
    });
    expect(plain.choices[0]?.message.content).toContain("You said: again");
  });

  it("says what each model is for (capabilities), in the list and for one model, as the model service does", async () => {
    model.options.embeddingModels = ["nomic-embed-text"];
    model.options.rerankModels = ["bge-reranker"];
    try {
      const listed = (await client.models.list()).data as Array<
        OpenAI.Models.Model & { capabilities?: string[] }
      >;
      expect(Object.fromEntries(listed.map((m) => [m.id, m.capabilities]))).toEqual({
        "tiny-story": ["completion"],
        "big-model": ["completion"],
        "nomic-embed-text": ["embedding"],
        "bge-reranker": ["rerank"],
      });
      for (const id of ["tiny-story", "nomic-embed-text", "bge-reranker"])
        expect(await client.models.retrieve(id)).toEqual(listed.find((m) => m.id === id));
    } finally {
      model.options.embeddingModels = undefined;
      model.options.rerankModels = undefined;
    }
  });

  it("tells a client given the root without /v1 to add it, in JSON, and keeps the UI's pages", async () => {
    const rootClient = new OpenAI({ apiKey: userKey, baseURL: url, maxRetries: 0 });
    const attempts = [
      () => rootClient.models.list(),
      () => rootClient.models.retrieve("tiny-story"),
      () =>
        rootClient.chat.completions.create({
          model: "tiny-story",
          messages: [{ role: "user", content: "hi" }],
        }),
      () => rootClient.completions.create({ model: "tiny-story", prompt: "hi" }),
      () => rootClient.embeddings.create({ model: "tiny-story", input: "hi" }),
    ];
    for (const attempt of attempts) {
      const error = await attempt().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(OpenAI.NotFoundError);
      expect(error).toMatchObject({ status: 404, code: "ROUTE_NOT_FOUND" });
      expect((error as Error).message).toContain(`give the client the base URL with /v1, ${url}/v1`);
    }
    // The UI's own pages are still the UI.
    const index = await fetch(`${url}/`);
    const page = await index.text();
    for (const path of ["/c/abc", "/s/abc", "/knowledge", "/settings", "/admin/models"]) {
      const response = await fetch(`${url}${path}`);
      expect(response.headers.get("content-type"), path).toContain("text/html");
      expect(await response.text(), path).toBe(page);
    }
  });

  it("records usage per user, model and key, visible to admins and exportable as CSV", async () => {
    const usage = (await web.app.inject({ url: "/api/admin/usage", headers: admin.headers })).json() as {
      usage: Array<{
        username: string;
        model: string;
        requests: number;
        promptTokens: number;
        apiKeyId: string | null;
      }>;
    };
    // Usage is kept under the tagged name, as the model service names the model.
    const row = usage.usage.find(
      (u) => u.username === "user" && u.model === "tiny-story:latest" && u.apiKeyId,
    );
    expect(row?.requests).toBe(2);
    expect(row?.promptTokens).toBe(14);
    const csv = await web.app.inject({ url: "/api/admin/usage?format=csv", headers: admin.headers });
    expect(csv.headers["content-type"]).toContain("text/csv");
    expect(csv.body).toContain('"user","","tiny-story:latest"');
    expect((await web.app.inject({ url: "/api/admin/usage", headers: user.headers })).statusCode).toBe(403);
  });

  it("marks answers from the model's cache, streamed or not", async () => {
    model.options.cached = true;
    try {
      const plain = await client.chat.completions
        .create({ model: "tiny-story", messages: [{ role: "user", content: "cached plain" }] })
        .withResponse();
      expect(plain.response.headers.get("x-hearth-cache")).toBe("hit");
      const streamed = await client.chat.completions
        .create({ model: "tiny-story", messages: [{ role: "user", content: "cached stream" }], stream: true })
        .withResponse();
      expect(streamed.response.headers.get("x-hearth-cache")).toBe("hit");
      for await (const _ of streamed.data);
    } finally {
      model.options.cached = false;
    }
    const fresh = await client.chat.completions
      .create({ model: "tiny-story", messages: [{ role: "user", content: "fresh" }] })
      .withResponse();
    expect(fresh.response.headers.get("x-hearth-cache")).toBeNull();
  });

  it("limits models to the groups allowed to use them", async () => {
    const group = (
      await web.app.inject({
        method: "POST",
        url: "/api/admin/groups",
        headers: admin.headers,
        payload: { name: "researchers" },
      })
    ).json() as { id: string };
    await web.app.inject({
      method: "PUT",
      url: "/api/admin/models/big-model/access",
      headers: admin.headers,
      payload: { groupIds: [group.id] },
    });
    expect((await client.models.list()).data.map((m) => m.id)).toEqual(["tiny-story"]);
    await expect(
      client.chat.completions.create({ model: "big-model", messages: [{ role: "user", content: "hi" }] }),
    ).rejects.toMatchObject({ status: 403 });
    // Retrieved, a model the user may not use is one that does not exist: the same answer.
    const retrieve = async (id: string) => {
      const answer = await fetch(`${url}/v1/models/${id}`, {
        headers: { authorization: `Bearer ${userKey}` },
      });
      return { status: answer.status, body: JSON.stringify(await answer.json()).replaceAll(id, "ID") };
    };
    const hidden = await retrieve("big-model");
    expect(hidden).toEqual(await retrieve("no-such-model"));
    expect(hidden.status).toBe(404);
    await expect(client.models.retrieve("big-model")).rejects.toMatchObject({
      status: 404,
      type: "invalid_request_error",
      code: "MODEL_NOT_FOUND",
    });
    // Embeddings and text completions are held to the groups too.
    await expect(client.embeddings.create({ model: "big-model", input: "hi" })).rejects.toMatchObject({
      status: 403,
      code: "MODEL_NOT_ALLOWED",
    });
    await expect(client.completions.create({ model: "big-model", prompt: "hi" })).rejects.toMatchObject({
      status: 403,
      code: "MODEL_NOT_ALLOWED",
    });
    expect(model.embeddings.filter((e) => e.model === "big-model")).toEqual([]);
    expect(model.completions.filter((c) => c.model === "big-model")).toEqual([]);
    await web.app.inject({
      method: "PUT",
      url: `/api/admin/groups/${group.id}/members`,
      headers: admin.headers,
      payload: { userIds: [user.userId] },
    });
    expect((await client.models.list()).data.map((m) => m.id)).toEqual(["tiny-story", "big-model"]);
    expect(await client.models.retrieve("big-model")).toEqual({
      id: "big-model",
      object: "model",
      created: MODEL_CREATED,
      owned_by: "hearth",
      capabilities: ["completion"],
    });
  });

  it("grounds answers in a readable knowledge base and cites it; private bases of others are 404", async () => {
    const base = (
      await web.app.inject({
        method: "POST",
        url: "/api/knowledge-bases",
        headers: user.headers,
        payload: { name: "handbook" },
      })
    ).json() as { id: string };
    const uploaded = await upload(user, base.id, "vacation.txt", "Employees get 25 vacation days per year.");
    expect(uploaded.status).toBe(202);
    const answer = (await client.chat.completions.create({
      model: "tiny-story",
      messages: [{ role: "user", content: "How many vacation days?" }],
      // Hearth's documented extra fields
      knowledge_base_ids: [base.id],
    } as never)) as unknown as { hearth?: { citations: Array<{ n: number; title: string; url: string }> } };
    expect(answer.hearth?.citations[0]).toMatchObject({ n: 1, title: "vacation.txt" });
    // The citation's URL is a path on the web service that the same API key opens.
    const cited = answer.hearth!.citations[0]!.url;
    expect(cited).toMatch(/^\/api\/knowledge-bases\/[^/]+\/documents\/[^/]+\/file/);
    const file = await fetch(`${url}${cited}`, { headers: { authorization: `Bearer ${userKey}` } });
    expect(file.status).toBe(200);
    expect(await file.text()).toBe("Employees get 25 vacation days per year.");
    expect((await fetch(`${url}${cited}`)).status).toBe(401);
    // A page in a browser may open it as it calls /v1/: with the key, never with the user's cookies.
    const origin = "https://web.chatboxai.app";
    const preflight = await fetch(`${url}${cited}`, {
      method: "OPTIONS",
      headers: {
        origin,
        "access-control-request-method": "GET",
        "access-control-request-headers": "authorization",
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("*");
    expect(preflight.headers.get("access-control-allow-methods")).toBe("GET, OPTIONS");
    expect(preflight.headers.get("access-control-allow-headers")).toBe("authorization");
    expect(preflight.headers.get("access-control-allow-credentials")).toBeNull();
    const fromPage = await fetch(`${url}${cited}`, {
      headers: { origin, authorization: `Bearer ${userKey}` },
    });
    expect(fromPage.status).toBe(200);
    expect(fromPage.headers.get("access-control-allow-origin")).toBe("*");
    expect(fromPage.headers.get("access-control-expose-headers")).toContain("x-request-id");
    expect(fromPage.headers.get("x-request-id")).toMatch(/^req_[0-9a-f-]{36}$/);
    expect(fromPage.headers.get("access-control-allow-credentials")).toBeNull();
    expect(await fromPage.text()).toBe("Employees get 25 vacation days per year.");
    const withCookie = await fetch(`${url}${cited}`, { headers: { origin, cookie: user.cookie } });
    expect(withCookie.status).toBe(200);
    expect(withCookie.headers.get("access-control-allow-origin")).toBeNull();
    await withCookie.text();
    // Another user's key may not read the user's private base; keys open no other browser route.
    const otherKey = await createApiKey(web.app, await signUp(web.app, "other-reader"), "other");
    expect((await fetch(`${url}${cited}`, { headers: { authorization: `Bearer ${otherKey}` } })).status).toBe(
      404,
    );
    expect(
      (await fetch(`${url}/api/conversations`, { headers: { authorization: `Bearer ${userKey}` } })).status,
    ).toBe(401);
    const system = model.requests.at(-1)!.messages[0]!;
    expect(system.role).toBe("system");
    expect(system.content).toContain("untrusted");
    expect(system.content).toContain('<source id="1"');
    expect(system.content).toContain("25 vacation days");

    // The admin's own private base is invisible to the user, through every route.
    const secret = (
      await web.app.inject({
        method: "POST",
        url: "/api/knowledge-bases",
        headers: admin.headers,
        payload: { name: "board" },
      })
    ).json() as { id: string };
    const list = (await web.app.inject({ url: "/api/knowledge-bases", headers: user.headers })).json() as {
      knowledgeBases: Array<{ id: string }>;
    };
    expect(list.knowledgeBases.map((b) => b.id)).toEqual([base.id]);
    expect(
      (await web.app.inject({ url: `/api/knowledge-bases/${secret.id}`, headers: user.headers })).statusCode,
    ).toBe(404);
    expect((await upload(user, secret.id, "x.txt", "x")).status).toBe(404);
    await expect(
      client.chat.completions.create({
        model: "tiny-story",
        messages: [{ role: "user", content: "board?" }],
        knowledge_base_ids: [secret.id],
      } as never),
    ).rejects.toMatchObject({ status: 404 });

    // Shared with the user's group for reading: readable, not writable.
    const groups = (await web.app.inject({ url: "/api/admin/groups", headers: admin.headers })).json() as {
      groups: Array<{ id: string }>;
    };
    await web.app.inject({
      method: "PUT",
      url: `/api/knowledge-bases/${secret.id}/access`,
      headers: admin.headers,
      payload: { visibility: "shared", shares: [{ groupId: groups.groups[0]!.id, permission: "read" }] },
    });
    expect(
      (await web.app.inject({ url: `/api/knowledge-bases/${secret.id}`, headers: user.headers })).statusCode,
    ).toBe(200);
    expect((await upload(user, secret.id, "x.txt", "x")).status).toBe(403);
    // Re-indexing is the manager's: a reader is refused, the manager starts the job.
    const reindex = (session: typeof user) =>
      web.app.inject({
        method: "POST",
        url: `/api/knowledge-bases/${secret.id}/reindex`,
        headers: session.headers,
      });
    expect((await reindex(user)).statusCode).toBe(403);
    const started = await reindex(admin);
    expect(started.statusCode).toBe(202);
    expect(started.json().job.knowledgeBaseId).toBe(secret.id);
    // The manager reads the sharing back with the groups it may name; a reader may not.
    const access = await web.app.inject({
      url: `/api/knowledge-bases/${secret.id}/access`,
      headers: admin.headers,
    });
    expect(access.json()).toEqual({
      visibility: "shared",
      shares: [{ groupId: groups.groups[0]!.id, permission: "read" }],
      groups: [expect.objectContaining({ id: groups.groups[0]!.id })],
    });
    expect(
      (await web.app.inject({ url: `/api/knowledge-bases/${secret.id}/access`, headers: user.headers }))
        .statusCode,
    ).toBe(403);
  });

  it("cites a base named twice once; refuses a deleted base as one that never was (404)", async () => {
    const base = (
      await web.app.inject({
        method: "POST",
        url: "/api/knowledge-bases",
        headers: user.headers,
        payload: { name: "twice" },
      })
    ).json() as { id: string };
    expect((await upload(user, base.id, "parking.txt", "Parking spaces: 40 behind the office.")).status).toBe(
      202,
    );
    const ask = (times = 2) =>
      client.chat.completions.create({
        model: "tiny-story",
        messages: [{ role: "user", content: "How many parking spaces?" }],
        knowledge_base_ids: Array.from({ length: times }, () => base.id),
      } as never) as unknown as Promise<{ hearth?: { citations: Array<{ n: number; title: string }> } }>;
    expect((await ask()).hearth?.citations.map(({ n, title }) => [n, title])).toEqual([[1, "parking.txt"]]);
    const system = model.requests.at(-1)!.messages[0]!.content as string;
    expect(system.match(/Parking spaces: 40/g)).toHaveLength(1);
    // Nor towards the limit of 20 ids: 21 times the same id is one.
    expect((await ask(21)).hearth?.citations.map(({ n, title }) => [n, title])).toEqual([[1, "parking.txt"]]);
    // Each request names its bases itself: one the user cannot read (deleted, never theirs, never was) is 404.
    await web.app.inject({ method: "DELETE", url: `/api/knowledge-bases/${base.id}`, headers: user.headers });
    await expect(ask()).rejects.toMatchObject({ status: 404, code: "KNOWLEDGE_BASE_NOT_FOUND" });
  });

  it("searches the web when asked, and cites the pages in the stream", async () => {
    const stream = await client.chat.completions.create({
      model: "tiny-story",
      messages: [{ role: "user", content: "hearth releases" }],
      stream: true,
      web_search: "on",
    } as never);
    let citations: unknown;
    for await (const chunk of stream as unknown as AsyncIterable<{ hearth?: { citations: unknown } }>)
      citations ??= chunk.hearth?.citations;
    expect(services.searches.at(-1)).toBe("hearth releases");
    expect(citations).toEqual([
      expect.objectContaining({ n: 1, kind: "web", url: "https://example.org/hearth-news" }),
    ]);
  });

  it("passes on the model service's 429 with its Retry-After, in chats streamed or not, completions and embeddings", async () => {
    model.options.rateLimitedFor = "7";
    try {
      const calls = [
        () =>
          client.chat.completions.create({
            model: "tiny-story",
            messages: [{ role: "user", content: "hi" }],
          }),
        () =>
          client.chat.completions.create({
            model: "tiny-story",
            messages: [{ role: "user", content: "hi" }],
            stream: true,
          }),
        () => client.completions.create({ model: "tiny-story", prompt: "hi" }),
        () => client.embeddings.create({ model: "tiny-story", input: "hi" }),
      ];
      for (const call of calls) {
        const error = (await call().then(
          () => undefined,
          (caught: unknown) => caught,
        )) as InstanceType<typeof OpenAI.APIError>;
        expect(error).toBeInstanceOf(OpenAI.APIError);
        expect(error.status).toBe(429);
        expect(error.headers?.get("retry-after")).toBe("7");
      }
    } finally {
      model.options.rateLimitedFor = undefined;
    }
  });

  it("passes on the model service's x-should-retry: an SDK retrying by itself gives up on a Retry-After an hour away", async () => {
    model.options.rateLimitedFor = "3600";
    try {
      const answers: Response[] = [];
      // The openai SDK as clients use it (maxRetries 2): it would sleep the whole hour, twice.
      const retrying = new OpenAI({
        apiKey: userKey,
        baseURL: `${url}/v1`,
        fetch: async (input: string | URL | Request, init?: RequestInit) => {
          const response = await fetch(input, init);
          answers.push(response);
          return response;
        },
      });
      for (const stream of [false, true]) {
        answers.length = 0;
        let timer: NodeJS.Timeout | undefined;
        const outcome = await Promise.race([
          retrying.chat.completions
            .create({ model: "tiny-story", messages: [{ role: "user", content: "hi" }], stream })
            .then(
              () => "answered",
              (caught: unknown) => caught,
            ),
          new Promise((resolve) => {
            timer = setTimeout(() => resolve("still waiting"), 5000);
          }),
        ]);
        clearTimeout(timer);
        expect(outcome).toMatchObject({ status: 429 });
        expect(answers).toHaveLength(1);
        expect(answers[0]!.headers.get("retry-after")).toBe("3600");
        expect(answers[0]!.headers.get("x-should-retry")).toBe("false");
        // A browser page may read it too.
        expect(answers[0]!.headers.get("access-control-expose-headers")).toContain("x-should-retry");
      }
    } finally {
      model.options.rateLimitedFor = undefined;
    }
  });

  it("passes on the model service's own codes with their own status: 507 MODEL_MEMORY_INSUFFICIENT, not 502", async () => {
    const message =
      "loading big-model needs about 43.31 GiB but only 21.47 GiB is free; use a smaller quantization, a smaller context (HEARTH_CONTEXT_SIZE), fewer parallel slots (HEARTH_PARALLEL)";
    const details = { neededBytes: 46_500_000_000, availableBytes: 23_050_000_000 };
    const cases = [
      { status: 507, code: "MODEL_MEMORY_INSUFFICIENT" },
      { status: 503, code: "MODEL_QUEUE_TIMEOUT" },
      { status: 500, code: "MODEL_LOAD_FAILED" },
    ];
    try {
      for (const { status, code } of cases) {
        model.options.refusal = { status, code, message, details };
        for (const stream of [false, true]) {
          const response = await fetch(`${url}/v1/chat/completions`, {
            method: "POST",
            headers: { authorization: `Bearer ${userKey}`, "content-type": "application/json" },
            body: JSON.stringify({ model: "big-model", messages: [{ role: "user", content: "hi" }], stream }),
          });
          const body = (await response.json()) as {
            error: { code: string; message: string; details?: unknown };
          };
          expect([response.status, body.error.code]).toEqual([status, code]);
          expect(body.error.message).toBe(message);
          expect(body.error.details).toEqual(details);
        }
      }
      // A refusal of a field arrives naming it (`param`), streamed or not, chats and completions alike.
      model.options.refusal = {
        status: 400,
        code: "TOOLS_NOT_SUPPORTED",
        message: '"big-model:latest" does not support tools: its chat template has no place for them',
        param: "tools",
        details: { field: "tools" },
      };
      for (const stream of [false, true]) {
        const chat = client.chat.completions.create({
          model: "big-model",
          messages: [{ role: "user", content: "hi" }],
          tools: [{ type: "function", function: { name: "f", parameters: { type: "object" } } }],
          stream,
        });
        await expect(chat).rejects.toMatchObject({
          status: 400,
          code: "TOOLS_NOT_SUPPORTED",
          param: "tools",
        });
      }
      model.options.refusal = {
        status: 400,
        code: "INVALID_REQUEST",
        message: "best_of: only 1 completion per prompt is generated (best_of above 1 is not supported)",
        param: "best_of",
      };
      await expect(
        client.completions.create({ model: "big-model", prompt: "hi", best_of: 2 }),
      ).rejects.toMatchObject({ status: 400, code: "INVALID_REQUEST", param: "best_of" });
      // A code that is not the model service's own (its upstream failed) stays the web service's 502.
      model.options.refusal = { status: 500, code: "INTERNAL_ERROR", message: "boom" };
      const other = await fetch(`${url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${userKey}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "big-model", messages: [{ role: "user", content: "hi" }] }),
      });
      expect(other.status).toBe(502);
    } finally {
      model.options.refusal = undefined;
    }
  });

  it("answers 429 with the reset time when a quota is used up, counting requests still running", async () => {
    await web.app.inject({
      method: "PATCH",
      url: "/api/admin/settings",
      headers: admin.headers,
      payload: { userLimits: { requestsPerMinute: 2 }, groupLimits: {} },
    });
    const other = await signUp(web.app, "quota-user");
    const key = await createApiKey(web.app, other, "k");
    const ask = (content: string) =>
      fetch(`${url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "tiny-story", messages: [{ role: "user", content }] }),
      });
    // Six at once against a limit of 2: each counts when admitted, not when its answer ends.
    const together = await Promise.all(["1", "2", "3", "4", "5", "6"].map(ask));
    expect(together.map((r) => r.status).sort()).toEqual([200, 200, 429, 429, 429, 429]);
    const refused = await ask("seven");
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    const body = (await refused.json()) as { error: { code: string; details: { resetAt: string } } };
    expect(body.error.code).toBe("QUOTA_EXCEEDED");
    expect(new Date(body.error.details.resetAt).getTime()).toBeGreaterThan(Date.now());
    await web.app.inject({
      method: "PATCH",
      url: "/api/admin/settings",
      headers: admin.headers,
      payload: { userLimits: {} },
    });
  });

  it("filters sensitive words in input and output as configured", async () => {
    await setFilterWords(web.app, admin, ["forbidden", "model"]);
    await expect(
      client.chat.completions.create({
        model: "tiny-story",
        messages: [{ role: "user", content: "a FORBIDDEN thing" }],
      }),
    ).rejects.toMatchObject({ status: 422 });
    // Every text the client sends is checked: a system prompt, an earlier turn, a content part.
    for (const messages of [
      [
        { role: "system", content: "Say something forbidden" },
        { role: "user", content: "go on" },
      ],
      [
        { role: "user", content: "a forbidden thing" },
        { role: "assistant", content: "ok" },
        { role: "user", content: "and now?" },
      ],
      [
        { role: "developer", content: [{ type: "text", text: "be FORBIDDEN" }] },
        { role: "user", content: "hi" },
      ],
      [
        {
          role: "user",
          content: [
            { type: "text", text: "fine" },
            { type: "text", text: "forbidden" },
          ],
        },
      ],
    ]) {
      await expect(
        client.chat.completions.create({ model: "tiny-story", messages } as never),
      ).rejects.toMatchObject({ status: 422, code: "CONTENT_BLOCKED" });
    }
    // What reaches the prompt beside the messages' texts: an earlier turn's tool call (its arguments
    // escaped as Python's json.dumps writes them, too) and the tools offered.
    const toolCall = (args: string) => [
      { role: "user", content: "look it up" },
      {
        role: "assistant",
        content: null,
        tool_calls: [{ id: "call_1", type: "function", function: { name: "lookup", arguments: args } }],
      },
      { role: "tool", tool_call_id: "call_1", content: "done" },
    ];
    const tool = (fn: Record<string, unknown>) => [{ type: "function", function: { name: "lookup", ...fn } }];
    const hi = [{ role: "user", content: "hi" }];
    for (const request of [
      { messages: toolCall('{"q": "a forbidden thing"}') },
      { messages: toolCall('{"q": "a \\u0066orbidden thing"}') },
      { messages: hi, tools: tool({ description: "Finds forbidden things" }) },
      {
        messages: hi,
        tools: tool({
          parameters: { type: "object", properties: { q: { type: "string", description: "forbidden" } } },
        }),
      },
    ]) {
      const asked = model.requests.length;
      await expect(
        client.chat.completions.create({ model: "tiny-story", ...request } as never),
      ).rejects.toMatchObject({ status: 422, code: "CONTENT_BLOCKED" });
      expect(model.requests.length).toBe(asked);
    }
    const stream = await client.chat.completions.create({
      model: "tiny-story",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
    });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
    expect(text).toBe("Hello from the *****. You said: hi");
    await setFilterWords(web.app, admin, []);
  });

  it("checks a message's text parts joined, as the model service joins them: a word split across parts is refused", async () => {
    await setFilterWords(web.app, admin, ["forbiddenword"]);
    try {
      const split = [
        { type: "text", text: "forbidden" },
        { type: "text", text: "word" },
      ];
      const asked = model.requests.length;
      for (const messages of [
        [{ role: "user", content: split }],
        [
          { role: "system", content: split },
          { role: "user", content: "hi" },
        ],
        [
          { role: "user", content: "hi" },
          { role: "assistant", content: split },
          { role: "user", content: "go on" },
        ],
        [
          { role: "user", content: "look it up" },
          {
            role: "assistant",
            content: null,
            tool_calls: [{ id: "call_1", type: "function", function: { name: "lookup", arguments: "{}" } }],
          },
          { role: "tool", tool_call_id: "call_1", content: split },
        ],
      ]) {
        await expect(
          client.chat.completions.create({ model: "tiny-story", messages } as never),
          JSON.stringify(messages),
        ).rejects.toMatchObject({
          status: 422,
          code: "CONTENT_BLOCKED",
          error: { details: { words: ["forbiddenword"] } },
        });
      }
      expect(model.requests.length).toBe(asked);
      // The parts in the other order are not the word: the model reads "wordforbidden".
      const answered = await client.chat.completions.create({
        model: "tiny-story",
        messages: [{ role: "user", content: [split[1], split[0]] }],
      } as never);
      expect(answered.choices[0]?.message.content).toMatch(/^Hello from the model\./);
    } finally {
      await setFilterWords(web.app, admin, []);
    }
  });

  it("ends an answer the model service broke off with an error the openai client throws", async () => {
    model.options.failAfterWords = 2;
    try {
      // Passed through as the model service sent it, and re-encoded by the output filter.
      for (const words of [[], ["forbidden"]]) {
        await setFilterWords(web.app, admin, words);
        const stream = await client.chat.completions.create({
          model: "tiny-story",
          messages: [{ role: "user", content: "cut short" }],
          stream: true,
        });
        let text = "";
        const read = async () => {
          for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
        };
        await expect(read()).rejects.toMatchObject({
          code: "UPSTREAM_UNAVAILABLE",
          type: "server_error",
          message: "the model service closed the connection before its answer ended",
        });
        expect(text).toBe("Hello from");
      }
      // Nor does the HTTP body end as if it were complete: a plain reader sees it cut short.
      const raw = await fetch(`${url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${userKey}`, "content-type": "application/json" },
        body: JSON.stringify({
          model: "tiny-story",
          messages: [{ role: "user", content: "hi" }],
          stream: true,
        }),
      });
      let body = "";
      const reader = raw.body!.getReader();
      const drain = async () => {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          body += Buffer.from(value).toString("utf8");
        }
      };
      await expect(drain()).rejects.toThrow();
      expect(body).toContain('data: {"error":{"message":"the model service closed the connection');
      expect(body).not.toContain("[DONE]");
      // Not streamed: an error answer, not a 200.
      await expect(
        client.chat.completions.create({
          model: "tiny-story",
          messages: [{ role: "user", content: "whole" }],
        }),
      ).rejects.toMatchObject({ status: 502, code: "UPSTREAM_UNAVAILABLE" });
    } finally {
      model.options.failAfterWords = undefined;
      await setFilterWords(web.app, admin, []);
    }
  });

  it("refuses unknown and revoked keys", async () => {
    const bad = new OpenAI({ apiKey: "hk-not-a-real-key", baseURL: `${url}/v1`, maxRetries: 0 });
    await expect(bad.models.list()).rejects.toMatchObject({ status: 401 });
  });

  it("answers its own errors in OpenAI's shape, with Hearth's code, and keeps its shape elsewhere", async () => {
    const bad = new OpenAI({ apiKey: "hk-not-a-real-key", baseURL: `${url}/v1`, maxRetries: 0 });
    await expect(bad.models.list()).rejects.toMatchObject({
      status: 401,
      type: "invalid_request_error",
      code: "API_KEY_INVALID",
      param: null,
    });
    const ask = (extra: Record<string, unknown>) =>
      client.chat.completions.create({
        model: "tiny-story",
        messages: [{ role: "user", content: "hi" }],
        ...extra,
      } as never);
    // The hint names this API's model list, not the model service's GET /api/tags.
    for (const stream of [false, true])
      await expect(ask({ model: "nope", stream })).rejects.toMatchObject({
        status: 404,
        code: "MODEL_NOT_FOUND",
        error: expect.objectContaining({
          message: 'model "nope" not found; GET /v1/models lists the models you may use',
        }),
      });
    await expect(ask({ knowledge_base_ids: ["nope"] })).rejects.toMatchObject({
      status: 404,
      type: "invalid_request_error",
      code: "KNOWLEDGE_BASE_NOT_FOUND",
      param: "knowledge_base_ids",
    });
    await expect(ask({ web_search: "sometimes" })).rejects.toMatchObject({
      status: 400,
      type: "invalid_request_error",
      code: "INVALID_REQUEST",
      param: "web_search",
    });
    // The field refused is in `param` as OpenAI writes it; one issue for a field of the wrong type.
    await expect(ask({ messages: [] })).rejects.toMatchObject({ status: 400, param: "messages" });
    await expect(
      ask({
        messages: [
          { role: "user", content: "hi" },
          { role: "wizard", content: "hi" },
        ],
      }),
    ).rejects.toMatchObject({
      status: 400,
      param: "messages[1].role",
      // The message names the field as `param` does.
      error: expect.objectContaining({ message: expect.stringMatching(/^messages\[1\]\.role: /) }),
    });
    const idsAsString = await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${userKey}`, "content-type": "application/json" },
      body: JSON.stringify({
        model: "tiny-story",
        messages: [{ role: "user", content: "hi" }],
        knowledge_base_ids: "kb_06679017536642a99452",
      }),
    });
    expect([idsAsString.status, ((await idsAsString.json()) as { error: unknown }).error]).toEqual([
      400,
      {
        message: "knowledge_base_ids: expected an array of knowledge base ids",
        type: "invalid_request_error",
        param: "knowledge_base_ids",
        code: "INVALID_REQUEST",
        details: {
          issues: [
            {
              path: "knowledge_base_ids",
              message: "expected an array of knowledge base ids",
              code: "invalid_type",
            },
          ],
        },
      },
    ]);
    await expect(
      ask({ knowledge_base_ids: Array.from({ length: 21 }, (_, i) => `kb_${i}`) }),
    ).rejects.toMatchObject({
      status: 400,
      param: "knowledge_base_ids",
      error: expect.objectContaining({ message: "knowledge_base_ids: at most 20 knowledge base ids" }),
    });
    // Every message is held to the length limit, not only the last user one.
    const long = "x".repeat(web.config.web.maxMessageChars + 1);
    await expect(
      ask({
        messages: [
          { role: "system", content: long },
          { role: "user", content: "hi" },
        ],
      }),
    ).rejects.toMatchObject({ status: 413, code: "MESSAGE_TOO_LONG", param: "messages[0].content" });
    await expect(
      client.completions.create({ model: "tiny-story", prompt: "def f():", suffix: long }),
    ).rejects.toMatchObject({ status: 413, code: "MESSAGE_TOO_LONG", param: "suffix" });
    // A message's content parts count together: the limit cannot be split across them.
    const half = "y".repeat(Math.floor(web.config.web.maxMessageChars / 2) + 1);
    await expect(
      ask({
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: half },
              { type: "text", text: half },
            ],
          },
        ],
      }),
    ).rejects.toMatchObject({ status: 413, code: "MESSAGE_TOO_LONG", param: "messages[0].content" });
    const raw = await fetch(`${url}/v1/models`, { headers: { authorization: "Bearer hk-nope" } });
    expect(((await raw.json()) as { error: Record<string, unknown> }).error).toEqual({
      message: expect.any(String),
      type: "invalid_request_error",
      param: null,
      code: "API_KEY_INVALID",
    });
    const browser = await web.app.inject({ url: "/api/conversations/nope", headers: user.headers });
    expect(browser.json()).toEqual({
      error: { code: "CONVERSATION_NOT_FOUND", message: expect.any(String) },
    });
    // A path or id of 5,000 characters is not sent back whole: its first 200, then "…".
    const longPath = "c".repeat(5000);
    for (const path of [`/v1/nothing/${longPath}`, `/v1/models/${longPath}`, `/models/${longPath}`]) {
      const refused = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${userKey}` } });
      const { message } = ((await refused.json()) as { error: { message: string } }).error;
      expect([refused.status, message], path.slice(0, 20)).toEqual([404, expect.stringMatching(/c{150,}…/)]);
      expect(message.length, path.slice(0, 20)).toBeLessThan(600);
    }
    const longId = await web.app.inject({ url: `/api/conversations/${longPath}`, headers: user.headers });
    expect(longId.statusCode).toBe(404);
    expect(longId.json().error.message).toMatch(/c…$/);
    expect(longId.body.length).toBeLessThan(400);
  });

  it("refuses images and audio, which Hearth's models cannot see, rather than answer without them", async () => {
    const asked = model.requests.length;
    for (const [part, kind] of [
      [{ type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } }, "images"],
      [{ type: "input_audio", input_audio: { data: "UklGRg==", format: "wav" } }, "audio"],
    ] as const) {
      for (const stream of [false, true])
        await expect(
          client.chat.completions.create({
            model: "tiny-story",
            messages: [{ role: "user", content: [part] }],
            stream,
          } as never),
        ).rejects.toMatchObject({
          status: 400,
          type: "invalid_request_error",
          code: "MEDIA_INPUT_NOT_SUPPORTED",
          param: "messages[0].content[0]",
          error: expect.objectContaining({
            message: expect.stringMatching(
              new RegExp(
                `^messages\\[0\\]\\.content\\[0\\] \\(${part.type}\\): the model does not take ${kind}`,
              ),
            ),
          }),
        });
    }
    expect(model.requests.length).toBe(asked);
  });

  it("refuses token ids as the model service does, saying to send text", async () => {
    const post = async (path: string, body: Record<string, unknown>) => {
      const answer = await fetch(`${url}${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${userKey}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "tiny-story", ...body }),
      });
      return {
        status: answer.status,
        error: ((await answer.json()) as { error: Record<string, unknown> }).error,
      };
    };
    const embedded = model.embeddings.length;
    const completed = model.completions.length;
    for (const input of [
      [1, 2, 3],
      [
        [1, 2, 3],
        [4, 5],
      ],
    ])
      expect(await post("/v1/embeddings", { input })).toEqual({
        status: 400,
        error: {
          type: "invalid_request_error",
          param: "input",
          code: "TOKEN_INPUT_NOT_SUPPORTED",
          message: expect.stringMatching(/token ids.*Send the text.*check_embedding_ctx_length=False/),
          details: { field: "input" },
        },
      });
    expect(await post("/v1/completions", { prompt: [1, 2, 3] })).toMatchObject({
      status: 400,
      error: {
        code: "TOKEN_INPUT_NOT_SUPPORTED",
        param: "prompt",
        message: expect.stringMatching(/^prompt was sent as token ids/),
      },
    });
    expect([model.embeddings.length, model.completions.length]).toEqual([embedded, completed]);
  });

  it("refuses a number too large for JSON rather than pass it on as null", async () => {
    const post = async (path: string, json: string) => {
      const answer = await fetch(`${url}${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${userKey}`, "content-type": "application/json" },
        body: json,
      });
      return {
        status: answer.status,
        error: ((await answer.json()) as { error: Record<string, unknown> }).error,
      };
    };
    const chat = '{"model":"tiny-story","messages":[{"role":"user","content":"hi"}],';
    const asked = model.requests.length;
    for (const [json, param] of [
      [`${chat}"max_tokens":1e400}`, "max_tokens"],
      [`${chat}"temperature":1e400}`, "temperature"],
      [`${chat}"top_p":-1e400}`, "top_p"],
      [`${chat}"logit_bias":{"15":1e999}}`, "logit_bias[15]"],
    ] as const)
      expect(await post("/v1/chat/completions", json), param).toMatchObject({
        status: 400,
        error: {
          code: "INVALID_REQUEST",
          // The message names the field as `param` does.
          message: expect.stringMatching(
            new RegExp(`^${param.replace(/[[\]]/g, "\\$&")}: the number is out of range`),
          ),
          param,
        },
      });
    expect(model.requests.length).toBe(asked);
    expect(
      await post("/v1/completions", '{"model":"tiny-story","prompt":"x","max_tokens":1e400}'),
    ).toMatchObject({
      status: 400,
      error: { code: "INVALID_REQUEST", message: expect.stringMatching(/^max_tokens:/) },
    });
    expect(
      await post("/v1/embeddings", '{"model":"tiny-story","input":"x","dimensions":1e400}'),
    ).toMatchObject({
      status: 400,
      error: { code: "INVALID_REQUEST", message: expect.stringMatching(/^dimensions:/) },
    });
  });

  it("answers browsers' preflights on /v1/ and lets any page read its answers, never with credentials", async () => {
    const origin = "https://chat.example";
    const preflight = await fetch(`${url}/v1/chat/completions`, {
      method: "OPTIONS",
      headers: {
        origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization,content-type,x-stainless-os",
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("*");
    expect(preflight.headers.get("access-control-allow-methods")).toBe("GET, POST, OPTIONS");
    expect(preflight.headers.get("access-control-allow-headers")).toBe(
      "authorization,content-type,x-stainless-os",
    );
    expect(Number(preflight.headers.get("access-control-max-age"))).toBeGreaterThan(0);
    expect(preflight.headers.get("access-control-allow-credentials")).toBeNull();
    const bearer = { origin, authorization: `Bearer ${userKey}` };
    // Answers, streams written by the relay, errors and unknown /v1/ paths alike.
    const answers = [
      await fetch(`${url}/v1/models`, { headers: bearer }),
      await fetch(`${url}/v1/chat/completions`, {
        method: "POST",
        headers: { ...bearer, "content-type": "application/json" },
        body: JSON.stringify({
          model: "tiny-story",
          messages: [{ role: "user", content: "cors" }],
          stream: true,
        }),
      }),
      await fetch(`${url}/v1/models`, { headers: { origin, authorization: "Bearer hk-nope" } }),
      await fetch(`${url}/v1/nothing-here`, { headers: bearer }),
    ];
    expect(answers.map((a) => a.status)).toEqual([200, 200, 401, 404]);
    for (const answer of answers) {
      expect(answer.headers.get("access-control-allow-origin")).toBe("*");
      expect(answer.headers.get("access-control-allow-credentials")).toBeNull();
      await answer.text();
    }
    // Each answer carries its request's id, as OpenAI's do (the SDK's `_request_id`): the service's
    // own, never one the client sent.
    const ids = answers.map((answer) => answer.headers.get("x-request-id"));
    expect(new Set(ids).size).toBe(answers.length);
    for (const id of ids) expect(id).toMatch(/^req_[0-9a-f-]{36}$/);
    const forged = await fetch(`${url}/v1/models`, { headers: { ...bearer, "x-request-id": "forged" } });
    expect(forged.headers.get("x-request-id")).toMatch(/^req_[0-9a-f-]{36}$/);
    await forged.text();
    const sdk = await client.models.list().withResponse();
    expect(sdk.request_id).toMatch(/^req_[0-9a-f-]{36}$/);
    // /v1/ also takes the web page's own session cookie (a GET needs no CSRF token). The wildcard
    // without credentials is what keeps other sites from using it: a browser sends no cookie with a
    // request to an origin answering `*`, and lets no page read an answer to one that carried it.
    const withCookie = await fetch(`${url}/v1/models`, { headers: { origin, cookie: user.cookie } });
    expect(withCookie.status).toBe(200);
    expect(withCookie.headers.get("access-control-allow-origin")).toBe("*");
    expect(withCookie.headers.get("access-control-allow-credentials")).toBeNull();
    await withCookie.text();
    // The browser API is not opened to other sites.
    const api = await fetch(`${url}/api/auth/session`, { headers: { origin } });
    expect(api.headers.get("access-control-allow-origin")).toBeNull();
    const apiPreflight = await fetch(`${url}/api/conversations`, {
      method: "OPTIONS",
      headers: { origin, "access-control-request-method": "POST" },
    });
    expect(apiPreflight.status).toBe(404);
    expect(apiPreflight.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("streams exactly what OpenAI sends: the model service's usage comment is read, not passed on", async () => {
    const other = await signUp(web.app, "stream-reader");
    const key = await createApiKey(web.app, other, "s");
    const streamed = async (path: string, body: Record<string, unknown>) => {
      const answer = await fetch(`${url}${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "tiny-story", stream: true, ...body }),
      });
      return answer.text();
    };
    const chat = { messages: [{ role: "user", content: "shape" }] };
    const completion = { prompt: "shape" };
    for (const words of [[], ["forbidden"]]) {
      // Passed through as the model service sent it, and re-encoded by the output filter.
      await setFilterWords(web.app, admin, words);
      for (const [path, body] of [
        ["/v1/chat/completions", chat],
        ["/v1/completions", completion],
      ] as const) {
        const text = await streamed(path, body);
        expect(text, path).not.toContain(": usage");
        expect(text, path).toMatch(/"finish_reason":"stop"\}\]\}\n\ndata: \[DONE\]\n\n$/);
        // A client that asks for the usage gets OpenAI's usage chunk.
        const asked = await streamed(path, { ...body, stream_options: { include_usage: true } });
        expect(asked, path).toMatch(/"choices":\[\],"usage":\{"prompt_tokens":\d+/);
        expect(asked, path).not.toContain(": usage");
      }
    }
    await setFilterWords(web.app, admin, []);
    // Still metered with the tokens the model service counted: 2 filters x 2 routes x 2 streams.
    const usage = (await web.app.inject({ url: "/api/admin/usage", headers: admin.headers })).json() as {
      usage: Array<{ username: string; requests: number; promptTokens: number; completionTokens: number }>;
    };
    const row = usage.usage.find((u) => u.username === "stream-reader");
    expect(row).toMatchObject({ requests: 8, promptTokens: 4 * 7 + 4 * 5, completionTokens: 8 * 5 });
  });

  it("counts what was sent of a stream the client cut off, so a token quota cannot be dodged", async () => {
    await web.app.inject({
      method: "PATCH",
      url: "/api/admin/settings",
      headers: admin.headers,
      payload: { userLimits: { tokensPerDay: 250 }, groupLimits: {} },
    });
    model.options.delayMs = 10;
    model.options.words = Array.from({ length: 200 }, (_, i) => ` word-${String(i).padStart(3, "0")}`);
    try {
      const key = await createApiKey(web.app, await signUp(web.app, "cutter"), "k");
      const usageOf = async () => {
        const report = (await web.app.inject({ url: "/api/admin/usage", headers: admin.headers })).json() as {
          usage: Array<{
            username: string;
            requests: number;
            promptTokens: number;
            completionTokens: number;
          }>;
        };
        return report.usage.find((u) => u.username === "cutter") ?? { promptTokens: 0, completionTokens: 0 };
      };
      /** Streams, and cuts the connection once `chars` characters of the answer have come; how many came. */
      const cutAfter = (path: string, body: Record<string, unknown>, chars: number) =>
        new Promise<number>((resolve, reject) => {
          const req = httpRequest(
            `${url}${path}`,
            {
              method: "POST",
              agent: false,
              headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
            },
            (res) => {
              if (res.statusCode !== 200) reject(new Error(`answered ${res.statusCode}`));
              let pending = "";
              let received = 0;
              res.setEncoding("utf8");
              res.on("data", (text: string) => {
                pending += text;
                const events = pending.split("\n\n");
                pending = events.pop()!;
                for (const event of events) {
                  if (!event.startsWith("data: {")) continue;
                  const chunk = JSON.parse(event.slice(6)) as {
                    choices: Array<{ text?: string; delta?: { content?: string } }>;
                  };
                  const choice = chunk.choices[0];
                  received += (choice?.text ?? choice?.delta?.content ?? "").length;
                }
                if (received >= chars) {
                  req.destroy();
                  resolve(received);
                }
              });
              res.on("end", () => reject(new Error(`the stream ended after ${received} characters`)));
            },
          );
          req.on("error", () => {});
          req.end(JSON.stringify({ model: "tiny-story", stream: true, max_tokens: 400, ...body }));
        });
      for (const [path, body] of [
        ["/v1/chat/completions", { messages: [{ role: "user", content: "a long one" }] }],
        ["/v1/completions", { prompt: "a long one" }],
      ] as const) {
        const before = await usageOf();
        const received = await cutAfter(path, body, 600);
        // The client's ~600 characters (and the few the relay sent before it saw the client go),
        // at about four characters a token; the prompt estimated likewise.
        await expect
          .poll(async () => (await usageOf()).completionTokens, { timeout: 5000 })
          .toBeGreaterThanOrEqual(before.completionTokens + Math.ceil(received / 4));
        const after = await usageOf();
        expect(after.completionTokens - before.completionTokens, path).toBeLessThanOrEqual(
          Math.ceil((received + 10 * 10) / 4),
        );
        expect(after.promptTokens, path).toBeGreaterThan(before.promptTokens);
      }
      // Two cut answers of ~150 tokens each: the day's 250 are used up.
      await expect(
        new OpenAI({ apiKey: key, baseURL: `${url}/v1`, maxRetries: 0 }).chat.completions.create({
          model: "tiny-story",
          messages: [{ role: "user", content: "one more" }],
        }),
      ).rejects.toMatchObject({ status: 429, code: "QUOTA_EXCEEDED" });
    } finally {
      model.options.delayMs = 5;
      model.options.words = undefined;
      await web.app.inject({
        method: "PATCH",
        url: "/api/admin/settings",
        headers: admin.headers,
        payload: { userLimits: {} },
      });
    }
  });

  it("serves embeddings and text completions, metered per user, key and model", async () => {
    const other = await signUp(web.app, "completer");
    const key = await createApiKey(web.app, other, "c");
    const openai = new OpenAI({ apiKey: key, baseURL: `${url}/v1`, maxRetries: 0 });
    const embedded = await openai.embeddings.create({
      model: "tiny-story",
      input: ["a", "b"],
      encoding_format: "float",
    });
    expect(embedded.data.map((d) => d.embedding)).toEqual([
      [0.6, 0.8],
      [0.6, 0.8],
    ]);
    const plain = await openai.completions.create({ model: "tiny-story", prompt: "def f(" });
    expect(plain.choices[0]?.text).toBe("Hello from the model. You wrote: def f(");
    // One prompt per request: a list of several is refused, saying so, before the model service.
    const asked = model.completions.length;
    await expect(
      openai.completions.create({ model: "tiny-story", prompt: ["one", "two"] }),
    ).rejects.toMatchObject({
      status: 400,
      code: "INVALID_REQUEST",
      param: "prompt",
      error: expect.objectContaining({ message: expect.stringMatching(/^prompt: .*a list of one prompt/) }),
    });
    expect(model.completions.length).toBe(asked);
    const stream = await openai.completions.create({ model: "tiny-story", prompt: "x = ", stream: true });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? "";
    expect(text).toBe("Hello from the model. You wrote: x = ");
    expect(model.completions.at(-1)).toMatchObject({ model: "tiny-story", prompt: "x = ", stream: true });
    const usage = (await web.app.inject({ url: "/api/admin/usage", headers: admin.headers })).json() as {
      usage: Array<{
        username: string;
        model: string;
        requests: number;
        promptTokens: number;
        completionTokens: number;
        apiKeyId: string | null;
      }>;
    };
    expect(usage.usage.filter((u) => u.username === "completer")).toEqual([
      expect.objectContaining({
        model: "tiny-story:latest",
        apiKeyId: expect.any(String),
        requests: 3,
        // The embeddings' input tokens, then each completion's prompt.
        promptTokens: 6 + 5 + 5,
        completionTokens: 5 + 5,
      }),
    ]);
  });

  it("holds embeddings and text completions to quotas and text completions to the word filter", async () => {
    await web.app.inject({
      method: "PATCH",
      url: "/api/admin/settings",
      headers: admin.headers,
      payload: { userLimits: { requestsPerMinute: 1 }, groupLimits: {} },
    });
    try {
      const limited = new OpenAI({
        apiKey: await createApiKey(web.app, await signUp(web.app, "limited"), "l"),
        baseURL: `${url}/v1`,
        maxRetries: 0,
      });
      await limited.embeddings.create({ model: "tiny-story", input: "one", encoding_format: "float" });
      for (const refused of [
        limited.embeddings.create({ model: "tiny-story", input: "two", encoding_format: "float" }),
        limited.completions.create({ model: "tiny-story", prompt: "three" }),
      ])
        await expect(refused).rejects.toMatchObject({
          status: 429,
          code: "QUOTA_EXCEEDED",
          error: expect.objectContaining({
            details: expect.objectContaining({ resetAt: expect.any(String) }),
          }),
        });
    } finally {
      await web.app.inject({
        method: "PATCH",
        url: "/api/admin/settings",
        headers: admin.headers,
        payload: { userLimits: {} },
      });
    }
    await setFilterWords(web.app, admin, ["forbidden", "model"]);
    try {
      const asked = model.completions.length;
      for (const body of [{ prompt: "a FORBIDDEN thing" }, { prompt: "fine", suffix: "forbidden" }])
        await expect(
          client.completions.create({ model: "tiny-story", ...body } as never),
        ).rejects.toMatchObject({ status: 422, code: "CONTENT_BLOCKED" });
      expect(model.completions.length).toBe(asked);
      const plain = await client.completions.create({ model: "tiny-story", prompt: "hi" });
      expect(plain.choices[0]?.text).toBe("Hello from the *****. You wrote: hi");
      const stream = await client.completions.create({ model: "tiny-story", prompt: "hi", stream: true });
      let text = "";
      for await (const chunk of stream) text += chunk.choices[0]?.text ?? "";
      expect(text).toBe("Hello from the *****. You wrote: hi");
    } finally {
      await setFilterWords(web.app, admin, []);
    }
  });
});

describe("admin search-provider check", () => {
  it("reports each provider's status from the search service, failed ones with their errors", async () => {
    const model = await startFakeModelService();
    const services = await startFakeKnowledgeAndSearch();
    const web = await startWeb({ modelUrl: model.url, searchUrl: services.url, knowledgeUrl: services.url });
    try {
      const admin = await signUp(web.app, "admin");
      const answer = await web.app.inject({
        method: "POST",
        url: "/api/admin/search/test",
        headers: admin.headers,
        payload: { query: "hearth" },
      });
      expect(answer.json()).toEqual({
        providers: [{ id: "fake", status: "ok", latencyMs: 1, results: 1 }],
        resultCount: 1,
      });
      // When every provider fails, each one's error is the answer, not a bare 502.
      services.failSearch = true;
      const failed = await web.app.inject({
        method: "POST",
        url: "/api/admin/search/test",
        headers: admin.headers,
        payload: { query: "hearth" },
      });
      expect(failed.statusCode).toBe(200);
      expect(failed.json()).toEqual({
        providers: [{ id: "fake", status: "error", latencyMs: 3, error: "HTTP 503" }],
        resultCount: 0,
      });
      // No provider at all: the search service's own code, which the page translates, not UPSTREAM_ERROR.
      services.failSearch = false;
      services.noProviders = true;
      const none = await web.app.inject({
        method: "POST",
        url: "/api/admin/search/test",
        headers: admin.headers,
        payload: { query: "hearth" },
      });
      expect([none.statusCode, none.json().error.code]).toEqual([503, "SEARCH_NO_PROVIDERS"]);
    } finally {
      await web.close();
      await services.close();
      await model.close();
    }
  });
});
