import { createServer } from "node:http";
import { PROCESS_INSTANCE } from "@hearth/core";
import { afterEach, describe, expect, it } from "vitest";
import { listenOnLoopback } from "../../../../test/support/ports.js";
import { signUp } from "../../test/support/web-client.js";
import { startWeb } from "../../test/support/web-harness.js";
import { histogramP99 } from "./admin-routes.js";

/** Prometheus text of a latency histogram: cumulative counts by upper bound (seconds). */
const histogram = (buckets: Array<[string, number]>, labels = 'route="/v1/chat/completions"') =>
  buckets
    .map(([le, count]) => `hearth_http_request_duration_seconds_bucket{${labels},le="${le}"} ${count}`)
    .join("\n");

describe("the Status tab's inference P99", () => {
  it("is interpolated inside the bucket that holds it, as Prometheus's histogram_quantile gives it", () => {
    // 30 requests: 29 within 5 s, one between 10 s and 30 s. histogram_quantile(0.99, ...) is
    // 10 + (30 - 10) * (29.7 - 29) / (30 - 29) = 24 s; the bucket's bound alone said 30 s.
    const text = histogram([
      ["1", 20],
      ["2.5", 27],
      ["5", 29],
      ["10", 29],
      ["30", 30],
      ["+Inf", 30],
    ]);
    expect(histogramP99(text, "hearth_http_request_duration_seconds")).toBe(24_000);
    // 100 requests evenly over (0.1, 0.5]: rank 99 is 0.1 + 0.4 * 99/100 = 0.496 s.
    expect(
      histogramP99(
        histogram([
          ["0.1", 0],
          ["0.5", 100],
          ["+Inf", 100],
        ]),
        "hearth_http_request_duration_seconds",
      ),
    ).toBe(496);
  });

  it("is the highest finite bound when the rank falls in the +Inf bucket, and unknown with no requests", () => {
    const name = "hearth_http_request_duration_seconds";
    expect(
      histogramP99(
        histogram([
          ["60", 1],
          ["120", 1],
          ["+Inf", 5],
        ]),
        name,
      ),
    ).toBe(120_000);
    expect(
      histogramP99(
        histogram([
          ["60", 0],
          ["+Inf", 0],
        ]),
        name,
      ),
    ).toBeNull();
  });
});

describe("the Status tab's memory figures", () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => close?.());

  /** The figures, with a model service that answers its readiness from `instance`. */
  async function figures(instance: string) {
    const model = await listenOnLoopback(
      createServer((request, response) => {
        if (request.url === "/readyz") response.end(JSON.stringify({ status: "ready", instance }));
        else response.end("hearth_process_resident_memory_bytes 104857600\n");
      }),
    );
    const web = await startWeb({ modelUrl: model.url });
    close = async () => {
      await web.close();
      await model.close();
    };
    const admin = await signUp(web.app, "admin");
    const status = await web.app.inject({ url: "/api/admin/status", headers: admin.headers });
    return (status.json() as { figures: Record<string, number | null> }).figures;
  }

  it("shows each service's own memory when they run in their own processes", async () => {
    const shown = await figures("another process");
    expect(shown).toMatchObject({ modelMemoryMb: 100, webMemoryMb: expect.any(Number) });
    expect(shown).not.toHaveProperty("sharedProcessMemoryMb");
  });

  it("shows the memory once, as the shared process's, when the model service runs in this process", async () => {
    const shown = await figures(PROCESS_INSTANCE);
    expect(shown.sharedProcessMemoryMb).toEqual(expect.any(Number));
    expect(shown).not.toHaveProperty("modelMemoryMb");
    expect(shown).not.toHaveProperty("webMemoryMb");
  });
});

