import { createServer, request as httpRequest, type ServerResponse } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listenOnLoopback } from "../../../../test/support/ports.js";
import { type Session, signUp } from "../../test/support/web-client.js";
import { startWeb, type WebHarness } from "../../test/support/web-harness.js";

const digest = `sha256:${"ab".repeat(32)}`;
const line = (event: object) => `${JSON.stringify(event)}\n`;

/** A model service whose pulls succeed (tiny), fail (broken), or go on until the caller goes away (slow). */
let stoppedPulls = 0;
const modelService = createServer((request, response: ServerResponse) => {
  let body = "";
  request.on("data", (chunk) => (body += chunk));
  request.on("end", () => {
    const { model } = JSON.parse(body) as { model: string };
    if (model === "bad name!!") {
      // As the model service refuses a malformed name: 400 before any progress, its code beside the message.
      response.writeHead(400, { "content-type": "application/json" });
      response.end(
        JSON.stringify({ error: `"${model}" is not a model reference`, code: "MODEL_REFERENCE_INVALID" }),
      );
      return;
    }
    response.writeHead(200, { "content-type": "application/x-ndjson" });
    response.write(line({ status: "pulling manifest" }));
    if (model === "tiny") {
      response.write(line({ status: "verifying sha256 digest", digest }));
      response.end(line({ status: "success", name: "tiny:latest", version: "1.1.0", digest }));
    } else if (model === "broken") {
      response.end(line({ error: "registry.local answered 500", code: "MODEL_PULL_FAILED" }));
    } else response.on("close", () => stoppedPulls++);
  });
});

let service: Awaited<ReturnType<typeof listenOnLoopback>>;
let web: WebHarness;
let url: string;
let admin: Session;

beforeAll(async () => {
  service = await listenOnLoopback(modelService);
  web = await startWeb({ modelUrl: service.url });
  url = await web.app.listen({ host: "127.0.0.1", port: 0 });
  admin = await signUp(web.app, "admin");
});

afterAll(async () => {
  await web?.close();
  await service?.close();
});

const pull = (model: string) =>
  fetch(`${url}/api/admin/models/pull`, {
    method: "POST",
    headers: { ...admin.headers, "content-type": "application/json" },
    body: JSON.stringify({ model }),
  });

/** The newest audit entry about a pull of `model`, once there is one. */
async function pullEntry(model: string) {
  for (let tries = 0; tries < 100; tries++) {
    const page = (
      await web.app.inject({ url: "/api/admin/audit?limit=1000", headers: admin.headers })
    ).json() as { entries: Array<{ action: string; target: string; details: unknown }> };
    const entry = page.entries.find((candidate) => candidate.target === model);
    if (entry) return entry;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no audit entry for the pull of ${model}`);
}

describe("the audit entry of a model pull", () => {
  it("records a pull that succeeded with the model, version and digest it installed", async () => {
    const response = await pull("tiny");
    expect(await response.text()).toContain('"status":"success"');
    expect(await pullEntry("tiny")).toMatchObject({
      action: "model.pull",
      details: { name: "tiny:latest", version: "1.1.0", digest },
    });
  });

  it("records a pull that failed as failed, with its error's code", async () => {
    const response = await pull("broken");
    expect(await response.text()).toContain("MODEL_PULL_FAILED");
    expect(await pullEntry("broken")).toMatchObject({
      action: "model.pull-failed",
      details: { code: "MODEL_PULL_FAILED" },
    });
  });

  it("answers a name the model service refused as no model reference with that code, for the page to say it in its reader's language", async () => {
    const response = await pull("bad name!!");
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: "MODEL_REFERENCE_INVALID" } });
    expect(await pullEntry("bad name!!")).toMatchObject({
      action: "model.pull-failed",
      details: { code: "MODEL_REFERENCE_INVALID" },
    });
  });

  it("records a pull the administrator left before its end as cancelled, and stops it", async () => {
    // The administrator's browser goes away once the first progress event came.
    const { port } = new URL(url);
    const request = httpRequest({
      host: "127.0.0.1",
      port,
      method: "POST",
      path: "/api/admin/models/pull",
      headers: { ...admin.headers, "content-type": "application/json" },
    });
    request.on("response", (response) => response.once("data", () => request.destroy()));
    request.on("error", () => undefined);
    request.end(JSON.stringify({ model: "slow" }));
    expect(await pullEntry("slow")).toMatchObject({
      action: "model.pull-failed",
      details: { cancelled: true },
    });
    await expect.poll(() => stoppedPulls).toBe(1);
  });
});
