import { createHash } from "node:crypto";
import { EventEmitter } from "node:events";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "@hearth/core";
import { ModelRegistry, scanModelsDir } from "@hearth/model";
import { openDatabase } from "@hearth/web";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { tinyGgufBytes } from "../../../../test/support/tiny-gguf.js";
import { BlobStore } from "../../../knowledge/src/ingestion/blob-store.js";
import { KnowledgeStore } from "../../../knowledge/src/store/knowledge-store.js";
import { backupCommand, restoreCommand } from "./backup.js";
import { checkDocumentFiles } from "./doctor.js";

let root: string;
let lines: string[];
let env: NodeJS.ProcessEnv;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "hearth-cli-backup-"));
  mkdirSync(join(root, "data"));
  const database = new Database(join(root, "data", "knowledge.db"));
  database.exec("CREATE TABLE documents (title TEXT); INSERT INTO documents VALUES ('部署指南'), ('FAQ')");
  database.close();
  writeFileSync(join(root, "hearth.yaml"), "logLevel: warn\n");
  // Ports nobody listens on, so the running-service check finds nothing.
  env = {
    HEARTH_DATA_DIR: join(root, "data"),
    HEARTH_CONFIG: join(root, "hearth.yaml"),
    HEARTH_PORT: "1",
    HEARTH_MODEL_PORT: "2",
    HEARTH_SEARCH_PORT: "3",
    HEARTH_KNOWLEDGE_PORT: "4",
  };
  lines = [];
  process.exitCode = undefined;
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
  process.exitCode = undefined;
});

const options = () => ({ config: { env, cwd: root }, write: (line: string) => lines.push(line) });

/** What `run` writes to stderr (a refusal's one line), all of it. */
async function stderrOf(run: () => Promise<unknown>): Promise<string> {
  const chunks: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string) => chunks.push(chunk) > 0) as typeof process.stderr.write;
  try {
    await run();
  } finally {
    process.stderr.write = write;
  }
  return chunks.join("");
}

function titles(): string[] {
  const database = new Database(join(root, "data", "knowledge.db"), { readonly: true });
  try {
    return database
      .prepare("SELECT title FROM documents ORDER BY rowid")
      .all()
      .map((row) => (row as { title: string }).title);
  } finally {
    database.close();
  }
}