describe("the Status tab's counted figures after a restart", () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => close?.());

  /** A service that is ready and answers `metrics` as its Prometheus text. */
  const service = (metrics: string) =>
    listenOnLoopback(
      createServer((request, response) => {
        if (request.url === "/readyz")
          response.end(JSON.stringify({ status: "ready", instance: "elsewhere" }));
        else response.end(metrics);
      }),
    );

  async function status(services: { model?: string; knowledge?: string; search?: string }) {
    const model = services.model === undefined ? undefined : await service(services.model);
    const knowledge = services.knowledge === undefined ? undefined : await service(services.knowledge);
    const search = services.search === undefined ? undefined : await service(services.search);
    const web = await startWeb({
      modelUrl: model?.url ?? "http://127.0.0.1:9",
      ...(knowledge ? { knowledgeUrl: knowledge.url } : {}),
      ...(search ? { searchUrl: search.url } : {}),
    });
    close = async () => {
      await web.close();
      await model?.close();
      await knowledge?.close();
      await search?.close();
    };
    const admin = await signUp(web.app, "admin");
    const answer = await web.app.inject({ url: "/api/admin/status", headers: admin.headers });
    return answer.json() as {
      figures: Record<string, number | null>;
      since: Record<string, string | null>;
    };
  }

  it("shows no request waiting, and no knowledge-base update since the service started, before any was made", async () => {
    // Freshly started services: no model asked for yet, no document uploaded yet.
    const shown = await status({
      model: "hearth_process_resident_memory_bytes 104857600\n",
      knowledge: "hearth_process_start_time_seconds 1795852800\n",
    });
    expect(shown.figures.modelQueueDepth).toBe(0);
    expect(shown.figures.knowledgeBaseUpdates).toBe(0);
    // The count is the knowledge service's process's: it starts with it.
    expect(shown.since.knowledgeBaseUpdates).toBe(new Date(1795852800 * 1000).toISOString());
  });

  it("counts the requests waiting and the updates asked since the knowledge service started", async () => {
    const shown = await status({
      model:
        'hearth_model_queue_depth{model="tiny:latest"} 2\nhearth_model_queue_depth{model="other:latest"} 1\n',
      knowledge: [
        "hearth_process_start_time_seconds 1795852800",
        'hearth_http_requests_total{method="POST",route="/v1/knowledge-bases/:id/documents",status="202"} 7',
        'hearth_http_requests_total{method="POST",route="/v1/knowledge-bases/:id/sync",status="202"} 2',
        'hearth_http_requests_total{method="GET",route="/v1/knowledge-bases/:id/documents",status="200"} 40',
      ].join("\n"),
    });
    expect(shown.figures.modelQueueDepth).toBe(3);
    expect(shown.figures.knowledgeBaseUpdates).toBe(9);
  });

  it("leaves searches their client left (a stopped chat, 499) out of the web search success rate", async () => {
    const shown = await status({
      search: [
        'hearth_http_requests_total{method="POST",route="/v1/search",status="200"} 8',
        'hearth_http_requests_total{method="POST",route="/v1/search",status="502"} 2',
        'hearth_http_requests_total{method="POST",route="/v1/search",status="499"} 5',
      ].join("\n"),
    });
    expect(shown.figures.searchSuccessPercent).toBe(80);
  });

  it("leaves the figures of services that do not answer unknown", async () => {
    const shown = await status({});
    expect(shown.figures.modelQueueDepth).toBeNull();
    expect(shown.figures.knowledgeBaseUpdates).toBeNull();
    expect(shown.since.knowledgeBaseUpdates).toBeNull();
  });
});

describe("the Status tab's loaded models", () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => close?.());

  async function status(ps: unknown) {
    const model = await listenOnLoopback(
      createServer((request, response) => {
        if (request.url === "/readyz")
          response.end(JSON.stringify({ status: "ready", instance: "elsewhere" }));
        else if (request.url === "/api/ps") response.end(JSON.stringify(ps));
        else response.end("");
      }),
    );
    const web = await startWeb({ modelUrl: model.url });
    close = async () => {
      await web.close();
      await model.close();
    };
    const admin = await signUp(web.app, "admin");
    const user = await signUp(web.app, "user");
    const refused = await web.app.inject({ url: "/api/admin/status", headers: user.headers });
    expect(refused.statusCode).toBe(403);
    const answer = await web.app.inject({ url: "/api/admin/status", headers: admin.headers });
    return (answer.json() as { loadedModels: unknown }).loadedModels;
  }

  it("lists the models the model service holds in memory, with their size, context and expiry", async () => {
    const shown = await status({
      models: [
        {
          name: "llama3.2:1b",
          model: "llama3.2:1b",
          size: 1_500_000_000,
          size_vram: 0,
          expires_at: "2026-11-28T12:30:00.000Z",
          context_length: 8192,
        },
        {
          name: "qwen2.5:7b",
          model: "qwen2.5:7b",
          size: 5_000_000_000,
          size_vram: 0,
          expires_at: "9999-12-31T23:59:59.000Z",
          context_length: 32768,
        },
      ],
    });
    expect(shown).toEqual([
      {
        model: "llama3.2:1b",
        sizeBytes: 1_500_000_000,
        contextLength: 8192,
        expiresAt: "2026-11-28T12:30:00.000Z",
        keptLoaded: false,
      },
      {
        model: "qwen2.5:7b",
        sizeBytes: 5_000_000_000,
        contextLength: 32768,
        expiresAt: null,
        keptLoaded: true,
      },
    ]);
  });

  it("is an empty list when none is loaded, and unknown (null) when the model service does not say", async () => {
    expect(await status({ models: [] })).toEqual([]);
    await close?.();
    close = undefined;
    expect(await status("not a list")).toBeNull();
  });
});
