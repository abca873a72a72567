/** Starts a knowledge service on a temporary data dir with the test index, for API tests. */
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type IngestionJob,
  type JobEvent,
  KnowledgeClient,
  type RerankResponse,
  rerankRequestSchema,
} from "@hearth/contracts";
import { type ConfigInput, createLogger, type Logger, listenService, loadConfig } from "@hearth/core";
import type { IndexBackend } from "../index/index-backend.js";
import { IngestionService } from "../ingestion/ingestion-service.js";
import type { KnowledgeIndex } from "../query/knowledge-index.js";
import { createKnowledgeService, type KnowledgeService } from "../service/create-knowledge-service.js";
import { type MemoryIndexBackend, memoryIndex } from "./memory-index.fixture.js";

export interface Harness {
  client: KnowledgeClient;
  url: string;
  dataDir: string;
  service: KnowledgeService;
  /** The test index (memory); with another index given, use `index` instead. */
  backend: MemoryIndexBackend;
  /** The index backend the service runs on (the one given, or the memory one). */
  index: IndexBackend;
  /** Follows a job's SSE stream to its end; returns the events. */
  follow(jobId: string): Promise<JobEvent[]>;
  finalJob(jobId: string): Promise<IngestionJob>;
  /** Uploads texts (file name → text) to a base as .txt-like files, and answers their job as it ended. */
  uploadTexts(knowledgeBaseId: string, files: Record<string, string>): Promise<IngestionJob>;
  close(): Promise<void>;
}

export async function startHarness(
  knowledge: NonNullable<ConfigInput["knowledge"]> = {},
  services: ConfigInput["services"] = {},
  dataDir?: string,
  /** Another index than the memory one (SQLite, PostgreSQL): its backend is closed with the service. */
  customIndex?: KnowledgeIndex,
  /** Where the service logs; silent unless TEST_LOG names a level. */
  logger: Logger = createLogger({ level: process.env.TEST_LOG ?? "silent" }),
): Promise<Harness> {
  const directory = dataDir ?? mkdtempSync(join(tmpdir(), "hearth-knowledge-"));
  const config = loadConfig({
    env: {},
    overrides: { dataDir: directory, knowledge: { port: 0, syncIntervalSeconds: 0, ...knowledge }, services },
  });
  const memory = memoryIndex(join(directory, "memory-index.json"));
  const service = await createKnowledgeService(config, logger, { index: customIndex ?? memory });
  const url = await listenService(service.app, {
    host: "127.0.0.1",
    port: config.knowledge.port,
    description: "knowledge",
  });
  const client = new KnowledgeClient({
    baseUrl: url,
    ...(config.services.token ? { token: config.services.token } : {}),
  });
  const follow = async (jobId: string) => {
    const events: JobEvent[] = [];
    for await (const event of client.jobEvents(jobId)) events.push(event);
    return events;
  };
  const finalJob = async (jobId: string) => {
    const events = await follow(jobId);
    const last = events.at(-1);
    if (last?.type !== "job") throw new Error("the event stream did not end with the job");
    return last.job;
  };
  return {
    client,
    url,
    dataDir: directory,
    service,
    backend: memory.backend,
    index: (customIndex ?? memory).backend,
    follow,
    finalJob,
    async uploadTexts(knowledgeBaseId, files) {
      const upload = await client.uploadDocuments(
        knowledgeBaseId,
        Object.entries(files).map(([name, text]) => ({ name, data: Buffer.from(text) })),
      );
      return finalJob(upload.job.id);
    },
    async close() {
      await service.close();
      if (!dataDir) rmSync(directory, { recursive: true, force: true });
    },
  };
}

/**
 * Watches for the service taking a cancel: `taken` resolves once a cancel has aborted its job (it
 * does at once), before the cancel answers (it waits for the job's running documents to stop), so a
 * test can hold a document's step until the cancel has landed. `restore` stops watching.
 */
export function watchCancels(): { taken: Promise<void>; restore(): void } {
  const cancel = IngestionService.prototype.cancel;
  let resolve!: () => void;
  const taken = new Promise<void>((done) => (resolve = done));
  IngestionService.prototype.cancel = function (this: IngestionService, jobId: string) {
    const answer = cancel.call(this, jobId);
    resolve();
    return answer;
  };
  return {
    taken,
    restore: () => {
      IngestionService.prototype.cancel = cancel;
    },
  };
}

/**
 * A stand-in for the model service's /api/embed, for tests only: vectors are hashed bags of words
 * (so overlapping texts are near), every text it embeds is counted, and it can fail or be slow.
 */
