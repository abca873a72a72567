import { basename, dirname, join, resolve } from "node:path";
import {
  type BackupProgress,
  type BackupResult,
  backupFolderName,
  createBackup,
  databasesInUse,
  dataDirLockHolders,
  defaultBackupsDir,
  type HearthConfig,
  HearthError,
  isBackupFolderName,
  isHearthError,
  isInside,
  type LoadConfigOptions,
  loadConfig,
  type MissingFile,
  pruneBackups,
  restoreBackup,
} from "@hearth/core";
import { ELASTICSEARCH_INDEX, missingDocumentFiles } from "@hearth/knowledge";
import { registryDirFor } from "@hearth/model";
import { Command } from "commander";
import { formatBytes, type Progress, progressPrinter } from "../progress.js";
import { schemaInspections } from "./schema-inspections.js";

/** Where the commands read configuration from; tests pass their own environment. */
export interface OperationsCommandOptions {
  config?: LoadConfigOptions;
  /** Receives the lines a person reads (default: stdout). */
  write?: (line: string) => void;
  /** Where progress and notes go (default: stderr). */
  stderr?: NodeJS.WritableStream & { isTTY?: boolean };
  /** What SIGINT and SIGTERM are heard from (default: the process; tests send their own). */
  signals?: Pick<NodeJS.EventEmitter, "on" | "off">;
}

/** Exit statuses of a command ended by a signal, as a shell reports them (128 + the signal's number). */
const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

/** `hearth backup [destination]`: a consistent online snapshot of the data directory and the config. */
export function backupCommand(options: OperationsCommandOptions = {}): Command {
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  return new Command("backup")
    .description(
      "snapshot the data directory (databases, indexes, model manifests) and the config, while Hearth runs",
    )
    .argument("[destination]", "new directory for the backup (default: <dataDir>/backups/hearth-<time>)")
    .option(
      "--include-models",
      "also copy model weights (.gguf files and registry blobs; large, they can be pulled again)",
      false,
    )
    .option(
      "--keep <count>",
      "after the backup, delete the oldest hearth-<time> backups beside it so that <count> remain (nothing else is deleted)",
    )
    .action(async (destination: string | undefined, flags: { includeModels: boolean; keep?: string }) =>
      reportErrors(async () => {
        const keep = flags.keep === undefined ? undefined : backupsToKeep(flags.keep, destination);
        const config = loadConfig(options.config);
        const target = destination ?? join(defaultBackupsDir(config.dataDir), backupFolderName(new Date()));
        const registryDir = registryDirFor(config.model.modelsDir, config.model.registryDir);
        const stderr = options.stderr ?? process.stderr;
        const progress = progressPrinter(stderr);
        // Ctrl-C or a stop cancels the backup: its staging copy (private data) is removed.
        const controller = new AbortController();
        const cancel = (signal: NodeJS.Signals) => controller.abort(signal);
        const signals = options.signals ?? process;
        signals.on("SIGINT", cancel);
        signals.on("SIGTERM", cancel);
        let manifest: BackupResult;
        try {
          manifest = await createBackup({
            dataDir: config.dataDir,
            destination: target,
            includeModelWeights: flags.includeModels,
            modelRegistryDir: registryDir,
            ...(config.configFile ? { configFile: config.configFile } : {}),
            notInBackup: storedOutsideDataDir(config),
            // Every document's file that the copied knowledge.db names is in the backup.
            missingFiles: missingDocumentFiles,
            onNote: (note) => {
              progress.end();
              stderr.write(`note: ${note}\n`);
            },
            onProgress: (step) => progress(backupStep(step)),
            signal: controller.signal,
          });
        } catch (error) {
          progress.end();
          if (!controller.signal.aborted) throw error;
          stderr.write("backup cancelled; nothing was written\n");
          process.exitCode = SIGNAL_EXIT[String(controller.signal.reason)] ?? 130;
          return;
        } finally {
          signals.off("SIGINT", cancel);
          signals.off("SIGTERM", cancel);
        }
        progress.end();
        const bytes = manifest.entries.reduce((sum, entry) => sum + entry.size, 0);
        const databases = manifest.entries.filter((entry) => entry.kind === "sqlite").length;
        write(`backup written to ${manifest.destination}`);
        write(
          `${manifest.entries.length} files (${databases} databases), ${formatBytes(bytes, "binary")}, checksums in manifest.json`,
        );
        if (manifest.entries.some((entry) => entry.kind === "registry"))
          write(`model registry (tags, versions, rollback history) backed up from ${registryDir}`);
        const outside = !isInside(config.model.modelsDir, config.dataDir);
        if (flags.includeModels && outside)
          write(
            `warning: model weights in ${config.model.modelsDir} (outside the data directory ${config.dataDir}) are not copied; back up that volume, or pull the models again`,
          );
        for (const note of manifest.notInBackup ?? []) write(`not in this backup: ${note}`);
        if (manifest.missingInData.length > 0)
          write(
            `warning: ${missingFilesLine(manifest.missingInData, config.dataDir)}, so this backup cannot hold them; ${MISSING_FILES_FIX}`,
          );
        // Data that lives in PostgreSQL explains an empty data directory; the lines above say so.
        if (!manifest.entries.some((entry) => entry.kind !== "config") && !manifest.notInBackup)
          write(
            `warning: nothing to back up: ${config.dataDir} holds no data${outside ? ` and ${registryDir} no model registry` : ""}; is HEARTH_DATA_DIR the directory this service writes to?`,
          );
        if (keep !== undefined) {
          const { kept, deleted } = await pruneBackups({
            latest: manifest.destination,
            keep,
            onDeleted: (path) => write(`deleted old backup ${path}`),
          });
          write(`kept ${kept.length} backups, deleted ${deleted.length}`);
        }
      }),
    );
}

