/**
 * An ingestion job's progress events through the web service, both services as they run (`hearth
 * serve web`, `hearth serve knowledge`): a client that goes away in the middle of the stream, or a
 * knowledge service that dies in the middle of it, ends that one stream, never the web service.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HearthProcess, startHearth } from "../support/hearth-process.js";
import { freePort, listenOnLoopback } from "../support/ports.js";

/** The model service's /api/embed, holding every embedding until the test is over: jobs stay running. */
async function startHeldEmbeddings() {
  const held: ServerResponse[] = [];
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    request.resume();
    if (request.url === "/api/embed") held.push(response);
    else response.writeHead(404, { "content-type": "application/json" }).end('{"error":"not here"}');
  });
  const listening = await listenOnLoopback(server);
  return { url: listening.url, close: listening.close };
}

interface Session {
  cookie: string;
  csrf: string;
}

/**
 * Opens a job's event stream and reads it until its first event; `events` is what came so far,
 * `ended` settles when the stream ends or breaks off (with how), and `destroy` closes the socket
 * as a killed curl does.
 */
function openEvents(url: string, session: Session, jobId: string) {
  return new Promise<{
    status: number;
    events: () => string;
    ended: Promise<"ended" | "cut">;
    destroy: () => void;
  }>((resolve, reject) => {
    const request = httpRequest(`${url}/api/jobs/${jobId}/events`, { headers: { cookie: session.cookie } });
    request.on("error", reject);
    request.on("response", (response) => {
      let text = "";
      const ended = new Promise<"ended" | "cut">((settle) => {
        response.on("end", () => settle("ended"));
        response.on("aborted", () => settle("cut"));
        response.on("error", () => settle("cut"));
        response.on("close", () => settle(response.complete ? "ended" : "cut"));
      });
      let resolved = false;
      response.on("data", (chunk: Buffer) => {
        text += chunk.toString();
        if (!resolved && text.includes("\n\n")) {
          resolved = true;
          resolve({
            status: response.statusCode ?? 0,
            events: () => text,
            ended,
            destroy: () => request.destroy(),
          });
        }
      });
    });
    request.end();
  });
}

describe("a job's event stream through the web service", () => {
  let dataDir: string;
  let embeddings: Awaited<ReturnType<typeof startHeldEmbeddings>>;
  let knowledge: HearthProcess;
  let web: HearthProcess;
  let url: string;
  let session: Session;
  let jobId: string;

  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${url}${path}`, {
      ...init,
      headers: { cookie: session.cookie, "x-csrf-token": session.csrf, ...init.headers },
    });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "hearth-job-events-"));
    for (const service of ["knowledge", "web"]) mkdirSync(join(dataDir, service));
    embeddings = await startHeldEmbeddings();
    const knowledgePort = await freePort();
    knowledge = startHearth(["serve", "knowledge"], {
      HEARTH_DATA_DIR: join(dataDir, "knowledge"),
      HEARTH_KNOWLEDGE_PORT: String(knowledgePort),
      HEARTH_MODEL_URL: embeddings.url,
      HEARTH_LOG_LEVEL: "warn",
    });
    const webPort = await freePort();
    web = startHearth(["serve", "web"], {
      HEARTH_DATA_DIR: join(dataDir, "web"),
      HEARTH_HOST: "127.0.0.1",
      HEARTH_PORT: String(webPort),
      HEARTH_KNOWLEDGE_URL: `http://127.0.0.1:${knowledgePort}`,
      HEARTH_MODEL_URL: embeddings.url,
      HEARTH_SEARCH_URL: `http://127.0.0.1:${await freePort()}`,
    });
    await knowledge.waitFor(/knowledge service ready at/, 60_000);
    await web.waitFor(/web service ready at/, 60_000);
    url = `http://127.0.0.1:${webPort}`;

    const signedUp = await fetch(`${url}/api/auth/signup`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "admin", password: "correct horse battery" }),
    });
    expect(signedUp.status).toBe(201);
    const cookies = signedUp.headers.getSetCookie().map((cookie) => cookie.split(";")[0]!);
    const csrf = cookies.find((cookie) => cookie.startsWith("hearth_csrf="))!.slice("hearth_csrf=".length);
    session = { cookie: cookies.join("; "), csrf: decodeURIComponent(csrf) };

    const base = await api("/api/knowledge-bases", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "Notes" }),
    });
    expect(base.status).toBe(201);
    const { id } = (await base.json()) as { id: string };
    const form = new FormData();
    const lines = Array.from({ length: 20_000 }, (_, i) => `river forest castle storm line ${i}`);
    form.append("file", new Blob([lines.join("\n")]), "mid.txt");
    const upload = await api(`/api/knowledge-bases/${id}/documents`, { method: "POST", body: form });
    expect(upload.status).toBe(202);
    jobId = ((await upload.json()) as { job: { id: string } }).job.id;
  }, 120_000);

  afterAll(async () => {
    await web?.kill();
    await knowledge?.kill();
    await embeddings?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** The web service is up, and answers a request that goes through to the knowledge service. */
  async function webAnswers(expectedJobStatus: number) {
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    const job = await api(`/api/jobs/${jobId}`);
    expect(job.status).toBe(expectedJobStatus);
    if (expectedJobStatus !== 200) expect((await job.json()).error.code).toBe("UPSTREAM_UNAVAILABLE");
    expect(web.child.exitCode).toBeNull();
    expect(web.output()).not.toMatch(/Emitted 'error' event|uncaught/i);
  }

  it("outlives a client that goes away in the middle of the stream", async () => {
    for (let round = 0; round < 3; round++) {
      const stream = await openEvents(url, session, jobId);
      expect(stream.status).toBe(200);
      expect(stream.events()).toContain("event: job");
      stream.destroy();
      await stream.ended;
      await webAnswers(200);
    }
  });

  it("outlives a knowledge service that dies in the middle of the stream, and cuts that stream short", async () => {
    const stream = await openEvents(url, session, jobId);
    expect(stream.events()).toContain("event: job");
    await knowledge.kill();
    // Cut, not ended: the client must not take a stream that broke off for a finished one.
    expect(await stream.ended).toBe("cut");
    await webAnswers(502);
  });
});
