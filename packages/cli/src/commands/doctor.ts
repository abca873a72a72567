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
import { messages } from "../messages/index.js";
import { prepareStorage } from "../prepare-storage.js";
import { PORT_SETTINGS, SERVICE_NAMES } from "../services.js";
import { missingFilesLine } from "./backup.js";
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
  const m = messages();
  return new Command("doctor").description(m.doctorDescription).action(async () => {
    const findings = await diagnose();
    for (const finding of findings) {
      console.log(m.doctorFinding(MARK[finding.level], finding.subject, finding.detail));
      if (finding.fix) console.log(m.doctorFix(finding.fix));
    }
    const failed = findings.filter((f) => f.level === "fail").length;
    const warned = findings.filter((f) => f.level === "warn").length;
    console.log(`\n${m.doctorTotals(failed, warned)}`);
    if (failed > 0) process.exitCode = 1;
  });
}

export async function diagnose(): Promise<Finding[]> {
  const m = messages();
  let config: HearthConfig;
  try {
    config = loadConfig();
  } catch (error) {
    const line = isHearthError(error) ? error.toLine() : String(error);
    return [
      {
        level: "fail",
        subject: m.subjectConfiguration,
        detail: line,
        fix: m.configFix,
      },
    ];
  }
  const findings: Finding[] = [
    {
      level: "ok",
      subject: m.subjectConfiguration,
      detail: config.configFile ? m.configLoaded(config.configFile) : m.configDefaults,
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
    subject: m.subjectThreads,
    detail: m.threadsDetail(config.model.threads, availableParallelism()),
    fix: config.model.threads > availableParallelism() ? m.threadsFix(availableParallelism()) : undefined,
  });
  return findings;
}