/**
 * The number `--keep` gives, refused before anything is written when it is not a whole number of 1
 * or more, or when an explicit destination is not named `hearth-<time>`: only folders named so are
 * counted as its backups, so the backups beside another name could not be told from other folders.
 */
function backupsToKeep(count: string, destination: string | undefined): number {
  const keep = Number(count);
  if (!/^\d+$/.test(count) || !Number.isSafeInteger(keep) || keep < 1)
    throw new HearthError(
      "INVALID_REQUEST",
      `--keep takes the number of backups to keep, a whole number of 1 or more, not "${count}"`,
      { details: { field: "keep" } },
    );
  if (destination !== undefined && !isBackupFolderName(basename(resolve(destination))))
    throw new HearthError(
      "INVALID_REQUEST",
      `--keep cannot tell which folders beside ${resolve(destination)} are its backups: it counts only backups named hearth-<time>; name the destination so (${join(dirname(resolve(destination)), backupFolderName(new Date()))}, or in a shell "hearth-$(date -u +%Y-%m-%dT%H-%M-%SZ)"), or give no destination to back up into <dataDir>/backups`,
      { details: { field: "destination" } },
    );
  return keep;
}

/** A backup's progress as the progress printer shows it: a line per phase, a bar while databases and files are copied. */
function backupStep(step: BackupProgress): Progress {
  if (step.phase === "databases")
    return { status: `copying ${step.total} database(s)`, completed: step.bytes, total: step.totalBytes };
  if (step.phase === "checking") return { status: "checking that every document's file is in the backup" };
  return { status: `copying ${step.total} file(s)`, completed: step.bytes, total: step.totalBytes };
}

/**
 * What the configuration keeps in PostgreSQL rather than in the data directory, which a backup of
 * that directory cannot hold: each with the pg_dump to take alongside and the pg_restore that
 * brings that dump back (the URL named by its variable, never printed: it holds the password).
 * The manifest records these notes; `hearth restore` repeats them.
 */
