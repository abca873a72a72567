import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { PassThrough } from "node:stream";
import { loadConfig } from "@hearth/core";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { listenOnLoopback } from "../../../../test/support/ports.js";
import { tinyGgufBytes } from "../../../../test/support/tiny-gguf.js";
import { partialHolds, startRegistryServer } from "../../../model/test/registry-server.js";
import { modelsCommand } from "./models.js";

let dir: string;
let server: Awaited<ReturnType<typeof startRegistryServer>>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "hearth-cli-models-"));
  server = await startRegistryServer([
    { reference: "library/tiny:latest", bytes: tinyGgufBytes({ seed: 1 }) },
    { reference: "library/tiny:v2", bytes: tinyGgufBytes({ seed: 2 }) },
    { reference: "library/tiny:tty", bytes: tinyGgufBytes({ seed: 3 }) },
    { reference: "library/tiny:slow", bytes: tinyGgufBytes({ seed: 6 }) },
  ]);
});

afterAll(async () => {
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function hearthModels(...args: string[]) {
  return hearthModelsOn({ isTTY: false }, ...args);
}

async function hearthModelsOn(terminal: { isTTY: boolean; dataDir?: string }, ...args: string[]) {
  const dataDir = terminal.dataDir ?? dir;
  const stdout = new PassThrough();
  const stderr = Object.assign(new PassThrough(), { isTTY: terminal.isTTY });
  let out = "";
  let err = "";
  stdout.on("data", (chunk) => (out += chunk));
  stderr.on("data", (chunk) => (err += chunk));
  const config = () =>
    loadConfig({ env: {}, cwd: dataDir, overrides: { dataDir, model: { modelsDir: dataDir } } });
  process.exitCode = undefined;
  await modelsCommand({ config, stdout, stderr }).exitOverride().parseAsync(args, { from: "user" });
  const code = process.exitCode;
  process.exitCode = undefined;
  return { out, err, code };
}

describe("hearth models", () => {
  it("pulls with a progress bar, lists versions, rolls back, tags and removes", async () => {
    const empty = await hearthModels("list");
    expect(empty.out).toMatch(/No models in .*Drop a \.gguf file there/);

    const pulled = await hearthModels("pull", `${server.url}/library/tiny:latest`, "--name", "team:latest");
    expect(pulled.err).toContain("pulling manifest");
    expect(pulled.err).toMatch(/\[#{30}\] 100%/);
    expect(pulled.out).toMatch(/^team:latest 1\.0\.0 sha256:[0-9a-f]{64}/);
    await hearthModels("pull", `${server.url}/library/tiny:v2`, "--name", "team");

    const listed = await hearthModels("list");
    expect(listed.out).toMatch(
      /team:latest\s+1\.1\.0\s+[0-9a-f]{12}\s+\S+ KB\s+1\.0\.0,1\.1\.0\s+pulled from .*tiny:v2/,
    );

    expect((await hearthModels("rollback", "team")).out).toMatch(/team is now 1\.0\.0/);
    await hearthModels("tag", "team", "team:stable");
    expect((await hearthModels("list")).out).toMatch(/team:stable\s+1\.0\.0/);
    await hearthModels("rm", "team:stable");
    expect((await hearthModels("list")).out).not.toContain("team:stable");
  });

  it("ends the progress bar on a terminal with a newline before the next step", async () => {
    const pulled = await hearthModelsOn(
      { isTTY: true },
      "pull",
      `${server.url}/library/tiny:tty`,
      "--name",
      "terminal:latest",
    );
    expect(pulled.err).toMatch(/\r[^\r\n]*\[#{30}\] 100% [^\n]*\nverifying sha256 digest\n/);
    expect(pulled.code).toBeUndefined();
  });

  it("stops a pull on Ctrl-C: the download ends, it says how to resume and exits 130; the same command resumes it", async () => {
    const dataDir = await mkdtemp(join(dir, "interrupted-"));
    const on = (...args: string[]) => hearthModelsOn({ isTTY: false, dataDir }, ...args);
    const reference = `${server.url}/library/tiny:slow`;
    const blobPath = `/v2/library/tiny/blobs/${server.digestOf(tinyGgufBytes({ seed: 6 }))}`;
    let open!: () => void;
    server.state.pauseNextAt = [{ at: 20_000, until: new Promise<void>((resolve) => (open = resolve)) }];
    const listeners = process.listenerCount("SIGINT");
    const pulling = on("pull", reference);
    try {
      await partialHolds(dataDir, 20_000);
      process.emit("SIGINT");
      const interrupted = await pulling;
      expect(interrupted.code).toBe(130);
      expect(interrupted.err).toMatch(/\ninterrupted; run the same command again to resume the download\n$/);
      expect(interrupted.out).toBe("");
      // The registry saw the download stop, and nothing was installed.
      await expect.poll(() => server.state.leftEarly).toContain(blobPath);
      expect((await on("list")).out).not.toContain("tiny:slow");
      expect(process.listenerCount("SIGINT")).toBe(listeners);
    } finally {
      open();
    }
    const resumed = await on("pull", reference);
    expect(resumed.out).toMatch(/^tiny:slow 1\.0\.0 sha256:/);
    expect(server.state.ranges.at(-1)).toBe("bytes=20000-");
  });

  it("ends with the error code and exit code 1 on bad input", async () => {
    const failed = await hearthModels("rollback", "nothing-here");
    expect(failed.err).toMatch(/^MODEL_NOT_FOUND: /);
    expect(failed.code).toBe(1);
  });

  it("refuses a --to that is not a version as the registry API does (INVALID_REQUEST), and one it lacks by MODEL_VERSION_NOT_FOUND", async () => {
    const dataDir = await mkdtemp(join(dir, "rollback-to-"));
    const on = (...args: string[]) => hearthModelsOn({ isTTY: false, dataDir }, ...args);
    await on("pull", `${server.url}/library/tiny:latest`);
    const banana = await on("rollback", "tiny", "--to", "banana");
    expect(banana.err).toBe(
      'INVALID_REQUEST: "banana" is not a version: give a semantic version such as 1.0.0\n',
    );
    expect(banana.code).toBe(1);
    const absent = await on("rollback", "tiny", "--to", "9.9.9");
    expect(absent.err).toMatch(/^MODEL_VERSION_NOT_FOUND: model "tiny:latest" has no version 9\.9\.9/);
  });

  it("names the Ollama manifest that is not JSON, by a stable code", async () => {
    const ollamaDir = await mkdtemp(join(dir, "ollama-"));
    const manifest = join(ollamaDir, "manifests", "registry.ollama.ai", "library", "broken", "latest");
    await mkdir(dirname(manifest), { recursive: true });
    await writeFile(manifest, "{not json");
    const failed = await hearthModels("import", "broken", "--from", ollamaDir);
    expect(failed.err).toMatch(/^MODEL_FILE_INVALID: /);
    expect(failed.err).toContain(`${manifest} is not an Ollama manifest (not valid JSON:`);
    expect(failed.code).toBe(1);
  });

  it("names a file skipped for its name, with why and the fix, instead of asking for a .gguf file", async () => {
    const dataDir = await mkdtemp(join(dir, "skipped-"));
    const on = (...args: string[]) => hearthModelsOn({ isTTY: false, dataDir }, ...args);
    await writeFile(join(dataDir, "故事模型.gguf"), tinyGgufBytes({ seed: 4 }));
    const alone = await on("list");
    expect(alone.out).toBe(
      `No models served from ${dataDir}.\n` +
        "故事模型.gguf is skipped: its name is not a model name, which may hold only ASCII letters a-z A-Z, digits 0-9, '.', '_' and '-' (and one '@' before a tag, as in qwen@1.5b.gguf); rename it, e.g. to my-model.gguf\n",
    );
    expect(alone.out).not.toContain("Drop a .gguf file");
    // Beside a model that is served, still named under the table.
    await writeFile(join(dataDir, "story-model.gguf"), tinyGgufBytes({ seed: 5 }));
    const beside = (await on("list")).out.split("\n");
    expect(beside[0]).toMatch(/^NAME\s+VERSION/);
    expect(beside[1]).toMatch(/^story-model:latest\s+1\.0\.0/);
    expect(beside[2]).toMatch(/^故事模型\.gguf is skipped: .*rename it, e\.g\. to my-model\.gguf$/);
  });
});

describe("hearth models list with a model file new to the registry", () => {
  it("registers (hashes) it before listing it, with a bar on a terminal so that a big file does not look hung", async () => {
    const dataDir = await mkdtemp(join(dir, "hashing-"));
    const model = tinyGgufBytes({ seed: 8 });
    const big = new Uint8Array(model.length + 3_000_000);
    big.set(model);
    await writeFile(join(dataDir, "big.gguf"), big);
    const onTerminal = await hearthModelsOn({ isTTY: true, dataDir }, "list");
    expect(onTerminal.err).toMatch(/^\rhashing big\.gguf to register it \[[#.]{30}\] +\d+% /);
    // The bar ends on a line of its own once the file is hashed, before the table.
    expect(onTerminal.err).toMatch(/\rhashing big\.gguf to register it \[#{30}\] 100% 3\.\d MB\/3\.\d MB\n$/);
    expect(onTerminal.out).toMatch(/^NAME\s+VERSION.*\nbig:latest\s+1\.0\.0\s+[0-9a-f]{12}\s+3\.\d MB/);
    expect((await hearthModelsOn({ isTTY: true, dataDir }, "list")).err).toBe("");

    // Not on a terminal (a script reading the table): no bar.
    await writeFile(join(dataDir, "other.gguf"), tinyGgufBytes({ seed: 9 }));
    const piped = await hearthModelsOn({ isTTY: false, dataDir }, "list");
    expect(piped.err).toBe("");
    expect(piped.out).toMatch(/\nother:latest\s+1\.0\.0\s/);
  });
});

describe("hearth models with a link to a file of the user's", () => {
  it("lists it with its version, removes only the link (saying the file is kept), and names a link to no file", async () => {
    const dataDir = await mkdtemp(join(dir, "linked-"));
    const mine = await mkdtemp(join(dir, "mine-"));
    const on = (...args: string[]) => hearthModelsOn({ isTTY: false, dataDir }, ...args);
    const target = join(mine, "stories260K.gguf");
    await writeFile(target, tinyGgufBytes({ seed: 1 }));
    await symlink(target, join(dataDir, "stories260K.gguf"));
    await symlink(join(mine, "gone.gguf"), join(dataDir, "gone.gguf"));
    const digest = createHash("sha256")
      .update(tinyGgufBytes({ seed: 1 }))
      .digest("hex");

    const listed = (await on("list")).out.split("\n");
    expect(listed[0]).toMatch(/^NAME\s+VERSION/);
    expect(listed[1]).toMatch(
      new RegExp(
        `^stories260K:latest\\s+1\\.0\\.0\\s+${digest.slice(0, 12)}\\s+\\S+ KB\\s+1\\.0\\.0\\s+linked to ${target}$`,
      ),
    );
    expect(listed[2]).toBe(
      `gone.gguf is skipped: it is a symbolic link to ${join(mine, "gone.gguf")}, where there is no file; put the file back there, or delete the link`,
    );

    const removed = await on("rm", "stories260K");
    expect(removed.out).toBe(
      `removed stories260K:latest (${join(dataDir, "stories260K.gguf")})\n` +
        `kept its weights sha256:${digest}: they are outside the registry (${target}), which never deletes them\n`,
    );
    expect(await readFile(target)).toEqual(Buffer.from(tinyGgufBytes({ seed: 1 })));
    expect((await on("list")).out).toMatch(/^No models served from .*\ngone\.gguf is skipped: /);
  });
});

describe("hearth models ps", () => {
  async function ps(answer: unknown, status = 200) {
    const asked: Array<{ url?: string; token?: string | string[] }> = [];
    const model = await listenOnLoopback(
      createServer((request, response) => {
        asked.push({ url: request.url, token: request.headers["x-hearth-service-token"] });
        response.writeHead(status, { "content-type": "application/json" });
        response.end(JSON.stringify(answer));
      }),
    );
    try {
      const stdout = new PassThrough();
      const stderr = Object.assign(new PassThrough(), { isTTY: false });
      let out = "";
      let err = "";
      stdout.on("data", (chunk) => (out += chunk));
      stderr.on("data", (chunk) => (err += chunk));
      const config = () =>
        loadConfig({
          env: {},
          cwd: dir,
          overrides: {
            dataDir: dir,
            services: { modelUrl: model.url, token: "s3cret-token-0123456789abcdef" },
          },
        });
      process.exitCode = undefined;
      await modelsCommand({ config, stdout, stderr }).exitOverride().parseAsync(["ps"], { from: "user" });
      const code = process.exitCode;
      process.exitCode = undefined;
      return { out, err, code, asked };
    } finally {
      await model.close();
    }
  }

  it("lists the models loaded in the model service, as ollama ps does", async () => {
    const shown = await ps({
      models: [
        {
          name: "llama3.2:1b",
          model: "llama3.2:1b",
          size: 1_610_612_736,
          expires_at: new Date(Date.now() + 3_600_000).toISOString(),
          context_length: 8192,
        },
        {
          name: "qwen2.5:7b",
          model: "qwen2.5:7b",
          size: 5_368_709_120,
          expires_at: "9999-12-31T23:59:59.000Z",
          context_length: 32768,
        },
      ],
    });
    expect(shown.code).toBeUndefined();
    expect(shown.asked).toEqual([{ url: "/api/ps", token: "s3cret-token-0123456789abcdef" }]);
    const lines = shown.out.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^NAME\s+SIZE\s+CONTEXT\s+UNTIL$/);
    expect(lines[1]).toMatch(/^llama3\.2:1b\s+1\.5 GiB\s+8192\s+\S/);
    expect(lines[2]).toMatch(/^qwen2\.5:7b\s+5\.0 GiB\s+32768\s+kept loaded$/);
  });

  it("says when none is loaded, and fails with a code when the model service does not answer", async () => {
    expect((await ps({ models: [] })).out).toMatch(/^No model is loaded/);
    const failed = await ps({ error: { message: "nope" } }, 500);
    expect(failed.code).toBe(1);
    expect(failed.err).toMatch(/^UPSTREAM_ERROR: /);
  });
});

describe("hearth models in Chinese (HEARTH_LANG=zh-CN)", () => {
  it("shows a pull's progress and the result's words in Chinese; what a script reads stays as it is", async () => {
    vi.stubEnv("HEARTH_LANG", "zh-CN");
    const dataDir = await mkdtemp(join(dir, "zh-"));
    const on = (...args: string[]) => hearthModelsOn({ isTTY: false, dataDir }, ...args);
    expect((await on("list")).out).toBe(
      `${dataDir} 中没有模型。把 .gguf 文件放进该目录，运行 \`hearth models pull <name>\`，或把 OLLAMA_HOST 指向一个 Ollama。\n`,
    );
    const pulled = await on("pull", `${server.url}/library/tiny:v2`, "--name", "zh:latest");
    expect(pulled.err).toContain("正在拉取清单\n");
    expect(pulled.err).toMatch(/\n正在拉取 \S+ \[#{30}\] 100% /);
    expect(pulled.err).toContain("\n正在校验 sha256 摘要\n");
    expect(pulled.err).not.toMatch(/pulling|verifying/);
    expect(pulled.out).toMatch(/^zh:latest 1\.0\.0 sha256:[0-9a-f]{64}\n$/);
    expect((await on("list")).out).toMatch(
      /^NAME\s+VERSION\s+DIGEST\s+SIZE\s+VERSIONS\s+CHANGELOG\nzh:latest\s+1\.0\.0\s/,
    );
    const failed = await on("rollback", "zh");
    expect(failed.err).toMatch(/^MODEL_VERSION_NOT_FOUND: .*（错误码说明见 docs\/zh\/errors\.md）\n$/);
    expect((await on("rm", "zh")).out).toMatch(
      /^已删除 zh:latest（\S+）\n已删除其权重 sha256:[0-9a-f]{64}（.+）：没有其他模型使用\n$/,
    );
  });
});
