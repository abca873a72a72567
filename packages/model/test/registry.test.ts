import {
  link,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readlink,
  rm,
  stat,
  utimes,
  writeFile,
} from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { ModelRegistryClient } from "@hearth/contracts";
import { createLogger } from "@hearth/core";
import { Ollama } from "ollama";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tinyGgufBytes } from "../../../test/support/tiny-gguf.js";
import {
  closedPort,
  hasOpenssl,
  selfSignedHttpsServer,
  UNRESOLVABLE_HOST,
} from "../../../test/support/unreachable-endpoints.js";
import { skippedModelFiles } from "../src/index.js";
import { ModelRegistry, type PullProgress, parsePullReference } from "../src/registry/model-registry.js";
import { partialHolds, startRegistryServer } from "./registry-server.js";
import { startModelService } from "./start-model-service.js";

const first = tinyGgufBytes({ seed: 1 });
const second = tinyGgufBytes({ seed: 2 });

/** The plain file URLs' bytes (under /files/); a test may replace a file's between two pulls. */
const files: Record<string, Uint8Array | string> = {
  "story.gguf": second,
  "page.gguf": "<html>not a model</html>",
};
let dir: string;
let registryServer: Awaited<ReturnType<typeof startRegistryServer>>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "hearth-registry-"));
  registryServer = await startRegistryServer(
    [
      { reference: "library/tiny:latest", bytes: first },
      { reference: "library/tiny:v2", bytes: second },
      { reference: "library/corrupt:latest", bytes: tinyGgufBytes({ seed: 5 }), serveBytes: second },
    ],
    files,
  );
});