function storedOutsideDataDir(config: HearthConfig): string[] {
  const dump = (variable: string, file: string) =>
    `pg_dump --format=custom --file=${file}-$(date +%Y%m%dT%H%M%S).dump "$${variable}"`;
  const restore = (variable: string, file: string) =>
    `pg_restore --clean --if-exists --dbname="$${variable}" ${file}-<time>.dump`;
  const notes: string[] = [];
  if (config.web.databaseUrl !== undefined)
    notes.push(
      `the web database (accounts, conversations, settings, usage) is in PostgreSQL (HEARTH_DATABASE_URL); back it up with ${dump("HEARTH_DATABASE_URL", "hearth-web")}, and restore that dump with ${restore("HEARTH_DATABASE_URL", "hearth-web")}`,
    );
  // The documents' files are in the backup: an index lost with its server is rebuilt from them.
  const rebuild =
    "or rebuild it from the documents' files, which are in this backup, with POST /v1/knowledge-bases/{id}/reindex?all=true on each knowledge base";
  if (config.knowledge.indexBackend === "postgres")
    notes.push(
      `the knowledge index (chunks and their vectors) is in PostgreSQL (HEARTH_KNOWLEDGE_POSTGRES_URL); back it up with ${dump("HEARTH_KNOWLEDGE_POSTGRES_URL", "hearth-knowledge-index")}, and restore that dump with ${restore("HEARTH_KNOWLEDGE_POSTGRES_URL", "hearth-knowledge-index")}, ${rebuild}`,
    );
  if (config.knowledge.indexBackend === "elasticsearch")
    notes.push(
      `the knowledge index (chunks and their vectors) is in Elasticsearch (HEARTH_KNOWLEDGE_ELASTICSEARCH_URL), index ${ELASTICSEARCH_INDEX}; back it up with an Elasticsearch snapshot of that index, and restore that snapshot, ${rebuild}`,
    );
  return notes;
}

/** What no backup holds, said after every restore (docs/deployment.md says the same). */
export const ENVIRONMENT_NOT_IN_BACKUP =
  "environment variables are never in a backup (the service token HEARTH_SERVICE_TOKEN, database URLs such as HEARTH_DATABASE_URL, webhook secrets such as HEARTH_ALERT_WEBHOOK_SECRET, the SSO client secret HEARTH_OIDC_CLIENT_SECRET): set them as before";

/** `hearth restore <backup>`: verifies a backup, then brings it back; refuses while Hearth is running. */
export function restoreCommand(options: OperationsCommandOptions = {}): Command {
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  return new Command("restore")
    .description("verify a backup made by `hearth backup` and bring it back (stop Hearth first)")
    .argument("<backup>", "the backup directory (the one holding manifest.json)")
    .action(async (source: string) =>
      reportErrors(async () => {
        const config = loadConfig(options.config);
        // The running services keep the files a restore moves aside open and write into them: those
        // writes would be lost. No flag skips this.
        const running = [
          ...(await runningServices(config)),
          ...(await databasesInUse(config.dataDir)).map((path) => `${path} open`),
        ];
        if (running.length > 0) {
          throw new HearthError(
            "RESTORE_FAILED",
            `Hearth is still running (${running.join(", ")}); stop it before restoring: what it writes during or after a restore would be lost`,
          );
        }
        const registryDir = registryDirFor(config.model.modelsDir, config.model.registryDir);
        const result = await restoreBackup({
          source,
          dataDir: config.dataDir,
          ...(config.configFile ? { configFile: config.configFile } : {}),
          ...(isInside(registryDir, config.dataDir) ? {} : { modelRegistryDir: registryDir }),
          // Its databases read as `hearth doctor` reads the data directory's, the backup's data in its place.
          checkSchemas: async (backupDataDir) => {
            const backed = {
              ...config,
              dataDir: backupDataDir,
              web: { ...config.web, databaseUrl: undefined },
            };
            for (const { inspect } of await schemaInspections(backed)) await inspect();
          },
        });
        write(
          `restored ${result.restoredFiles} files into ${config.dataDir} (backup of ${result.manifest.createdAt})`,
        );
        if (result.previousData) write(`the data it replaced is kept at ${result.previousData}`);
        if (result.configRestoredTo) write(`configuration restored to ${result.configRestoredTo}`);
        if (result.configNotRestored)
          write(`warning: configuration file not restored: ${result.configNotRestored}`);
        if (result.configLeftInBackup)
          write(
            `configuration file not restored: the backed-up file is ${result.configLeftInBackup.file} (${result.configLeftInBackup.reason})`,
          );
        // What the backup recorded as kept outside it (data in PostgreSQL or Elasticsearch), with how to bring it back.
        for (const note of result.manifest.notInBackup ?? [])
          write(`not in this backup, so not restored: ${note}`);
        write(ENVIRONMENT_NOT_IN_BACKUP);
        if (result.modelRegistryRestoredTo)
          write(`model registry restored to ${result.modelRegistryRestoredTo}`);
        const missing = missingDocumentFiles(config.dataDir);
        if (missing.length > 0)
          write(`warning: ${missingFilesLine(missing, config.dataDir)}; ${MISSING_FILES_FIX}`);
        if (result.weightsLeftOut.length > 0)
          write(
            `model weights not in this backup (taken without --include-models), so these models are not served until you pull, import or copy them back: ${result.weightsLeftOut.join(", ")}`,
          );
      }),
    );
}