function checkStorage(config: HearthConfig): Finding {
  const m = messages();
  try {
    const changes = prepareStorage(config, m);
    return {
      level: "ok",
      subject: m.subjectDataDir,
      detail: [m.dataDirWritable(config.dataDir), ...changes].join("; "),
    };
  } catch (error) {
    const fix =
      isHearthError(error) && error.code === "MODELS_DIR_MISSING"
        ? m.modelsDirFix(config.model.modelsDir)
        : m.dataDirFix;
    return {
      level: "fail",
      subject: m.subjectDataDir,
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
  const m = messages();
  return databaseFiles(config).map((file) => {
    const problem = inspectSqliteFile(file, canWrite);
    if (!problem)
      return {
        level: "ok",
        subject: m.subjectDatabase,
        detail: m.databaseOk(file),
      };
    return {
      level: "fail",
      subject: m.subjectDatabase,
      detail: problem.toLine(),
      fix:
        problem.code === "DATA_DIR_NOT_WRITABLE"
          ? m.databaseNotWritableFix(file)
          : m.databaseDamagedFix(file),
    };
  });
}

/**
 * Where the web database's and the knowledge store's schemas stand against this Hearth's (read only;
 * the next start applies pending steps after a backup): a database a newer Hearth migrated, after a
 * downgrade, is found here rather than by the next `hearth up`; PostgreSQL is reached.
 */
export async function checkSchemas(config: HearthConfig): Promise<Finding[]> {
  const m = messages();
  const webFile = webDatabaseFile(config);
  const findings: Finding[] = [];
  for (const { where, safety, inspect } of await schemaInspections(config, m)) {
    try {
      const status = await inspect();
      if (!status) continue;
      const pending = status.latest - status.applied;
      findings.push({
        level: "ok",
        subject: m.subjectSchema,
        detail:
          status.applied === 0
            ? m.schemaNew(where)
            : pending > 0
              ? m.schemaPending(where, status.applied, status.latest, pending, safety)
              : m.schemaCurrent(where, status.latest),
      });
    } catch (error) {
      const code = isHearthError(error) ? error.code : undefined;
      findings.push({
        level: "fail",
        subject: m.subjectSchema,
        detail: isHearthError(error) ? error.toLine() : String(error),
        fix:
          code === "SCHEMA_TOO_NEW"
            ? m.schemaTooNewFix
            : webFile
              ? m.schemaSeeDatabaseFix
              : m.schemaPostgresFix,
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
  const m = messages();
  if (missing.length === 0) return [{ level: "ok", subject: m.subjectDocuments, detail: m.documentsStored }];
  return [
    {
      level: "warn",
      subject: m.subjectDocuments,
      detail: missingFilesLine(missing, config.dataDir, m),
      fix: m.missingFilesFix,
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
  const m = messages();
  const client = pgPoolClient(url, { max: 1, queryTimeoutMs: 5000 });
  try {
    await client.query("SELECT 1");
    return [{ level: "ok", subject: m.subjectKnowledgeIndex, detail: m.knowledgeIndexAnswers }];
  } catch (error) {
    return [
      {
        level: "fail",
        subject: m.subjectKnowledgeIndex,
        detail: isHearthError(error) ? error.toLine() : String(error),
        fix: m.knowledgeIndexFix,
      },
    ];
  } finally {
    await client.close();
  }
}

export async function checkModels(config: HearthConfig): Promise<Finding[]> {
  const { scanModelsDir, probeOllama } = await import("@hearth/model");
  const m = messages();
  const findings: Finding[] = [];
  const models = existsSync(config.model.modelsDir) ? await scanModelsDir(config.model.modelsDir) : [];
  const valid = models.filter((model) => model.valid);
  for (const broken of models.filter((model) => !model.valid)) {
    findings.push(
      broken.skipped
        ? {
            level: "fail",
            subject: m.subjectModelFile,
            detail: m.modelFileSkipped(broken.path, broken.skipped.why),
            fix: broken.skipped.fix,
          }
        : {
            level: "fail",
            subject: m.subjectModelFile,
            detail: m.modelFileInvalid(broken.path, broken.error),
            fix: m.modelFileInvalidFix,
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
            subject: m.subjectOllama,
            detail: m.ollamaAnswers(ollamaUrl, ollama.version ?? "?", ollama.models?.length ?? 0),
          }
        : {
            level: config.model.ollamaHost ? "fail" : "ok",
            subject: m.subjectOllama,
            // Why, in the runtime's words: "127.0.0.1:11434 did not answer: connection refused (ECONNREFUSED)".
            detail: `${ollama.error ?? m.ollamaDoesNotAnswer(ollamaUrl)}${config.model.ollamaHost ? "" : m.ollamaOptional}`,
            fix: config.model.ollamaHost ? m.ollamaFix : undefined,
          },
    );
  }
  const ollamaModels = ollama?.reachable ? (ollama.models?.length ?? 0) : 0;
  if (valid.length + ollamaModels > 0)
    findings.push({
      level: "ok",
      subject: m.subjectModels,
      detail: m.modelsFound(
        valid.length,
        config.model.modelsDir,
        valid.map((model) => model.name).join(", "),
      ),
    });
  // A dir whose .gguf files are all skipped or broken has its verdict above, each with its fix.
  else if (models.length === 0)
    findings.push({
      level: "warn",
      subject: m.subjectModels,
      detail: m.noModelYet(config.model.modelsDir),
      fix: m.noModelYetFix(config.model.modelsDir),
    });
  return findings;
}

/**
 * Each service's port: free, or held by a running Hearth service of that kind (both fine: the one
 * is for a start, the other is Hearth running), or taken by another process (a FAIL).
 */
export async function checkPorts(config: HearthConfig): Promise<Finding[]> {
  const m = messages();
  const findings: Finding[] = [];
  try {
    checkPortConflicts(config, SERVICE_NAMES);
  } catch (error) {
    findings.push({
      level: "fail",
      subject: m.subjectPorts,
      detail: isHearthError(error) ? error.toLine() : String(error),
      fix: m.portsFix,
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
      findings.push({ level: "ok", subject: m.subjectPort(name), detail: m.portFree(`${host}:${port}`) });
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
            subject: m.subjectPort(name),
            detail: m.portInUseByHearth(`${host}:${port}`, name),
          }
        : {
            level: "fail",
            subject: m.subjectPort(name),
            detail: m.portTaken(`${host}:${port}`),
            fix: m.portTakenFix(setting.env),
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
  const m = messages();
  try {
    const { keys, authMethod } = await new OidcProvider(settings, fetchImpl).check();
    return [
      {
        level: "ok",
        subject: m.subjectSingleSignOn,
        detail: m.singleSignOnAnswers(settings.issuer, keys, authMethod),
      },
    ];
  } catch (error) {
    return [
      {
        level: "fail",
        subject: m.subjectSingleSignOn,
        detail: isHearthError(error) ? error.toLine() : String(error),
        fix: m.singleSignOnFix,
      },
    ];
  }
}

function checkMemory(): Finding {
  const m = messages();
  const free = freemem();
  const total = totalmem();
  const detail = m.memoryDetail((free / GIB).toFixed(1), (total / GIB).toFixed(1));
  if (free < 2 * GIB) {
    return {
      level: "warn",
      subject: m.subjectMemory,
      detail,
      fix: m.memoryFix,
    };
  }
  return { level: "ok", subject: m.subjectMemory, detail };
}
