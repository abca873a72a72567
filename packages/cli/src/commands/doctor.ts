import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { availableParallelism, freemem, totalmem } from "node:os";
import { join } from "node:path";
import {
  checkPortConflicts,
  type HearthConfig,
  inspectSqliteFile,
  isHearthError,
  loadConfig,
  webDatabaseFile,
} from "@hearth/core";
import { Command } from "commander";
import { prepareStorage } from "../prepare-storage.js";
import { PORT_SETTINGS, SERVICE_NAMES } from "../services.js";
import { MISSING_FILES_FIX, missingFilesLine } from "./backup.js";
import { knowledgeStoreFile, schemaInspections } from "./schema-inspections.js";

type Level = "ok" | "warn" | "fail";
export interface Finding {
  level: Level;
  subject: string;
  detail: string;
  fix?: string;
}

const MARK: Record<Level, string> = { ok: "ok  ", warn: "warn", fail: "FAIL" };
const GIB = 2 ** 30;

/** `hearth doctor`: what Hearth needs, checked, each problem with its fix. Exits 1 on a failure. */
export function doctorCommand(): Command {
  return new Command("doctor")
    .description(
      "check models, Ollama, the data dir, its databases, their schemas and the documents' files, ports and memory, with the fix for each problem",
    )
    .action(async () => {
      const findings = await diagnose();
      for (const finding of findings) {
        console.log(`[${MARK[finding.level]}] ${finding.subject}: ${finding.detail}`);
        if (finding.fix) console.log(`       fix: ${finding.fix}`);
      }
      const failed = findings.filter((f) => f.level === "fail").length;
      const warned = findings.filter((f) => f.level === "warn").length;
      console.log(`\n${failed} problem(s), ${warned} warning(s)`);
      if (failed > 0) process.exitCode = 1;
    });
}

export async function diagnose(): Promise<Finding[]> {
  let config: HearthConfig;
  try {
    config = loadConfig();
  } catch (error) {
    const line = isHearthError(error) ? error.toLine() : String(error);
    return [
      {
        level: "fail",
        subject: "configuration",
        detail: line,
        fix: "correct the value named above in hearth.yaml or the environment",
      },
    ];
  }
  const findings: Finding[] = [
    {
      level: "ok",
      subject: "configuration",
      detail: config.configFile ? `loaded ${config.configFile}` : "defaults and environment (no hearth.yaml)",
    },
  ];
  findings.push(checkStorage(config));
  findings.push(...checkDatabases(config));
  findings.push(...(await checkSchemas(config)));
  findings.push(...(await checkDocumentFiles(config)));
  findings.push(...(await checkKnowledgeIndex(config)));
  findings.push(...(await checkModels(config)));
  findings.push(...(await checkPorts(config)));
  findings.push(...(await checkSingleSignOn(config)));
  findings.push(checkMemory());
  findings.push({
    level: config.model.threads > availableParallelism() ? "warn" : "ok",
    subject: "threads",
    detail: `llama.cpp uses ${config.model.threads} thread(s) on ${availableParallelism()} core(s)`,
    fix:
      config.model.threads > availableParallelism()
        ? `set HEARTH_THREADS to at most ${availableParallelism()}`
        : undefined,
  });
  return findings;
}

function checkStorage(config: HearthConfig): Finding {
  try {
    const changes = prepareStorage(config);
    return {
      level: "ok",
      subject: "data dir",
      detail: [`${config.dataDir} is writable`, ...changes].join("; "),
    };
  } catch (error) {
    const fix =
      isHearthError(error) && error.code === "MODELS_DIR_MISSING"
        ? `mkdir -p ${config.model.modelsDir}`
        : `chown the directory to this user, or set HEARTH_DATA_DIR`;
    return {
      level: "fail",
      subject: "data dir",
      detail: isHearthError(error) ? error.toLine() : String(error),
      fix,
    };
  }
}

/** Hearth's SQLite files in the data dir; the ones that exist are checked (web.sqlite unless PostgreSQL holds it). */
export function databaseFiles(config: HearthConfig): string[] {
  const web = webDatabaseFile(config);
  return [
    ...(web ? [web] : []),
    knowledgeStoreFile(config),
    join(config.dataDir, "knowledge", "index.sqlite"),
  ].filter((file) => existsSync(file));
}

/**
 * Opens each database file that exists read-only, runs SQLite's quick_check and checks this user
 * may write it: a damaged or read-only file is found here rather than by the next `hearth up`.
 */
export function checkDatabases(config: HearthConfig, canWrite?: (path: string) => boolean): Finding[] {
  return databaseFiles(config).map((file) => {
    const problem = inspectSqliteFile(file, canWrite);
    if (!problem)
      return {
        level: "ok",
        subject: "database",
        detail: `${file} opens, passes quick_check and is writable`,
      };
    return {
      level: "fail",
      subject: "database",
      detail: problem.toLine(),
      fix:
        problem.code === "DATA_DIR_NOT_WRITABLE"
          ? `chown the file (and its -wal and -shm files) to the user Hearth runs as, or chmod u+w ${file}`
          : `stop Hearth and restore the latest backup (hearth restore <backup dir>), or move ${file} away to start empty`,
    };
  });
}