afterAll(async () => {
  await registryServer?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Resolves once a download's partial file under `dir` holds `bytes` bytes. */
async function freshDir(name: string) {
  const path = join(dir, name);
  await mkdir(path, { recursive: true });
  return path;
}

describe("model registry", () => {
  it("pulls through /api/pull with Ollama's progress events, then serves the model", async () => {
    const modelsDir = await freshDir("pull");
    const service = await startModelService(modelsDir);
    try {
      const ollama = new Ollama({ host: service.url });
      const events = [];
      for await (const event of await ollama.pull({
        model: `${registryServer.url}/library/tiny:latest`,
        stream: true,
      }))
        events.push(event);
      const statuses = events.map((event) => event.status);
      expect(statuses[0]).toBe("pulling manifest");
      expect(statuses).toContain("verifying sha256 digest");
      expect(statuses.at(-1)).toBe("success");
      // Beside Ollama's fields, the model installed (the web service's audit entry records it).
      expect(events.at(-1)).toMatchObject({
        name: "tiny:latest",
        version: "1.0.0",
        digest: registryServer.digestOf(first),
      });
      expect(events.at(-1)).not.toHaveProperty("unchanged");
      const layer = events.filter((event) => event.total === first.length);
      expect(layer.at(-1)?.completed).toBe(first.length);
      // Pulled again, the same bytes: the success says the model served them already.
      const again = [];
      for await (const event of await ollama.pull({
        model: `${registryServer.url}/library/tiny:latest`,
        stream: true,
      }))
        again.push(event);
      expect(again.at(-1)).toMatchObject({
        status: "success",
        name: "tiny:latest",
        version: "1.0.0",
        unchanged: true,
      });

      const tags = await ollama.list();
      const tiny = tags.models.find((model) => model.name === "tiny:latest");
      // Listed as Ollama lists digests: the hex alone.
      expect(`sha256:${tiny?.digest}`).toBe(registryServer.digestOf(first));
      const answer = await ollama.generate({
        model: "tiny",
        prompt: "hello",
        raw: true,
        options: { temperature: 0, num_predict: 3 },
      });
      expect((answer.response ?? "").trim().length).toBeGreaterThan(0);
    } finally {
      await service.close();
    }
  });

  it("refuses an invalid name with 400 and its own code beside the message before any progress, streamed or not (was 200 and an error line)", async () => {
    const service = await startModelService(await freshDir("invalid-name"));
    try {
      for (const model of ["通义千问:7b", "bad name!!", "http://[bad", "http://[bad/model.gguf"])
        for (const stream of [true, false]) {
          const response = await fetch(`${service.url}/api/pull`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ model, stream }),
          });
          expect([model, stream, response.status]).toEqual([model, stream, 400]);
          expect(response.headers.get("content-type")).toMatch(/^application\/json/);
          expect(await response.json()).toEqual({
            error: expect.stringMatching(/not a model reference|is not a URL/),
            code: "MODEL_REFERENCE_INVALID",
          });
        }
      // The official client throws it as Ollama's refusal, rather than a progress event.
      const ollama = new Ollama({ host: service.url });
      await expect(ollama.pull({ model: "bad name!!", stream: true })).rejects.toMatchObject({
        status_code: 400,
      });
    } finally {
      await service.close();
    }
  });

  it("names the status and URL a download was answered with, for a page to say it in its reader's language", async () => {
    const service = await startModelService(await freshDir("missing-url"));
    try {
      const url = `${registryServer.url}/files/missing.gguf`;
      const response = await fetch(`${service.url}/api/pull`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: `${url}?token=TOPSECRET`, stream: true }),
      });
      const lines = (await response.text())
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line));
      expect(lines.at(-1)).toEqual({
        error: `${url}?[redacted] answered 404`,
        code: "MODEL_PULL_FAILED",
        details: { reason: "not-found", status: 404, url: `${url}?[redacted]` },
      });
    } finally {
      await service.close();
    }
  });

  it("logs a pull the server cannot make (offline) as a warning without a stack or the URL's credentials", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(...String(chunk).trim().split("\n"));
        done();
      },
    });
    const service = await startModelService(
      await freshDir("offline"),
      {},
      createLogger({ level: "info", destination }),
    );
    try {
      const model = `http://bob:hunter2@127.0.0.1:${port}/files/tiny.gguf?token=TOPSECRET`;
      for (const stream of [true, false]) {
        const response = await fetch(`${service.url}/api/pull`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ model, stream }),
        });
        // Streamed: the code in the last line; not streamed: Ollama's error answer, 502.
        if (stream) expect(await response.text()).toContain('"code":"MODEL_PULL_FAILED"');
        else
          expect([response.status, await response.text()]).toEqual([
            502,
            expect.stringMatching(/did not answer/),
          ]);
      }
      const logged = lines.map((line) => JSON.parse(line)).filter((line) => line.level >= 40);
      // Once per attempt, streamed or not: a warning with the code and message, no stack.
      expect(logged).toEqual([
        expect.objectContaining({ level: 40, code: "MODEL_PULL_FAILED" }),
        expect.objectContaining({ level: 40, code: "MODEL_PULL_FAILED" }),
      ]);
      expect(logged.some((line) => "err" in line)).toBe(false);
      expect(lines.join("\n")).not.toMatch(/hunter2|TOPSECRET/);
    } finally {
      await service.close();
    }
  });

  it("names the status and manifest URL a registry answered with an error", async () => {
    const failing = createServer((_request, response) => response.writeHead(503).end("down for maintenance"));
    await new Promise<void>((resolve) => failing.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(failing.address() as AddressInfo).port}`;
    try {
      const registry = new ModelRegistry(await freshDir("registry-down"));
      await expect(registry.pull(parsePullReference(`${base}/library/tiny:latest`))).rejects.toMatchObject({
        code: "MODEL_PULL_FAILED",
        details: { reason: "http-error", status: 503, url: `${base}/v2/library/tiny/manifests/latest` },
      });
    } finally {
      await new Promise((resolve) => failing.close(resolve));
    }
  });

  it("says why a URL or registry could not be reached: a refused connection, a name that does not resolve", async () => {
    const registry = new ModelRegistry(await freshDir("unreachable"));
    const refused = `127.0.0.1:${await closedPort()}`;
    await expect(
      registry.pull(parsePullReference(`http://bob:hunter2@${refused}/x.gguf?token=T0KEN`)),
    ).rejects.toMatchObject({
      code: "MODEL_PULL_FAILED",
      message: `${refused} did not answer: connection refused (ECONNREFUSED)`,
      details: { reason: "unreachable", host: refused },
    });
    // A registry by its name: its manifest cannot be fetched, and why.
    await expect(
      registry.pull(parsePullReference(`http://${refused}/library/tiny:latest`)),
    ).rejects.toMatchObject({
      code: "MODEL_PULL_FAILED",
      message: `cannot fetch the manifest: ${refused} did not answer: connection refused (ECONNREFUSED)`,
      details: { reason: "unreachable", host: refused },
    });
    // A sandbox without DNS says it cannot ask rather than that the name is unknown.
    await expect(
      registry.pull(parsePullReference(`https://${UNRESOLVABLE_HOST}/x.gguf`)),
    ).rejects.toMatchObject({
      code: "MODEL_PULL_FAILED",
      message: expect.stringMatching(
        /^hearth-test\.invalid did not answer: (hearth-test\.invalid does not resolve \(ENOTFOUND\)|DNS did not answer \(EAI_AGAIN\))$/,
      ),
    });
  });

  it.skipIf(!hasOpenssl())("says that a URL's TLS certificate was refused", async () => {
    const untrusted = await selfSignedHttpsServer();
    try {
      const registry = new ModelRegistry(await freshDir("untrusted"));
      await expect(registry.pull(parsePullReference(`${untrusted.url}/x.gguf`))).rejects.toMatchObject({
        code: "MODEL_PULL_FAILED",
        message: `${new URL(untrusted.url).host} did not answer: the TLS certificate was refused: self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)`,
      });
    } finally {
      await untrusted.close();
    }
  });

  it("resumes an interrupted pull with a Range request and checks the digest", async () => {
    const modelsDir = await freshDir("resume");
    const registry = new ModelRegistry(modelsDir);
    registryServer.state.cutNextBlobAt = Math.floor(first.length / 2);
    registryServer.state.cutWhen = () => partialHolds(modelsDir, Math.floor(first.length / 2));
    const interrupted = await registry
      .pull(parsePullReference(`${registryServer.url}/library/tiny:latest`))
      .catch((error: Error) => error);
    expect(interrupted).toMatchObject({ code: "MODEL_PULL_FAILED", details: { reason: "interrupted" } });
    expect((interrupted as Error).message).toMatch(/interrupted .* pull again to resume/);
    expect(await readdir(modelsDir)).not.toContain("tiny.gguf");
    const installed = await registry.pull(parsePullReference(`${registryServer.url}/library/tiny:latest`));
    expect(registryServer.state.ranges.at(-1)).toBe(`bytes=${Math.floor(first.length / 2)}-`);
    expect(installed).toMatchObject({
      name: "tiny:latest",
      version: "1.0.0",
      digest: registryServer.digestOf(first),
    });
  });

  it("resumes a download that stalls, and fails saying so when it keeps stalling", async () => {
    const registry = new ModelRegistry(await freshDir("stalled"));
    const half = Math.floor(first.length / 2);
    const pull = (onProgress?: (progress: PullProgress) => void) =>
      registry.pull(parsePullReference(`${registryServer.url}/library/tiny:latest`), {
        stallMs: 150,
        onProgress,
      });
    // Half the bytes, then nothing; then nothing at all, twice: three attempts, given up.
    registryServer.state.stallNextAt = [half, 0, 0];
    const statuses: string[] = [];
    const stalled = await pull((progress) => statuses.push(progress.status)).catch((error: Error) => error);
    expect(stalled).toMatchObject({ code: "MODEL_PULL_FAILED", details: { reason: "stalled" } });
    expect((stalled as Error).message).toMatch(
      `stalled (nothing received for 0.15 s) after ${half} bytes; pull again to resume`,
    );
    expect(statuses.filter((status) => status.includes("stalled"))).toEqual([
      expect.stringMatching(`after ${half} bytes; resuming \\(attempt 2 of 3\\)$`),
      expect.stringMatching(`after ${half} bytes; resuming \\(attempt 3 of 3\\)$`),
    ]);
    // Pulled again, it stalls once more, and the next attempt completes it from the bytes received.
    registryServer.state.stallNextAt = [0];
    expect(await pull()).toMatchObject({ digest: registryServer.digestOf(first) });
    expect(registryServer.state.ranges.slice(-2)).toEqual([`bytes=${half}-`, `bytes=${half}-`]);
  });

  it("starts a resumed URL download over when the file at the URL changed meanwhile", async () => {
    const modelsDir = await freshDir("changed-url");
    const registry = new ModelRegistry(modelsDir);
    const longer = tinyGgufBytes({ seed: 3, chatTemplate: "{{ messages }}" });
    // A server with validators answers If-Range with the whole new file; one without gives a new length.
    for (const [file, replacement, validators] of [
      ["moving.gguf", second, true],
      ["unlabelled.gguf", longer, false],
    ] as const) {
      registryServer.state.noValidators = !validators;
      files[file] = first;
      registryServer.state.cutNextBlobAt = Math.floor(first.length / 2);
      registryServer.state.cutWhen = () => partialHolds(modelsDir, Math.floor(first.length / 2));
      await expect(
        registry.pull(parsePullReference(`${registryServer.url}/files/${file}`)),
      ).rejects.toMatchObject({
        code: "MODEL_PULL_FAILED",
      });
      files[file] = replacement;
      const installed = await registry.pull(parsePullReference(`${registryServer.url}/files/${file}`));
      expect(installed.digest).toBe(registryServer.digestOf(replacement));
    }
    registryServer.state.noValidators = false;
    expect(registryServer.state.ifRanges.at(-1)).toBe(`"${registryServer.digestOf(first).slice(7, 23)}"`);
  });

  it("discards a blob whose content does not match its digest (MODEL_DIGEST_MISMATCH)", async () => {
    const modelsDir = await freshDir("corrupt");
    const registry = new ModelRegistry(modelsDir);
    await expect(
      registry.pull(parsePullReference(`${registryServer.url}/library/corrupt:latest`)),
    ).rejects.toMatchObject({
      code: "MODEL_DIGEST_MISMATCH",
      details: { reason: "digest-mismatch" },
    });
    expect(await readdir(modelsDir)).not.toContain("corrupt.gguf");
    expect(await readdir(registry.blobsDir)).toEqual([]);
  });

  it("registers two dropped-in files of the same bytes, hard-linked or copied, as one blob", async () => {
    const modelsDir = await freshDir("same-bytes");
    await writeFile(join(modelsDir, "a.gguf"), first);
    await link(join(modelsDir, "a.gguf"), join(modelsDir, "b.gguf"));
    await writeFile(join(modelsDir, "c.gguf"), first);
    const registry = new ModelRegistry(modelsDir);
    const listed = await registry.list();
    expect(listed.map((model) => model.name)).toEqual(["a:latest", "b:latest", "c:latest"]);
    expect(new Set(listed.map((model) => model.digest))).toEqual(new Set([registryServer.digestOf(first)]));
    expect(await readdir(registry.blobsDir)).toHaveLength(1);
    // Relative to the models dir, so that the links follow it when the data dir moves.
    for (const name of ["a", "b", "c"])
      expect(await readlink(join(modelsDir, `${name}.gguf`))).toBe(
        join(".hearth", "blobs", (await readdir(registry.blobsDir))[0]!),
      );
    // And again: nothing left half-registered.
    expect(await registry.list()).toEqual(listed);
  });

  it("skips a file whose name is not a model name, in the registry and the served catalog alike", async () => {
    const modelsDir = await freshDir("bad-names");
    await writeFile(join(modelsDir, "alpha.gguf"), first);
    await writeFile(join(modelsDir, "my model.gguf"), second);
    await writeFile(join(modelsDir, "故事@v1.gguf"), second);
    await writeFile(join(modelsDir, "zeta.gguf"), tinyGgufBytes({ seed: 3 }));
    const registry = new ModelRegistry(modelsDir);
    expect((await registry.list()).map((model) => model.name)).toEqual(["alpha:latest", "zeta:latest"]);
    // The bad files stay where they were; the others are recorded, so they stay listed once those go.
    expect((await lstat(join(modelsDir, "my model.gguf"))).isFile()).toBe(true);
    await rm(join(modelsDir, "my model.gguf"));
    await rm(join(modelsDir, "故事@v1.gguf"));
    expect((await new ModelRegistry(modelsDir).list()).map((model) => model.name)).toEqual([
      "alpha:latest",
      "zeta:latest",
    ]);
    await writeFile(join(modelsDir, "my model.gguf"), second);
    const service = await startModelService(modelsDir);
    try {
      const tags = await new Ollama({ host: service.url }).list();
      expect(tags.models.map((model) => model.name).sort()).toEqual(["alpha:latest", "zeta:latest"]);
      const models = (await (await fetch(`${service.url}/api/hearth/models`)).json()) as {
        models: Array<{ name: string }>;
      };
      expect(models.models.map((model) => model.name)).toEqual(["alpha:latest", "zeta:latest"]);
    } finally {
      await service.close();
    }
  });

  it("names each file skipped for its name, with why and the fix: logged once when found, and listed", async () => {
    const modelsDir = await freshDir("skipped-named");
    await writeFile(join(modelsDir, "alpha.gguf"), first);
    await writeFile(join(modelsDir, "故事模型.gguf"), second);
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(...String(chunk).trim().split("\n"));
        done();
      },
    });
    const service = await startModelService(modelsDir, {}, createLogger({ level: "warn", destination }));
    try {
      const client = new ModelRegistryClient({ baseUrl: service.url });
      const expected = {
        file: "故事模型.gguf",
        reason: "not-a-model-name",
        suggested_file: "my-model.gguf",
        message: expect.stringMatching(
          /^故事模型\.gguf is skipped: its name is not a model name, which may hold only ASCII letters a-z A-Z, digits 0-9, '\.', '_' and '-'.*; rename it, e\.g\. to my-model\.gguf$/,
        ),
      };
      expect(await client.skippedFiles()).toEqual([expected]);
      // Scanned again (a listing a second later): still listed, not logged again.
      await new Promise((resolve) => setTimeout(resolve, 1100));
      expect((await new Ollama({ host: service.url }).list()).models.map((model) => model.name)).toEqual([
        "alpha:latest",
      ]);
      await writeFile(join(modelsDir, "my model@v 2.gguf"), second);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const named = (await client.skippedFiles()).map((file) => [
        file.file,
        file.reason === "not-a-model-name" ? file.suggested_file : file.target,
      ]);
      expect(named).toEqual([
        ["my model@v 2.gguf", "my-model@v-2.gguf"],
        ["故事模型.gguf", "my-model.gguf"],
      ]);
      const warnings = lines
        .map((line) => JSON.parse(line) as { msg: string; file?: string; reason?: string; fix?: string })
        .filter((line) => line.msg === "skipping a model file whose name is not a model name");
      expect(warnings.map((warning) => warning.file)).toEqual(["故事模型.gguf", "my model@v 2.gguf"]);
      expect(warnings[0]).toMatchObject({
        reason: expect.stringContaining("ASCII letters a-z A-Z"),
        fix: "rename it, e.g. to my-model.gguf",
      });
    } finally {
      await service.close();
    }
    // The same verdict for `hearth models list` and `hearth doctor`, read from the dir.
    expect((await skippedModelFiles(modelsDir)).map((file) => file.file)).toEqual([
      "my model@v 2.gguf",
      "故事模型.gguf",
    ]);
  });

  it("sees a model another process rolled back, pulled over or removed: no stale cache hit, then 404", async () => {
    const modelsDir = await freshDir("changed-elsewhere");
    // `hearth models pull/rollback/rm` from the CLI: its registry does not tell the running service.
    const cli = new ModelRegistry(modelsDir);
    await cli.pull(parsePullReference(`${registryServer.url}/library/tiny:latest`, { name: "team" }));
    await cli.pull(parsePullReference(`${registryServer.url}/library/tiny:v2`, { name: "team" }));
    const service = await startModelService(modelsDir);
    try {
      const generate = async () => {
        const response = await fetch(`${service.url}/api/generate`, {
          method: "POST",
          body: JSON.stringify({
            model: "team",
            prompt: "the cat",
            raw: true,
            stream: false,
            options: { temperature: 0, num_predict: 4 },
          }),
        });
        const body = (await response.json()) as { response?: string; error?: string };
        return { status: response.status, cache: response.headers.get("x-hearth-cache"), body };
      };
      const v110 = await generate();
      expect(v110).toMatchObject({ status: 200, cache: "miss" });
      expect((await generate()).cache).toBe("hit");

      await cli.rollback("team");
      const v100 = await generate();
      expect(v100).toMatchObject({ status: 200, cache: "miss" });
      expect(v100.body.response).not.toBe(v110.body.response);

      // The newer weights pulled again: 1.1.0 is current, and its answer is the one it gave.
      await cli.pull(parsePullReference(`${registryServer.url}/library/tiny:v2`, { name: "team" }));
      expect(await generate()).toMatchObject({ cache: "hit", body: { response: v110.body.response } });

      await cli.remove("team");
      expect(await generate()).toMatchObject({
        status: 404,
        body: { error: 'model "team" not found; GET /api/tags lists the models available' },
      });
    } finally {
      await service.close();
    }
  });

  it("pulls a plain GGUF URL, and refuses one that is not a GGUF", async () => {
    const modelsDir = await freshDir("url");
    const registry = new ModelRegistry(modelsDir);
    const installed = await registry.pull(parsePullReference(`${registryServer.url}/files/story.gguf`));
    expect(installed).toMatchObject({ name: "story:latest", digest: registryServer.digestOf(second) });
    await expect(
      registry.pull(parsePullReference(`${registryServer.url}/files/page.gguf`)),
    ).rejects.toMatchObject({
      code: "MODEL_PULL_FAILED",
      details: { reason: "not-gguf", url: `${registryServer.url}/files/page.gguf` },
    });
    // A registry without the model or tag: MODEL_NOT_FOUND naming the registry's host and the model.
    await expect(
      registry.pull(parsePullReference(`${registryServer.url}/library/nosuch:v9`)),
    ).rejects.toMatchObject({
      code: "MODEL_NOT_FOUND",
      details: {
        reason: "not-in-registry",
        registry: new URL(registryServer.url).host,
        model: "library/nosuch:v9",
      },
    });
    expect((await registry.list()).map((model) => model.name)).toEqual(["story:latest"]);
  });

  it("leaves the blob of the same bytes another model holds untouched when a URL pull brings them again", async () => {
    const modelsDir = await freshDir("url-same-bytes");
    // A model dropped in long ago, of the bytes the URL serves: its `created` is its file's mtime.
    await writeFile(join(modelsDir, "other.gguf"), second);
    const longAgo = new Date("2024-01-02T03:04:05Z");
    await utimes(join(modelsDir, "other.gguf"), longAgo, longAgo);
    const service = await startModelService(modelsDir);
    try {
      const created = async () => {
        const models = (await (await fetch(`${service.url}/v1/models`)).json()) as {
          data: Array<{ id: string; created: number }>;
        };
        return models.data.find((model) => model.id === "other:latest")?.created;
      };
      expect(await created()).toBe(longAgo.getTime() / 1000);
      const ollama = new Ollama({ host: service.url });
      for (let pull = 0; pull < 2; pull++) {
        const done = await ollama.pull({ model: `${registryServer.url}/files/story.gguf` });
        expect(done.status).toBe("success");
      }
      expect(await created()).toBe(longAgo.getTime() / 1000);
      const registry = new ModelRegistry(modelsDir);
      const [blob] = await readdir(registry.blobsDir);
      expect(await readdir(registry.blobsDir)).toEqual([blob]);
      expect((await stat(join(registry.blobsDir, blob!))).mtime).toEqual(longAgo);
      const listed = await registry.list();
      expect(listed.map((model) => [model.name, model.digest])).toEqual([
        ["other:latest", registryServer.digestOf(second)],
        ["story:latest", registryServer.digestOf(second)],
      ]);
    } finally {
      await service.close();
    }
  });

  it("keeps versions with changelog entries, and rolls back", async () => {
    const modelsDir = await freshDir("versions");
    const registry = new ModelRegistry(modelsDir);
    await registry.pull(
      parsePullReference(`${registryServer.url}/library/tiny:latest`, { name: "team-model" }),
    );
    const upgraded = await registry.pull(
      parsePullReference(`${registryServer.url}/library/tiny:v2`, { name: "team-model" }),
    );
    expect(upgraded.version).toBe("1.1.0");
    let [model] = await registry.list();
    expect(model).toMatchObject({
      name: "team-model:latest",
      version: "1.1.0",
      versions: ["1.0.0", "1.1.0"],
      digest: registryServer.digestOf(second),
    });
    expect(model?.changelog).toMatch(/pulled from .*library\/tiny:v2/);

    await registry.rollback("team-model");
    [model] = await registry.list();
    expect(model).toMatchObject({ version: "1.0.0", digest: registryServer.digestOf(first) });
    await expect(registry.rollback("team-model")).rejects.toMatchObject({ code: "MODEL_VERSION_NOT_FOUND" });
    await registry.rollback("team-model", "1.1.0");
    expect((await registry.list())[0]?.version).toBe("1.1.0");
  });

  it("registers a file dropped into the models dir as version 1.0.0 and keeps it on upgrade", async () => {
    const modelsDir = await freshDir("dropped");
    await writeFile(join(modelsDir, "mine.gguf"), first);
    const registry = new ModelRegistry(modelsDir);
    expect(await registry.list()).toMatchObject([
      {
        name: "mine:latest",
        version: "1.0.0",
        digest: registryServer.digestOf(first),
        changelog: "found in the models dir",
      },
    ]);
    await registry.pull(parsePullReference(`${registryServer.url}/library/tiny:v2`, { name: "mine" }));
    await registry.rollback("mine");
    expect((await registry.list())[0]?.digest).toBe(registryServer.digestOf(first));
  });

  it("imports a model a local Ollama pulled, linking its blob instead of copying it", async () => {
    const modelsDir = await freshDir("import");
    const ollamaDir = await freshDir("ollama-store");
    const digest = registryServer.digestOf(first);
    await mkdir(join(ollamaDir, "blobs"), { recursive: true });
    await writeFile(join(ollamaDir, "blobs", digest.replace(":", "-")), first);
    await mkdir(join(ollamaDir, "manifests", "registry.ollama.ai", "library", "tiny"), { recursive: true });
    await writeFile(
      join(ollamaDir, "manifests", "registry.ollama.ai", "library", "tiny", "latest"),
      JSON.stringify({
        schemaVersion: 2,
        layers: [{ mediaType: "application/vnd.ollama.image.model", digest, size: first.length }],
      }),
    );
    const registry = new ModelRegistry(modelsDir);
    const imported = await registry.importFromOllama("tiny", ollamaDir);
    expect(imported).toMatchObject({ name: "tiny:latest", digest, version: "1.0.0" });
    expect((await lstat(join(modelsDir, "tiny.gguf"))).isSymbolicLink()).toBe(true);
    expect(await readlink(join(modelsDir, "tiny.gguf"))).toBe(
      join(ollamaDir, "blobs", digest.replace(":", "-")),
    );
    await expect(registry.importFromOllama("nothere", ollamaDir)).rejects.toMatchObject({
      code: "MODEL_NOT_FOUND",
    });
    await registry.remove("tiny");
    // Removing an imported model never deletes Ollama's own blob.
    expect(await readdir(join(ollamaDir, "blobs"))).toHaveLength(1);
  });
});