export async function startEmbedServer(options: { failFirst?: number; delayMs?: number } = {}) {
  const state = {
    requests: 0,
    texts: 0,
    failuresLeft: options.failFirst ?? 0,
    batches: [] as number[],
    /** Models answered 404 as the model service answers a model it does not have. */
    missingModels: new Set<string>(),
    /** Models answered 400, as the model service answers embedding with a model that cannot. */
    chatModels: new Set<string>(),
    /** Models answered 502, as the model service answers when its upstream refuses Hearth's credentials. */
    refusedModels: new Set<string>(),
    /** The service token each request presented (undefined: none). */
    tokens: [] as Array<string | undefined>,
  };
  const server: Server = createServer((request, response) => {
    let body = "";
    request.on("data", (part) => (body += part));
    request.on("end", async () => {
      state.requests++;
      state.tokens.push(request.headers["x-hearth-service-token"] as string | undefined);
      if (state.failuresLeft > 0) {
        state.failuresLeft--;
        response.writeHead(503).end("busy");
        return;
      }
      if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
      const { model, input } = JSON.parse(body) as { model: string; input: string[] };
      if (state.missingModels.has(model)) {
        response
          .writeHead(404, { "content-type": "application/json" })
          .end(JSON.stringify({ error: { code: "MODEL_NOT_FOUND", message: `No model ${model}` } }));
        return;
      }
      if (state.refusedModels.has(model)) {
        response.writeHead(502, { "content-type": "application/json" }).end(
          JSON.stringify({
            error: `api.example refused the credentials Hearth sent (401: Incorrect API key): check model.upstreams[].apiKey of "cloud"`,
          }),
        );
        return;
      }
      if (state.chatModels.has(model)) {
        response
          .writeHead(400, { "content-type": "application/json" })
          .end(JSON.stringify({ error: { code: "INVALID_REQUEST", message: `${model} does not embed` } }));
        return;
      }
      state.texts += input.length;
      state.batches.push(input.length);
      const embeddings = input.map((text) => {
        const vector = new Array(64).fill(0);
        for (const word of text.toLowerCase().match(/[a-z0-9]+|[\u4e00-\u9fff]/g) ?? []) {
          vector[createHash("md5").update(word).digest()[0]! % 64] += 1;
        }
        vector[0] += 0.01;
        return vector;
      });
      response
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ model: "test", embeddings }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}`,
    state,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * A stand-in for the model service's POST /v1/rerank (contracts' model-rerank), for tests only: it
 * ranks the documents it is sent in reverse, the i-th of n scoring (i + 1) / (n + 1), so that an
 * answer in that order came from it. It keeps every request it takes, and can refuse a model (400
 * MODEL_CANNOT_RERANK, as the model service answers a model that cannot rerank) or hang up.
 */
export async function startRerankServer() {
  const state = {
    requests: [] as Array<{ model: string; query: string; documents: string[] }>,
    /** Models answered 400 MODEL_CANNOT_RERANK. */
    cannotRerank: new Set<string>(),
    /** Models answered 404 MODEL_NOT_FOUND, as the model service answers a model it does not have. */
    missingModels: new Set<string>(),
    /** Hangs up without answering, as a model service that is down or restarting. */
    hangUp: false,
  };
  const server: Server = createServer((request, response) => {
    let body = "";
    request.on("data", (part) => (body += part));
    request.on("end", () => {
      if (state.hangUp) {
        request.socket.destroy();
        return;
      }
      const parsed = rerankRequestSchema.safeParse(JSON.parse(body));
      if (request.url !== "/v1/rerank" || !parsed.success) {
        response
          .writeHead(400, { "content-type": "application/json" })
          .end(JSON.stringify({ error: { code: "INVALID_REQUEST", message: "not a rerank request" } }));
        return;
      }
      const { model, query } = parsed.data;
      const documents = parsed.data.documents.map((document) =>
        typeof document === "string" ? document : document.text,
      );
      state.requests.push({ model, query, documents });
      if (state.missingModels.has(model)) {
        response.writeHead(404, { "content-type": "application/json" }).end(
          JSON.stringify({
            error: { code: "MODEL_NOT_FOUND", message: `Model "${model}" is not installed` },
          }),
        );
        return;
      }
      if (state.cannotRerank.has(model)) {
        response.writeHead(400, { "content-type": "application/json" }).end(
          JSON.stringify({
            error: { code: "MODEL_CANNOT_RERANK", message: `The model ${model} cannot rerank` },
          }),
        );
        return;
      }
      const answer: RerankResponse = {
        object: "list",
        model,
        results: documents
          .map((_, index) => ({ index, relevance_score: (index + 1) / (documents.length + 1) }))
          .reverse(),
        usage: { prompt_tokens: 1, total_tokens: 1 },
      };
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}`,
    state,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