/**
 * Where the web database's and the knowledge store's schemas stand against this Hearth's (read only;
 * the next start applies pending steps after a backup): a database a newer Hearth migrated, after a
 * downgrade, is found here rather than by the next `hearth up`; PostgreSQL is reached.
 */
export async function checkSchemas(config: HearthConfig): Promise<Finding[]> {
  const webFile = webDatabaseFile(config);
  const findings: Finding[] = [];
  for (const { where, safety, inspect } of await schemaInspections(config)) {
    try {
      const status = await inspect();
      if (!status) continue;
      const pending = status.latest - status.applied;
      findings.push({
        level: "ok",
        subject: "schema",
        detail:
          status.applied === 0
            ? `${where} is new: the next start creates its tables`
            : pending > 0
              ? `${where} is at step ${status.applied} of ${status.latest}: the next start applies ${pending} (${safety})`
              : `${where} is at this Hearth's schema (step ${status.latest})`,
      });
    } catch (error) {
      const code = isHearthError(error) ? error.code : undefined;
      findings.push({
        level: "fail",
        subject: "schema",
        detail: isHearthError(error) ? error.toLine() : String(error),
        fix:
          code === "SCHEMA_TOO_NEW"
            ? "start the newer Hearth that wrote it again, or restore the backup taken before that upgrade (hearth restore <data dir>/backups/pre-migration-...; PostgreSQL: your pg_dump)"
            : webFile
              ? "see the database finding above"
              : "start PostgreSQL or correct web.databaseUrl (HEARTH_DATABASE_URL)",
      });
    }
  }
  return findings;
}

/**
 * Documents whose stored file knowledge.db names but the data directory lacks (a restore of an
 * older, inconsistent backup; files deleted by hand): search finds them, their citations cannot
 * open them and they cannot be re-indexed.
 */
export async function checkDocumentFiles(config: HearthConfig): Promise<Finding[]> {
  const { missingDocumentFiles } = await import("@hearth/knowledge");
  if (!existsSync(knowledgeStoreFile(config))) return [];
  const missing = missingDocumentFiles(config.dataDir);
  if (missing.length === 0)
    return [{ level: "ok", subject: "documents", detail: "every document's file is stored" }];
  return [
    {
      level: "warn",
      subject: "documents",
      detail: missingFilesLine(missing, config.dataDir),
      fix: MISSING_FILES_FIX,
    },
  ];
}

/**
 * The knowledge index's PostgreSQL, when the knowledge service keeps its index there: reached and
 * answering (`SELECT 1`, nothing created or changed). The message names its host and database only.
 */
export async function checkKnowledgeIndex(config: HearthConfig): Promise<Finding[]> {
  const url = config.knowledge.indexPostgresUrl;
  if (config.knowledge.indexBackend !== "postgres" || url === undefined) return [];
  const { pgPoolClient } = await import("@hearth/knowledge");
  const client = pgPoolClient(url, { max: 1, queryTimeoutMs: 5000 });
  try {
    await client.query("SELECT 1");
    return [{ level: "ok", subject: "knowledge index", detail: "its PostgreSQL answers" }];
  } catch (error) {
    return [
      {
        level: "fail",
        subject: "knowledge index",
        detail: isHearthError(error) ? error.toLine() : String(error),
        fix: "start PostgreSQL or correct knowledge.indexPostgresUrl (HEARTH_KNOWLEDGE_POSTGRES_URL)",
      },
    ];
  } finally {
    await client.close();
  }
}

