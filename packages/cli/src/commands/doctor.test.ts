import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "@hearth/core";
import { openDatabase } from "@hearth/web";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { freePort, listenOnLoopback } from "../../../../test/support/ports.js";
import { POSTGRES_URL, postgresAvailable } from "../../../../test/support/postgres.js";
import { writeTinyGguf } from "../../../../test/support/tiny-gguf.js";
import { KnowledgeStore } from "../../../knowledge/src/store/knowledge-store.js";
import { startFakeOidcProvider } from "../../../web/test/support/fake-oidc-provider.js";
import {
  checkDatabases,
  checkKnowledgeIndex,
  checkModels,
  checkPorts,
  checkSchemas,
  checkSingleSignOn,
} from "./doctor.js";

let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), "hearth-doctor-"));
});
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

const config = () => loadConfig({ env: {}, cwd: dataDir, overrides: { dataDir } as never });

function sqliteFile(path: string): void {
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.exec("CREATE TABLE t (x)");
  db.close();
}

describe("hearth doctor's database check", () => {
  it("passes the database files that open, check clean and can be written", () => {
    sqliteFile(join(dataDir, "web.sqlite"));
    expect(checkDatabases(config())).toEqual([
      expect.objectContaining({ level: "ok", detail: expect.stringContaining("web.sqlite opens") }),
    ]);
  });

  it("fails a damaged file and a file this user cannot write, each with its fix", () => {
    const web = join(dataDir, "web.sqlite");
    sqliteFile(web);
    mkdirSync(join(dataDir, "knowledge"));
    const knowledge = join(dataDir, "knowledge", "knowledge.db");
    writeFileSync(knowledge, Buffer.alloc(8192, 0x41));
    // Tests run as root, which may write any file: the check is asked as a user who may not write web.sqlite.
    const findings = checkDatabases(config(), (path) => path !== web);
    expect(findings).toEqual([
      expect.objectContaining({
        level: "fail",
        detail: expect.stringMatching(/^DATA_DIR_NOT_WRITABLE: .*web\.sqlite cannot be written by this user/),
        fix: expect.stringContaining("chown the file"),
      }),
      expect.objectContaining({
        level: "fail",
        detail: expect.stringMatching(/^DATABASE_UNAVAILABLE: .*knowledge\.db is damaged/),
        fix: expect.stringContaining("hearth restore"),
      }),
    ]);
  });
});