describe("hearth backup / hearth restore", () => {
  it("backs up into <dataDir>/backups by default and restores it", async () => {
    await backupCommand(options()).parseAsync([], { from: "user" });
    expect(process.exitCode).toBeUndefined();
    expect(lines[0]).toMatch(/^backup written to .*data\/backups\/hearth-/);
    expect(lines[1]).toMatch(/^2 files \(1 databases\)/);
    const backup = join(root, "data", "backups", readdirSync(join(root, "data", "backups"))[0]!);

    const database = new Database(join(root, "data", "knowledge.db"));
    database.exec("DELETE FROM documents");
    database.close();
    expect(titles()).toEqual([]);

    await restoreCommand(options()).parseAsync([backup], { from: "user" });
    expect(process.exitCode).toBeUndefined();
    expect(titles()).toEqual(["部署指南", "FAQ"]);
    expect(lines.some((line) => line.startsWith("the data it replaced is kept at"))).toBe(true);
    expect(lines.some((line) => line.startsWith("environment variables are never in a backup"))).toBe(true);
  });

  it("says where the backed-up configuration file is when it is not restored (no configuration file in use)", async () => {
    await backupCommand(options()).parseAsync([join(root, "backup")], { from: "user" });
    delete env.HEARTH_CONFIG;
    rmSync(join(root, "hearth.yaml"));
    lines = [];
    await restoreCommand(options()).parseAsync([join(root, "backup")], { from: "user" });
    expect(process.exitCode).toBeUndefined();
    expect(lines).toContain(
      `configuration file not restored: the backed-up file is ${join(root, "backup", "config", "hearth.yaml")} (this Hearth runs without a configuration file; copy it where HEARTH_CONFIG points to use it)`,
    );
    expect(
      lines.some((line) => line.includes("HEARTH_SERVICE_TOKEN") && line.includes("never in a backup")),
    ).toBe(true);
  });

  it("leaves model weights out unless --include-models, and restores the registry's links so every model is served", async () => {
    const models = join(root, "data", "models");
    mkdirSync(models);
    writeFileSync(join(models, "tiny.gguf"), tinyGgufBytes({ seed: 1 }));
    await new ModelRegistry(models).list(); // tiny.gguf becomes a link to a blob
    writeFileSync(join(models, "stray.gguf"), tinyGgufBytes({ seed: 2 })); // dropped in, not registered yet
    const served = async (dataDir: string) =>
      (await scanModelsDir(join(dataDir, "models")))
        .filter((model) => model.valid)
        .map((model) => model.name);
    expect(await served(join(root, "data"))).toEqual(["stray:latest", "tiny:latest"]);

    await backupCommand(options()).parseAsync([join(root, "light")], { from: "user" });
    await backupCommand(options()).parseAsync([join(root, "full"), "--include-models"], { from: "user" });
    expect(process.exitCode).toBeUndefined();
    const paths = (backup: string) =>
      (
        JSON.parse(readFileSync(join(root, backup, "manifest.json"), "utf8")) as {
          entries: Array<{ path: string }>;
        }
      ).entries.map((entry) => entry.path);
    expect(paths("light").filter((path) => path.startsWith("data/models/"))).toEqual([
      "data/models/.hearth/registry.json",
    ]);
    rmSync(join(root, "data"), { recursive: true });

    env.HEARTH_DATA_DIR = join(root, "fresh-light");
    lines = [];
    await restoreCommand(options()).parseAsync([join(root, "light")], { from: "user" });
    expect(process.exitCode).toBeUndefined();
    expect(lines.at(-1)).toMatch(
      /^model weights not in this backup .*: models\/stray\.gguf, models\/tiny\.gguf$/,
    );
    expect(await new ModelRegistry(join(root, "fresh-light", "models")).list()).toEqual([]);

    env.HEARTH_DATA_DIR = join(root, "fresh-full");
    lines = [];
    await restoreCommand(options()).parseAsync([join(root, "full")], { from: "user" });
    expect(lines.some((line) => line.startsWith("model weights not in this backup"))).toBe(false);
    expect(await served(join(root, "fresh-full"))).toEqual(["stray:latest", "tiny:latest"]);
    const registered = await new ModelRegistry(join(root, "fresh-full", "models")).list();
    expect(registered.map((model) => model.name)).toEqual(["stray:latest", "tiny:latest"]);
  });

  it("backs up and restores the model registry of a models dir outside the data dir (the image's /models)", async () => {
    const models = join(root, "models");
    mkdirSync(models);
    env.HEARTH_MODELS_DIR = models;
    writeFileSync(join(models, "tiny.gguf"), tinyGgufBytes({ seed: 1 }));
    await new ModelRegistry(models).list(); // registered: versions and tags in models/.hearth/registry.json
    const registryFile = join(models, ".hearth", "registry.json");
    const original = readFileSync(registryFile, "utf8");

    await backupCommand(options()).parseAsync([join(root, "backup")], { from: "user" });
    expect(process.exitCode).toBeUndefined();
    expect(lines).toContain(
      `model registry (tags, versions, rollback history) backed up from ${join(models, ".hearth")}`,
    );
    const manifest = JSON.parse(readFileSync(join(root, "backup", "manifest.json"), "utf8")) as {
      entries: Array<{ path: string; kind: string }>;
    };
    expect(manifest.entries).toContainEqual(
      expect.objectContaining({ path: "model-registry/registry.json", kind: "registry" }),
    );
    // No weights: the blob stays on the models volume.
    expect(manifest.entries.every((entry) => !entry.path.includes("blobs"))).toBe(true);

    // The registry is lost (a wiped volume, a bad edit); the restore brings it back.
    writeFileSync(registryFile, "{}");
    lines = [];
    await restoreCommand(options()).parseAsync([join(root, "backup")], { from: "user" });
    expect(process.exitCode).toBeUndefined();
    expect(lines).toContain(`model registry restored to ${registryFile}`);
    expect(readFileSync(registryFile, "utf8")).toBe(original);
    expect(
      readdirSync(join(models, ".hearth")).some((name) => name.startsWith("registry.json.pre-restore-")),
    ).toBe(true);
    expect((await new ModelRegistry(models).list()).map((model) => model.name)).toEqual(["tiny:latest"]);
  });

  it("warns when there is nothing to back up instead of reporting an empty backup as done", async () => {
    mkdirSync(join(root, "empty"));
    env.HEARTH_DATA_DIR = join(root, "empty");
    env.HEARTH_MODELS_DIR = join(root, "no-models");
    await backupCommand(options()).parseAsync([join(root, "backup")], { from: "user" });
    expect(lines.at(-1)).toMatch(/^warning: nothing to back up: .*empty holds no data/);
  });

  it("says that the web database in PostgreSQL is not in the backup, with the pg_dump to take, not that there is nothing to back up", async () => {
    mkdirSync(join(root, "empty"));
    env.HEARTH_DATA_DIR = join(root, "empty");
    env.HEARTH_MODELS_DIR = join(root, "no-models");
    env.HEARTH_DATABASE_URL = "postgres://hearth:db-password@db.example:5432/hearth";
    await backupCommand(options()).parseAsync([join(root, "backup")], { from: "user" });
    expect(process.exitCode).toBeUndefined();
    const note = lines.find((line) => line.startsWith("not in this backup: the web database"));
    expect(note).toContain("pg_dump --format=custom --file=hearth-web-");
    expect(note).toContain('"$HEARTH_DATABASE_URL"');
    expect(lines.some((line) => line.includes("nothing to back up"))).toBe(false);
    expect(lines.join("\n")).not.toContain("db-password");
    const manifest = JSON.parse(readFileSync(join(root, "backup", "manifest.json"), "utf8"));
    expect(manifest.notInBackup).toEqual([note!.replace("not in this backup: ", "")]);
  });

  it("restoring a backup whose web database is in PostgreSQL says, from the manifest, that it is not restored and how to restore its dump", async () => {
    env.HEARTH_DATABASE_URL = "postgres://hearth:db-password@db.example:5432/hearth";
    await backupCommand(options()).parseAsync([join(root, "backup")], { from: "user" });
    // Restored by a shell that no longer has the URL: what the backup left out comes from its manifest.
    delete env.HEARTH_DATABASE_URL;
    lines = [];
    await restoreCommand(options()).parseAsync([join(root, "backup")], { from: "user" });
    expect(process.exitCode).toBeUndefined();
    expect(titles()).toEqual(["部署指南", "FAQ"]);
    const note = lines.find((line) =>
      line.startsWith("not in this backup, so not restored: the web database"),
    );
    expect(note).toContain("is in PostgreSQL (HEARTH_DATABASE_URL)");
    expect(note).toContain('pg_restore --clean --if-exists --dbname="$HEARTH_DATABASE_URL" hearth-web-');
    expect(lines.join("\n")).not.toContain("db-password");
    // It comes before the reminder to set the environment variables again.
    expect(lines.indexOf(note!)).toBeLessThan(
      lines.findIndex((line) => line.startsWith("environment variables are never in a backup")),
    );
  });

  it("says that a knowledge index in PostgreSQL is not in the backup beside knowledge.db", async () => {
    env.HEARTH_KNOWLEDGE_INDEX = "postgres";
    env.HEARTH_KNOWLEDGE_POSTGRES_URL = "postgres://hearth:index-password@db.example:5432/index";
    await backupCommand(options()).parseAsync([join(root, "backup")], { from: "user" });
    expect(lines[1]).toMatch(/^2 files \(1 databases\)/);
    const notes = lines.filter((line) => line.startsWith("not in this backup:"));
    expect(notes).toHaveLength(1);
    expect(notes[0]).toContain("the knowledge index");
    expect(notes[0]).toContain('"$HEARTH_KNOWLEDGE_POSTGRES_URL"');
    expect(lines.join("\n")).not.toContain("index-password");
  });

  it("says that a knowledge index in Elasticsearch is not in the backup, naming the index and how to rebuild it", async () => {
    env.HEARTH_KNOWLEDGE_INDEX = "elasticsearch";
    env.HEARTH_KNOWLEDGE_ELASTICSEARCH_URL = "http://elastic:es-password@search.example:9200";
    await backupCommand(options()).parseAsync([join(root, "backup")], { from: "user" });
    const notes = lines.filter((line) => line.startsWith("not in this backup:"));
    expect(notes).toHaveLength(1);
    expect(notes[0]).toContain("in Elasticsearch (HEARTH_KNOWLEDGE_ELASTICSEARCH_URL), index hearth-chunks");
    expect(notes[0]).toContain("reindex?all=true");
    expect(lines.join("\n")).not.toContain("es-password");
  });

  it("refuses, before changing anything, a backup a newer Hearth wrote (a schema step or a manifest version it does not know)", async () => {
    mkdirSync(join(root, "data", "knowledge"));
    const newer = new Database(join(root, "data", "knowledge", "knowledge.db"));
    newer.pragma("user_version = 999");
    newer.close();
    await backupCommand(options()).parseAsync([join(root, "backup")], { from: "user" });
    const before = readdirSync(root).sort();
    const said = await stderrOf(() =>
      restoreCommand(options()).parseAsync([join(root, "backup")], { from: "user" }),
    );
    expect(process.exitCode).toBe(1);
    expect(said).toContain("BACKUP_TOO_NEW: This backup was made by a newer Hearth");
    expect(said).toContain(
      `${join(root, "backup", "data", "knowledge", "knowledge.db")} has schema version 999, and this Hearth knows up to `,
    );
    expect(said).toContain("restore it with the Hearth release that wrote it");
    expect(said).not.toContain("pre-migration");
    // Nothing moved aside, nothing replaced.
    expect(readdirSync(root).sort()).toEqual(before);
    expect(readdirSync(join(root, "data")).some((name) => name.includes("pre-restore"))).toBe(false);

    process.exitCode = undefined;
    const manifestFile = join(root, "backup", "manifest.json");
    const manifest = JSON.parse(readFileSync(manifestFile, "utf8"));
    writeFileSync(manifestFile, JSON.stringify({ ...manifest, version: 2 }));
    const saidOfFormat = await stderrOf(() =>
      restoreCommand(options()).parseAsync([join(root, "backup")], { from: "user" }),
    );
    expect(process.exitCode).toBe(1);
    expect(saidOfFormat).toContain("BACKUP_TOO_NEW: This backup was made by a newer Hearth");
    expect(saidOfFormat).toContain("backup format version 2, and this Hearth reads version 1");
    expect(saidOfFormat).not.toContain("Invalid input");
  });

  it("refuses a backup whose web database a newer Hearth migrated, naming the step it does not know", async () => {
    await (await openDatabase(loadConfig({ env, cwd: root }))).destroy();
    const newer = new Database(join(root, "data", "web.sqlite"));
    newer
      .prepare("INSERT INTO kysely_migration (name, timestamp) VALUES (?, ?)")
      .run("9999-from-a-newer-hearth", new Date().toISOString());
    newer.close();
    await backupCommand(options()).parseAsync([join(root, "backup")], { from: "user" });
    const said = await stderrOf(() =>
      restoreCommand(options()).parseAsync([join(root, "backup")], { from: "user" }),
    );
    expect(process.exitCode).toBe(1);
    expect(said).toContain("BACKUP_TOO_NEW: This backup was made by a newer Hearth");
    expect(said).toMatch(
      /web\.sqlite has migration 9999-from-a-newer-hearth, and this Hearth knows up to 00\d\d-/,
    );
    // The fix is the restore's own, not the start-up's (start the newer Hearth, a pre-migration backup).
    expect(said).not.toContain("pre-migration");
  });

  it("leaves an unchanged configuration file alone on restore (a container's read-only mount is never written)", async () => {
    await backupCommand(options()).parseAsync([join(root, "backup")], { from: "user" });
    const database = new Database(join(root, "data", "knowledge.db"));
    database.exec("DELETE FROM documents");
    database.close();
    lines = [];
    await restoreCommand(options()).parseAsync([join(root, "backup")], { from: "user" });
    expect(process.exitCode).toBeUndefined();
    expect(titles()).toEqual(["部署指南", "FAQ"]);
    expect(readdirSync(root).filter((name) => name.startsWith("hearth.yaml.pre-restore-"))).toEqual([]);
    expect(lines.some((line) => line.startsWith("configuration restored"))).toBe(false);
    // A changed file is put back, the current one kept beside it.
    writeFileSync(join(root, "hearth.yaml"), "logLevel: info\n");
    lines = [];
    await restoreCommand(options()).parseAsync([join(root, "backup")], { from: "user" });
    expect(lines).toContain(`configuration restored to ${join(root, "hearth.yaml")}`);
    expect(readFileSync(join(root, "hearth.yaml"), "utf8")).toBe("logLevel: warn\n");
  });

  it("keeps a registry restored into another data dir working on the restored blobs", async () => {
    const models = join(root, "data", "models");
    mkdirSync(models);
    writeFileSync(join(models, "tiny.gguf"), tinyGgufBytes({ seed: 1 }));
    await new ModelRegistry(models).list();
    await backupCommand(options()).parseAsync([join(root, "full"), "--include-models"], { from: "user" });
    rmSync(join(root, "data"), { recursive: true });
    env.HEARTH_DATA_DIR = join(root, "moved");
    await restoreCommand(options()).parseAsync([join(root, "full")], { from: "user" });
    const blobs = join(root, "moved", "models", ".hearth", "blobs");
    expect(readdirSync(blobs)).toHaveLength(1);
    // `hearth models rm tiny` frees the restored blob (the registry recorded the old dir's path).
    await new ModelRegistry(join(root, "moved", "models")).remove("tiny");
    expect(readdirSync(blobs)).toEqual([]);
  });

  it("backs up every document's file that its copy of knowledge.db names, and warns of one missing from the data dir", async () => {
    const store = await KnowledgeStore.open({
      path: join(root, "data", "knowledge", "knowledge.db"),
      dataDir: join(root, "data"),
    });
    const blobs = new BlobStore(join(root, "data", "knowledge"));
    const base = store.createKnowledgeBase({
      name: "Docs",
      description: "",
      embeddingModel: null,
      chunking: { maxTokens: 512, overlapTokens: 64 },
      watchFolder: null,
    });
    for (const [name, stored] of [
      ["guide.md", true],
      ["faq.md", false],
    ] as const) {
      const document = store.upsertDocument({
        knowledgeBaseId: base.id,
        name,
        source: "upload",
        sourceKey: name,
        sizeBytes: 5,
        contentType: "text/plain",
      });
      const sha256 = createHash("sha256").update(name).digest("hex");
      if (stored) await blobs.writeBytes(new TextEncoder().encode(name), base.id, document.id, sha256);
      store.setDocumentContent(document.id, sha256, 5, "text/plain");
    }
    store.close();

    await backupCommand(options()).parseAsync([join(root, "backup")], { from: "user" });
    expect(process.exitCode).toBeUndefined();
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^warning: 1 document file\(s\) that knowledge\.db names are missing from .*data: the file of "faq\.md" in the knowledge base "Docs" \(.*\), so this backup cannot hold them; .*upload them again/,
      ),
    );
    const manifest = readFileSync(join(root, "backup", "manifest.json"), "utf8");
    expect(manifest).toContain(`data/knowledge/files/${base.id}/`);
    // Restored, the same document is named again: nothing says so otherwise.
    lines = [];
    await restoreCommand(options()).parseAsync([join(root, "backup")], { from: "user" });
    expect(lines.filter((line) => line.startsWith("warning:"))).toEqual([
      expect.stringContaining('the file of "faq.md" in the knowledge base "Docs"'),
    ]);
    // And hearth doctor names it.
    const findings = await checkDocumentFiles(loadConfig({ env, cwd: root }));
    expect(findings).toEqual([
      expect.objectContaining({
        level: "warn",
        subject: "documents",
        detail: expect.stringContaining('the file of "faq.md"'),
        fix: expect.stringContaining("upload them again"),
      }),
    ]);
  });

  it("shows its progress on stderr, a line per phase and a bar while databases and files are copied", async () => {
    writeFileSync(join(root, "data", "notes.bin"), Buffer.alloc(200_000, 1));
    const progress: string[] = [];
    const stderr = { write: (chunk: string) => progress.push(chunk) > 0 } as NodeJS.WritableStream;
    await backupCommand({ ...options(), stderr }).parseAsync([join(root, "backup")], { from: "user" });
    expect(process.exitCode).toBeUndefined();
    expect(progress.join("")).toMatch(
      /^copying 1 database\(s\) \[\.+\] {3}0% 0 B\/8\.2 KB\n.*copying 1 database\(s\) \[#{30}\] 100% 8\.2 KB\/8\.2 KB\ncopying 1 file\(s\) \[\.+\] {3}0% 0 B\/200\.0 KB\n.*copying 1 file\(s\) \[#{30}\] 100% 200\.0 KB\/200\.0 KB\nchecking that every document's file is in the backup\n$/s,
    );
    expect(lines[0]).toBe(`backup written to ${join(root, "backup")}`);
  });

  for (const [signal, status] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const) {
    it(`is cancelled by ${signal}: removes its staging copy, says nothing was written, exits ${status}`, async () => {
      const signals = new EventEmitter();
      const errors: string[] = [];
      const stderr = {
        write: (chunk: string) => {
          errors.push(chunk);
          // Ctrl-C (or a stop) as the first database is being copied.
          if (chunk.startsWith("copying")) signals.emit(signal, signal);
          return true;
        },
      } as NodeJS.WritableStream;
      await backupCommand({ ...options(), stderr, signals }).parseAsync([], { from: "user" });
      expect(process.exitCode).toBe(status);
      expect(errors.at(-1)).toBe("backup cancelled; nothing was written\n");
      expect(lines).toEqual([]);
      // Nothing is left: neither a backup nor its private staging copy.
      expect(readdirSync(join(root, "data", "backups"))).toEqual([]);
      expect(signals.listenerCount(signal)).toBe(0);
    });
  }

  it("names a destination under a file with BACKUP_FAILED on one line", async () => {
    writeFileSync(join(root, "a-file"), "not a folder");
    const errors = await stderrOf(() =>
      backupCommand(options()).parseAsync([join(root, "a-file", "backup")], { from: "user" }),
    );
    expect(process.exitCode).toBe(1);
    expect(errors).toMatch(
      /^BACKUP_FAILED: The backup to .*a-file\/backup failed: a part of the path is a file, not a folder \(ENOTDIR\): .*a-file\n$/,
    );
  });

  it("refuses to restore while a Hearth service answers, and says why", async () => {
    const destination = join(root, "snapshot");
    await backupCommand(options()).parseAsync([destination], { from: "user" });
    const server: Server = createServer((_request, response) => {
      response.setHeader("content-type", "application/json");
      response.end(JSON.stringify({ status: "ok", service: "web" }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    env.HEARTH_PORT = String((server.address() as AddressInfo).port);
    try {
      const errors = await stderrOf(() =>
        restoreCommand(options()).parseAsync([destination], { from: "user" }),
      );
      expect(process.exitCode).toBe(1);
      expect(errors).toMatch(/^RESTORE_FAILED: Hearth is still running \(web on port \d+\)/);
    } finally {
      server.close();
    }
    expect(lines.join("\n")).not.toContain("restored");
    expect(readdirSync(root).filter((name) => name.includes("pre-restore"))).toEqual([]);
  });

  it("refuses to restore while a service holds the data directory's databases open, on any port", async () => {
    const destination = join(root, "snapshot");
    await backupCommand(options()).parseAsync([destination], { from: "user" });
    // A running knowledge service: its database open in WAL mode, listening where no check looks.
    const live = new Database(join(root, "data", "knowledge.db"));
    live.pragma("journal_mode = WAL");
    live.prepare("INSERT INTO documents VALUES ('written after the backup')").run();
    const errors = await stderrOf(() =>
      restoreCommand(options()).parseAsync([destination], { from: "user" }),
    ).finally(() => live.close());
    expect(process.exitCode).toBe(1);
    expect(errors).toMatch(/^RESTORE_FAILED: Hearth is still running \(knowledge\.db open\)/);
    expect(readdirSync(root).filter((name) => name.includes("pre-restore"))).toEqual([]);
    expect(titles()).toContain("written after the backup");
    // Stopped, the same restore goes through.
    process.exitCode = undefined;
    await restoreCommand(options()).parseAsync([destination], { from: "user" });
    expect(process.exitCode).toBeUndefined();
    expect(titles()).toEqual(["部署指南", "FAQ"]);
  });
});

describe("hearth backup / restore beside a running Hearth's data dir lock", () => {
  it("backs up while another Hearth holds the data dir, and refuses to restore over it", async () => {
    // What `hearth up` leaves in the data dir while it runs: a pid file per service, here the
    // parent process's (alive, and not this one).
    mkdirSync(join(root, "data", ".locks"));
    writeFileSync(
      join(root, "data", ".locks", "knowledge.pid"),
      JSON.stringify({ pid: process.ppid, command: "hearth up" }),
    );
    const destination = join(root, "snapshot");
    await backupCommand(options()).parseAsync([destination], { from: "user" });
    expect(process.exitCode).toBeUndefined();
    // The pid file is not data: a restored one would name a process long gone.
    const manifest = readFileSync(join(destination, "manifest.json"), "utf8");
    expect(manifest).not.toContain(".locks");

    const errors = await stderrOf(() =>
      restoreCommand(options()).parseAsync([destination], { from: "user" }),
    );
    expect(process.exitCode).toBe(1);
    expect(errors).toMatch(
      new RegExp(
        `^RESTORE_FAILED: Hearth is still running \\(pid ${process.ppid} holds the data dir for knowledge\\)`,
      ),
    );
  });
});

describe("hearth backup --keep", () => {
  /** A complete Hearth backup as `hearth backup` leaves it: a folder with a valid manifest (no files). */
  const fabricate = (parent: string, name: string, createdAt: string, scope: "full" | "partial" = "full") => {
    mkdirSync(join(parent, name), { recursive: true });
    writeFileSync(
      join(parent, name, "manifest.json"),
      JSON.stringify({ format: "hearth-backup", version: 1, createdAt, scope, entries: [] }),
    );
  };
  const failing = async (args: string[]) => {
    const errors = await stderrOf(() => backupCommand(options()).parseAsync(args, { from: "user" }));
    expect(process.exitCode).toBe(1);
    process.exitCode = undefined;
    return errors;
  };

  it("after a fourth backup, --keep 2 leaves the two newest hearth-<time> backups by their manifests' time, and every other folder", async () => {
    const backups = join(root, "data", "backups");
    // Named and modified in an order their manifests contradict: the manifest's time decides.
    fabricate(backups, "hearth-2026-01-03T00-00-00-000Z", "2026-01-01T00:00:00.000Z");
    fabricate(backups, "hearth-2026-01-02T00-00-00-000Z", "2026-01-03T00:00:00.000Z");
    fabricate(backups, "hearth-2026-01-01T00-00-00-000Z", "2026-01-02T00:00:00.000Z");
    utimesSync(join(backups, "hearth-2026-01-03T00-00-00-000Z"), new Date(), new Date());
    // Never counted: a migration's backup, a running backup's staging folder, data a restore kept,
    // a folder without a manifest, anything else.
    fabricate(
      backups,
      "pre-migration-web.sqlite-v1-to-v2-2025-01-01T00-00-00-000Z",
      "2025-01-01T00:00:00.000Z",
      "partial",
    );
    fabricate(backups, "hearth-2025-01-01T00-00-00-000Z.partial", "2025-01-01T00:00:00.000Z");
    writeFileSync(
      join(backups, "hearth-2025-01-01T00-00-00-000Z.partial.lock"),
      JSON.stringify({ pid: process.ppid, command: "hearth backup" }),
    );
    fabricate(
      backups,
      "hearth-2025-01-02T00-00-00-000Z.pre-restore-2025-01-03T00-00-00-000Z",
      "2025-01-02T00:00:00.000Z",
    );
    mkdirSync(join(backups, "hearth-2025-01-04T00-00-00-000Z"));
    mkdirSync(join(backups, "copied-by-hand"));
    const untouched = [
      "copied-by-hand",
      "hearth-2025-01-01T00-00-00-000Z.partial",
      "hearth-2025-01-01T00-00-00-000Z.partial.lock",
      "hearth-2025-01-02T00-00-00-000Z.pre-restore-2025-01-03T00-00-00-000Z",
      "hearth-2025-01-04T00-00-00-000Z",
      "pre-migration-web.sqlite-v1-to-v2-2025-01-01T00-00-00-000Z",
    ];

    await backupCommand(options()).parseAsync(["--keep", "2"], { from: "user" });
    expect(process.exitCode).toBeUndefined();
    const latest = lines[0]!.replace("backup written to ", "");
    expect(readdirSync(backups).sort()).toEqual(
      [...untouched, "hearth-2026-01-02T00-00-00-000Z", latest.slice(backups.length + 1)].sort(),
    );
    expect(lines.slice(-3)).toEqual([
      `deleted old backup ${join(backups, "hearth-2026-01-01T00-00-00-000Z")}`,
      `deleted old backup ${join(backups, "hearth-2026-01-03T00-00-00-000Z")}`,
      "kept 2 backups, deleted 2",
    ]);
    // The backup just made is a whole one, and --keep 1 keeps it alone.
    lines = [];
    await backupCommand(options()).parseAsync(["--keep", "1"], { from: "user" });
    expect(lines.at(-1)).toBe("kept 1 backups, deleted 2");
    expect(
      readdirSync(backups)
        .filter((name) => /^hearth-[^.]*$/.test(name))
        .sort(),
    ).toEqual(["hearth-2025-01-04T00-00-00-000Z", lines[0]!.replace(`backup written to ${backups}/`, "")]);
  });

  it("with a destination named hearth-<time>, counts the hearth-<time> backups beside it; a destination named otherwise is refused before anything is written", async () => {
    const offsite = join(root, "offsite");
    fabricate(offsite, "hearth-2026-01-01T00-00-00-000Z", "2026-01-01T00:00:00.000Z");
    fabricate(offsite, "hearth-2026-01-02T00-00-00Z", "2026-01-02T00:00:00.000Z");
    fabricate(offsite, "nightly", "2026-01-03T00:00:00.000Z");
    await backupCommand(options()).parseAsync([join(offsite, "hearth-2026-02-01T00-00-00Z"), "--keep", "2"], {
      from: "user",
    });
    expect(process.exitCode).toBeUndefined();
    expect(readdirSync(offsite).sort()).toEqual([
      "hearth-2026-01-02T00-00-00Z",
      "hearth-2026-02-01T00-00-00Z",
      "nightly",
    ]);
    expect(lines.at(-1)).toBe("kept 2 backups, deleted 1");

    const said = await failing([join(offsite, "weekly"), "--keep", "2"]);
    expect(said).toMatch(
      /^INVALID_REQUEST: --keep cannot tell which folders beside .*offsite\/weekly are its backups: it counts only backups named hearth-<time>; name the destination so \(.*offsite\/hearth-\d{4}-.*Z, /,
    );
    expect(readdirSync(offsite).sort()).toEqual([
      "hearth-2026-01-02T00-00-00Z",
      "hearth-2026-02-01T00-00-00Z",
      "nightly",
    ]);
  });

  it("deletes nothing when the backup fails", async () => {
    const offsite = join(root, "offsite");
    fabricate(offsite, "hearth-2026-01-01T00-00-00-000Z", "2026-01-01T00:00:00.000Z");
    fabricate(offsite, "hearth-2026-01-02T00-00-00-000Z", "2026-01-02T00:00:00.000Z");
    mkdirSync(join(offsite, "hearth-2026-02-01T00-00-00-000Z"));
    lines = [];
    const said = await failing([join(offsite, "hearth-2026-02-01T00-00-00-000Z"), "--keep", "1"]);
    expect(said).toMatch(/^BACKUP_FAILED: The backup destination .* already exists/);
    expect(lines).toEqual([]);
    expect(readdirSync(offsite).sort()).toEqual([
      "hearth-2026-01-01T00-00-00-000Z",
      "hearth-2026-01-02T00-00-00-000Z",
      "hearth-2026-02-01T00-00-00-000Z",
    ]);
  });

  it("refuses a count that is not a whole number of 1 or more, before anything is written", async () => {
    fabricate(join(root, "data", "backups"), "hearth-2026-01-01T00-00-00-000Z", "2026-01-01T00:00:00.000Z");
    for (const count of ["0", "-1", "two", "1.5", "", "1e3"]) {
      const said = await failing([`--keep=${count}`]);
      expect(said, count).toBe(
        `INVALID_REQUEST: --keep takes the number of backups to keep, a whole number of 1 or more, not "${count}"\n`,
      );
    }
    expect(readdirSync(join(root, "data", "backups"))).toEqual(["hearth-2026-01-01T00-00-00-000Z"]);
    expect(lines).toEqual([]);
  });
});