/**
 * Services of this configuration that hold the data dir's lock, or answer their health check on this
 * machine: on loopback, or on the address a service is configured to listen on when that is one
 * address (not all of them).
 */
async function runningServices(config: HearthConfig): Promise<string[]> {
  // The lock `hearth up` and `hearth serve` take (another host's Hearth on a shared volume too).
  const byPid = new Map<number, string[]>();
  for (const holder of dataDirLockHolders(config.dataDir))
    byPid.set(holder.pid, [...(byPid.get(holder.pid) ?? []), holder.service]);
  const holders = [...byPid].map(([pid, names]) => `pid ${pid} holds the data dir for ${names.join(", ")}`);

  const services = [
    ["web", config.web.host, config.web.port],
    ["model", config.model.host, config.model.port],
    ["search", config.search.host, config.search.port],
    ["knowledge", config.knowledge.host, config.knowledge.port],
  ] as const;
  const answers = await Promise.all(
    services.map(async ([name, host, port]) => {
      const address = ["0.0.0.0", "::", ""].includes(host)
        ? "127.0.0.1"
        : host.includes(":")
          ? `[${host}]`
          : host;
      try {
        const response = await fetch(`http://${address}:${port}/healthz`, {
          signal: AbortSignal.timeout(500),
        });
        const body = (await response.json()) as { service?: string };
        return body.service === name ? `${name} on port ${port}` : undefined;
      } catch {
        return undefined;
      }
    }),
  );
  const answering = answers.filter((answer): answer is string => answer !== undefined);
  return holders.length > 0 ? holders : answering;
}

/** Documents whose stored file is missing from the data directory, in one line, the first few named. */
export function missingFilesLine(missing: readonly MissingFile[], dataDir: string): string {
  const shown = missing.slice(0, 5).map((file) => `${file.what} (${join(dataDir, file.path)})`);
  const more = missing.length > shown.length ? `, and ${missing.length - shown.length} more` : "";
  return `${missing.length} document file(s) that knowledge.db names are missing from ${dataDir}: ${shown.join("; ")}${more}`;
}

/** What to do about documents whose file is missing. */
export const MISSING_FILES_FIX =
  "search still finds those documents but cannot open or re-index them: upload them again, or delete them";

async function reportErrors(action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (error) {
    if (!isHearthError(error)) throw error;
    process.stderr.write(`${error.toLine()}\n`);
    process.exitCode = 1;
  }
}