describe("hearth doctor's schema check", () => {
  it("passes databases at this Hearth's schema, and names the steps the next start applies", async () => {
    const web = await openDatabase(config());
    await web.destroy();
    const store = await KnowledgeStore.open({ path: join(dataDir, "knowledge", "knowledge.db"), dataDir });
    store.close();
    const findings = await checkSchemas(config());
    expect(findings.map((finding) => finding.level)).toEqual(["ok", "ok"]);
    expect(findings[0]!.detail).toMatch(/web\.sqlite is at this Hearth's schema \(step \d+\)/);
    expect(findings[1]!.detail).toMatch(/knowledge\.db is at this Hearth's schema/);

    const older = new Database(join(dataDir, "knowledge", "knowledge.db"));
    older.pragma("user_version = 1");
    older.close();
    expect((await checkSchemas(config()))[1]!.detail).toMatch(
      /knowledge\.db is at step 1 of \d+: the next start applies \d+ \(after an automatic backup\)/,
    );
  });

  it("fails databases a newer Hearth migrated (after a downgrade), with the way back", async () => {
    const web = await openDatabase(config());
    await web.destroy();
    const newer = new Database(join(dataDir, "web.sqlite"));
    newer
      .prepare("INSERT INTO kysely_migration (name, timestamp) VALUES (?, ?)")
      .run("9999-from-a-newer-hearth", new Date().toISOString());
    newer.close();
    mkdirSync(join(dataDir, "knowledge"));
    const store = new Database(join(dataDir, "knowledge", "knowledge.db"));
    store.pragma("user_version = 999");
    store.close();

    const findings = await checkSchemas(config());
    expect(findings).toEqual([
      expect.objectContaining({
        level: "fail",
        detail: expect.stringMatching(/^SCHEMA_TOO_NEW: .*web\.sqlite.*9999-from-a-newer-hearth/),
        fix: expect.stringContaining("start the newer Hearth"),
      }),
      expect.objectContaining({
        level: "fail",
        detail: expect.stringMatching(/^SCHEMA_TOO_NEW: .*knowledge\.db has schema version 999/),
      }),
    ]);
  });

  it("fails a PostgreSQL web database it cannot reach, naming the setting", async () => {
    const onPostgres = loadConfig({
      env: {},
      cwd: dataDir,
      overrides: { dataDir, web: { databaseUrl: "postgres://hearth@127.0.0.1:1/hearth" } } as never,
    });
    const [finding] = await checkSchemas(onPostgres);
    expect(finding).toMatchObject({
      level: "fail",
      detail: expect.stringMatching(/^DATABASE_UNAVAILABLE: /),
      fix: expect.stringContaining("HEARTH_DATABASE_URL"),
    });
  });
});

describe("hearth doctor's knowledge index check", () => {
  const onPostgres = (url: string) =>
    loadConfig({
      env: {},
      cwd: dataDir,
      overrides: { dataDir, knowledge: { indexBackend: "postgres", indexPostgresUrl: url } } as never,
    });

  it("fails a PostgreSQL index it cannot reach, naming the setting and never the password", async () => {
    const [finding] = await checkKnowledgeIndex(
      onPostgres("postgres://hearth:n3ver-sh0wn@127.0.0.1:1/index"),
    );
    expect(finding).toMatchObject({
      level: "fail",
      detail: expect.stringMatching(/^INDEX_UNAVAILABLE: PostgreSQL at 127\.0\.0\.1:1\/index/),
      fix: expect.stringContaining("HEARTH_KNOWLEDGE_POSTGRES_URL"),
    });
    expect(JSON.stringify(finding)).not.toContain("n3ver-sh0wn");
  });

  it.skipIf(!postgresAvailable)("passes one that answers, and says nothing of a SQLite index", async () => {
    expect(await checkKnowledgeIndex(onPostgres(POSTGRES_URL))).toEqual([
      expect.objectContaining({ level: "ok", subject: "knowledge index" }),
    ]);
    expect(await checkKnowledgeIndex(config())).toEqual([]);
  });
});

describe("hearth doctor's model check", () => {
  it("fails a file skipped for its name with the rename, and does not also say the dir holds no .gguf file", async () => {
    const models = join(dataDir, "models");
    await writeTinyGguf(join(models, "故事模型.gguf"));
    const findings = (await checkModels(config())).filter((finding) => finding.subject !== "Ollama");
    expect(findings).toEqual([
      {
        level: "fail",
        subject: "model file",
        detail: `${join(models, "故事模型.gguf")} is skipped: its name is not a model name, which may hold only ASCII letters a-z A-Z, digits 0-9, '.', '_' and '-' (and one '@' before a tag, as in qwen@1.5b.gguf)`,
        fix: "rename it, e.g. to my-model.gguf",
      },
    ]);
  });
});

describe("hearth doctor's Ollama check", () => {
  it("fails an OLLAMA_HOST that does not answer, saying why", async () => {
    const port = await freePort();
    const withOllama = loadConfig({
      env: {},
      cwd: dataDir,
      overrides: { dataDir, model: { ollamaHost: `http://127.0.0.1:${port}` } } as never,
    });
    const ollama = (await checkModels(withOllama)).filter((finding) => finding.subject === "Ollama");
    expect(ollama).toEqual([
      {
        level: "fail",
        subject: "Ollama",
        detail: `127.0.0.1:${port} did not answer: connection refused (ECONNREFUSED)`,
        fix: "start Ollama (`ollama serve`) or correct OLLAMA_HOST",
      },
    ]);
  });
});

describe("hearth doctor's port check", () => {
  it("passes a port a running Hearth service of its kind holds, and fails one another process took", async () => {
    // A running Hearth model service answers /healthz with its name; another program does not.
    const model = await listenOnLoopback(
      createServer((_request, response) => response.end(JSON.stringify({ status: "ok", service: "model" }))),
    );
    const other = await listenOnLoopback(createServer((_request, response) => response.end("hello")));
    const port = (url: string) => new URL(url).port;
    try {
      const findings = await checkPorts(
        loadConfig({
          env: {
            HEARTH_HOST: "127.0.0.1",
            HEARTH_PORT: String(await freePort()),
            HEARTH_MODEL_PORT: port(model.url),
            HEARTH_SEARCH_PORT: port(other.url),
            HEARTH_KNOWLEDGE_PORT: String(await freePort()),
          },
          cwd: dataDir,
          overrides: { dataDir } as never,
        }),
      );
      expect(findings.find((finding) => finding.subject === "model port")).toEqual({
        level: "ok",
        subject: "model port",
        detail: `127.0.0.1:${port(model.url)} is in use by a running Hearth model service`,
      });
      expect(findings.find((finding) => finding.subject === "search port")).toMatchObject({
        level: "fail",
        fix: "stop that process or set HEARTH_SEARCH_PORT",
      });
      expect(findings.filter((finding) => finding.level === "warn")).toEqual([]);
    } finally {
      await model.close();
      await other.close();
    }
  });
});

describe("hearth doctor's single sign-on check", () => {
  const withSso = (env: Record<string, string>) =>
    loadConfig({ env, cwd: dataDir, overrides: { dataDir } as never });

  it("says nothing while SSO is off, and passes a provider that answers as a sign-in needs", async () => {
    expect(await checkSingleSignOn(config())).toEqual([]);
    const provider = await startFakeOidcProvider();
    try {
      const [finding] = await checkSingleSignOn(
        withSso({
          HEARTH_OIDC_ISSUER: provider.issuer,
          HEARTH_OIDC_CLIENT_ID: provider.clientId,
          HEARTH_OIDC_CLIENT_SECRET: provider.clientSecret,
        }),
      );
      expect(finding).toEqual({
        level: "ok",
        subject: "single sign-on",
        detail: `${provider.issuer} answers: 2 signing key(s), client authentication client_secret_basic`,
      });
      // A discovery document whose keys are elsewhere is what a sign-in would refuse: so does doctor.
      provider.behaviour.foreignJwks = true;
      const [foreign] = await checkSingleSignOn(
        withSso({ HEARTH_OIDC_ISSUER: provider.issuer, HEARTH_OIDC_CLIENT_ID: provider.clientId }),
      );
      expect(foreign).toMatchObject({ level: "fail", subject: "single sign-on" });
      expect(foreign!.detail).toMatch(/^OIDC_DISCOVERY_INVALID: .*jwks_uri/);
    } finally {
      await provider.close();
    }
  });

  it("fails an issuer nothing answers at, naming it, with the fix", async () => {
    const issuer = `http://127.0.0.1:${await freePort()}/realms/nowhere`;
    const [finding] = await checkSingleSignOn(
      withSso({ HEARTH_OIDC_ISSUER: issuer, HEARTH_OIDC_CLIENT_ID: "hearth" }),
    );
    expect(finding).toMatchObject({
      level: "fail",
      subject: "single sign-on",
      fix: "check web.oidc.issuer (HEARTH_OIDC_ISSUER) and that this machine reaches the identity provider",
    });
    expect(finding!.detail).toContain(
      `OIDC_PROVIDER_UNAVAILABLE: The identity provider's discovery document (${issuer}/.well-known/openid-configuration) did not answer`,
    );
  });
});
