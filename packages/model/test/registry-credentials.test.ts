import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingHttpHeaders } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listenOnLoopback } from "../../../test/support/ports.js";
import { tinyGgufBytes } from "../../../test/support/tiny-gguf.js";
import { ModelRegistry, type PullProgress, parsePullReference } from "../src/registry/model-registry.js";

const weights = tinyGgufBytes({ seed: 7 });
const basic = (credentials: string) => `Basic ${Buffer.from(credentials).toString("base64")}`;

/** Requests as each server saw them. */
const seen: Array<{ server: "mirror" | "cdn"; url: string; headers: IncomingHttpHeaders }> = [];
let mirror: Awaited<ReturnType<typeof listenOnLoopback>>;
let cdn: Awaited<ReturnType<typeof listenOnLoopback>>;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "hearth-pull-credentials-"));
  // Another origin (localhost, another port): where the mirror sends a redirect.
  cdn = await listenOnLoopback(
    createServer((request, response) => {
      seen.push({ server: "cdn", url: request.url ?? "", headers: request.headers });
      response.writeHead(200, { "content-length": String(weights.length) }).end(weights);
    }),
  );
  // A mirror that asks for user "user", password "s3cret pw" (typed escaped in the URL).
  mirror = await listenOnLoopback(
    createServer((request, response) => {
      seen.push({ server: "mirror", url: request.url ?? "", headers: request.headers });
      if (request.headers.authorization !== basic("user:s3cret pw")) {
        response.writeHead(401, { "www-authenticate": 'Basic realm="models"' }).end();
        return;
      }
      if (request.url?.startsWith("/elsewhere/")) {
        const port = new URL(cdn.url).port;
        response.writeHead(302, { location: `http://localhost:${port}/m/tiny.gguf` }).end();
        return;
      }
      response.writeHead(200, { "content-length": String(weights.length) }).end(weights);
    }),
  );
});

afterAll(async () => {
  await mirror?.close();
  await cdn?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** `http://user:<password>@127.0.0.1:<port><path>?token=TOPSECRET`. */
const withSecrets = (path: string, password = "s3cret%20pw") =>
  `${mirror.url.replace("://", `://user:${password}@`)}${path}?token=TOPSECRET`;

async function pullCapturing(registry: ModelRegistry, url: string) {
  const events: PullProgress[] = [];
  const outcome = await registry
    .pull(parsePullReference(url), { onProgress: (event) => events.push(event) })
    .catch((error: unknown) => error);
  return { outcome, shown: JSON.stringify(events) + String((outcome as Error).message ?? "") };
}

describe("a pull from a URL with credentials", () => {
  it("sends the user info as Basic credentials, and never stores or shows them", async () => {
    const modelsDir = join(dir, "pulled");
    const registry = new ModelRegistry(modelsDir);
    seen.length = 0;
    const { outcome, shown } = await pullCapturing(registry, withSecrets("/m/tiny.gguf"));
    expect(outcome).toMatchObject({ name: "tiny:latest", version: "1.0.0" });
    expect(seen).toMatchObject([
      {
        server: "mirror",
        url: "/m/tiny.gguf?token=TOPSECRET",
        headers: { authorization: basic("user:s3cret pw") },
      },
    ]);
    const [model] = await registry.list();
    const source = `${mirror.url.replace("://", "://[redacted]@")}/m/tiny.gguf?[redacted]`;
    expect(model).toMatchObject({ source, changelog: `pulled from ${source}` });
    const stored = await readFile(join(modelsDir, ".hearth", "registry.json"), "utf8");
    for (const text of [shown, stored]) {
      expect(text).not.toMatch(/s3cret|TOPSECRET/);
    }
  });

  it("says a refused password is refused, without the secrets", async () => {
    const registry = new ModelRegistry(join(dir, "refused"));
    const { outcome, shown } = await pullCapturing(registry, withSecrets("/m/tiny.gguf", "wrong"));
    expect(outcome).toMatchObject({ code: "MODEL_PULL_FAILED" });
    expect((outcome as Error).message).toMatch(/answered 401: it refused the user name and password/);
    expect(shown).not.toMatch(/wrong|TOPSECRET/);
  });

  it("does not send the credentials on to another origin a redirect names", async () => {
    const registry = new ModelRegistry(join(dir, "redirected"));
    seen.length = 0;
    const { outcome } = await pullCapturing(registry, withSecrets("/elsewhere/tiny.gguf"));
    expect(outcome).toMatchObject({ name: "tiny:latest" });
    expect(seen.map((request) => request.server)).toEqual(["mirror", "cdn"]);
    expect(seen[1]!.headers.authorization).toBeUndefined();
  });

  it("sends them to an Ollama registry named with them too, and never shows them", async () => {
    const registry = new ModelRegistry(join(dir, "registry"));
    seen.length = 0;
    const reference = `${mirror.url.replace("://", "://user:s3cret%20pw@")}/library/tiny:latest`;
    const { outcome, shown } = await pullCapturing(registry, reference);
    // The mirror answers the manifest request with weights: not a manifest.
    expect(outcome).toMatchObject({ code: "MODEL_PULL_FAILED" });
    expect(seen).toMatchObject([
      { url: "/v2/library/tiny/manifests/latest", headers: { authorization: basic("user:s3cret pw") } },
    ]);
    expect(shown).not.toMatch(/s3cret/);
  });

  it("shows and rewrites without its secrets a registry an earlier release wrote with them", async () => {
    const modelsDir = join(dir, "earlier");
    const registry = new ModelRegistry(modelsDir);
    await registry.pull(parsePullReference(withSecrets("/m/tiny.gguf")));
    const path = join(modelsDir, ".hearth", "registry.json");
    const earlier = JSON.parse(await readFile(path, "utf8"));
    const version = earlier.models["tiny:latest"].versions[0];
    version.source = withSecrets("/m/tiny.gguf");
    version.changelog = `pulled from ${version.source}`;
    await writeFile(path, JSON.stringify(earlier));

    const [model] = await registry.models();
    expect(JSON.stringify(model)).not.toMatch(/s3cret|TOPSECRET/);
    expect(model!.current.source).toMatch(
      /^http:\/\/\[redacted\]@127\.0\.0\.1:\d+\/m\/tiny\.gguf\?\[redacted\]$/,
    );
    await registry.copy("tiny", "tiny-copy"); // any change rewrites the registry
    expect(await readFile(path, "utf8")).not.toMatch(/s3cret|TOPSECRET/);
  });
});