export async function checkModels(config: HearthConfig): Promise<Finding[]> {
  const { scanModelsDir, probeOllama } = await import("@hearth/model");
  const findings: Finding[] = [];
  const models = existsSync(config.model.modelsDir) ? await scanModelsDir(config.model.modelsDir) : [];
  const valid = models.filter((model) => model.valid);
  for (const broken of models.filter((model) => !model.valid)) {
    findings.push(
      broken.skipped
        ? {
            level: "fail",
            subject: "model file",
            detail: `${broken.path} is skipped: ${broken.skipped.why}`,
            fix: broken.skipped.fix,
          }
        : {
            level: "fail",
            subject: "model file",
            detail: `${broken.path}: ${broken.error ?? "not a valid GGUF"}`,
            fix: "download it again (the file is truncated or not GGUF) or remove it",
          },
    );
  }
  const ollamaUrl =
    config.model.ollamaHost ?? (config.model.ollamaAutodetect ? "http://127.0.0.1:11434" : undefined);
  const ollama = ollamaUrl ? await probeOllama(ollamaUrl, 1500) : undefined;
  if (ollamaUrl && ollama) {
    findings.push(
      ollama.reachable
        ? {
            level: "ok",
            subject: "Ollama",
            detail: `${ollamaUrl} answers (version ${ollama.version ?? "?"}, ${ollama.models?.length ?? 0} model(s))`,
          }
        : {
            level: config.model.ollamaHost ? "fail" : "ok",
            subject: "Ollama",
            // Why, in the runtime's words: "127.0.0.1:11434 did not answer: connection refused (ECONNREFUSED)".
            detail: `${ollama.error ?? `${ollamaUrl} does not answer`}${config.model.ollamaHost ? "" : " (optional)"}`,
            fix: config.model.ollamaHost ? "start Ollama (`ollama serve`) or correct OLLAMA_HOST" : undefined,
          },
    );
  }
  const ollamaModels = ollama?.reachable ? (ollama.models?.length ?? 0) : 0;
  if (valid.length + ollamaModels > 0)
    findings.push({
      level: "ok",
      subject: "models",
      detail: `${valid.length} GGUF model(s) in ${config.model.modelsDir}${valid.length ? `: ${valid.map((m) => m.name).join(", ")}` : ""}`,
    });
  // A dir whose .gguf files are all skipped or broken has its verdict above, each with its fix.
  else if (models.length === 0)
    findings.push({
      level: "warn",
      subject: "models",
      detail: `no model yet: ${config.model.modelsDir} holds no .gguf file and no Ollama is reachable`,
      fix: `drop a .gguf file into ${config.model.modelsDir}, point OLLAMA_HOST at an Ollama, or pull one when online: hearth models pull <name>`,
    });
  return findings;
}

/**
 * Each service's port: free, or held by a running Hearth service of that kind (both fine: the one
 * is for a start, the other is Hearth running), or taken by another process (a FAIL).
 */
export async function checkPorts(config: HearthConfig): Promise<Finding[]> {
  const findings: Finding[] = [];
  try {
    checkPortConflicts(config, SERVICE_NAMES);
  } catch (error) {
    findings.push({
      level: "fail",
      subject: "ports",
      detail: isHearthError(error) ? error.toLine() : String(error),
      fix: "give each service its own port in hearth.yaml or the environment",
    });
    return findings;
  }
  for (const name of SERVICE_NAMES) {
    const setting = PORT_SETTINGS[name];
    const host = setting.host(config);
    const port = setting.port(config);
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once("error", () => resolve(false));
      server.listen(port, host, () => server.close(() => resolve(true)));
    });
    if (free) {
      findings.push({ level: "ok", subject: `${name} port`, detail: `${host}:${port} is free` });
      continue;
    }
    const probeHost = host === "0.0.0.0" ? "127.0.0.1" : host;
    const hearth = await fetch(`http://${probeHost}:${port}/healthz`, { signal: AbortSignal.timeout(1000) })
      .then(async (response) => ((await response.json()) as { service?: string }).service === name)
      .catch(() => false);
    findings.push(
      hearth
        ? {
            level: "ok",
            subject: `${name} port`,
            detail: `${host}:${port} is in use by a running Hearth ${name} service`,
          }
        : {
            level: "fail",
            subject: `${name} port`,
            detail: `${host}:${port} is taken by another process`,
            fix: `stop that process or set ${setting.env}`,
          },
    );
  }
  return findings;
}

/**
 * Single sign-on, when configured: the provider's discovery document read and checked and its key
 * set read, as a sign-in does, so that a wrong issuer or an unreachable provider shows before
 * anyone's sign-in fails. Nothing is said when SSO is off.
 */
export async function checkSingleSignOn(
  config: HearthConfig,
  fetchImpl: typeof fetch = fetch,
): Promise<Finding[]> {
  if (!config.web.oidc.issuer || !config.web.oidc.clientId) return [];
  // Loaded only here: every other command (each service's process among them) goes without it.
  const { OidcProvider, oidcSettings } = await import("@hearth/web");
  const settings = oidcSettings(config.web.oidc);
  if (!settings) return [];
  try {
    const { keys, authMethod } = await new OidcProvider(settings, fetchImpl).check();
    return [
      {
        level: "ok",
        subject: "single sign-on",
        detail: `${settings.issuer} answers: ${keys} signing key(s), client authentication ${authMethod}`,
      },
    ];
  } catch (error) {
    return [
      {
        level: "fail",
        subject: "single sign-on",
        detail: isHearthError(error) ? error.toLine() : String(error),
        fix: "check web.oidc.issuer (HEARTH_OIDC_ISSUER) and that this machine reaches the identity provider",
      },
    ];
  }
}

function checkMemory(): Finding {
  const free = freemem();
  const total = totalmem();
  const detail = `${(free / GIB).toFixed(1)} GiB free of ${(total / GIB).toFixed(1)} GiB`;
  if (free < 2 * GIB) {
    return {
      level: "warn",
      subject: "memory",
      detail,
      fix: "a 1.5B model at Q4 needs about 2 GiB: close other programs, add swap, or use a smaller quantization",
    };
  }
  return { level: "ok", subject: "memory", detail };
}
