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
import { errorLine, type Messages, messages } from "../messages/index.js";
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
  const m = messages();
  return new Command("backup")
    .description(m.backupDescription)
    .argument("[destination]", m.backupDestination)
    .option("--include-models", m.backupIncludeModels, false)
    .option("--keep <count>", m.backupKeep)
    .action(async (destination: string | undefined, flags: { includeModels: boolean; keep?: string }) =>
      reportErrors(async () => {
        const keep = flags.keep === undefined ? undefined : backupsToKeep(flags.keep, destination, m);
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
            notInBackup: storedOutsideDataDir(config, m),
            // Every document's file that the copied knowledge.db names is in the backup.
            missingFiles: missingDocumentFiles,
            onNote: (note) => {
              progress.end();
              stderr.write(`${m.note(note)}\n`);
            },
            onProgress: (step) => progress(backupStep(step, m)),
            signal: controller.signal,
          });
        } catch (error) {
          progress.end();
          if (!controller.signal.aborted) throw error;
          stderr.write(`${m.backupCancelled}\n`);
          process.exitCode = SIGNAL_EXIT[String(controller.signal.reason)] ?? 130;
          return;
        } finally {
          signals.off("SIGINT", cancel);
          signals.off("SIGTERM", cancel);
        }
        progress.end();
        const bytes = manifest.entries.reduce((sum, entry) => sum + entry.size, 0);
        const databases = manifest.entries.filter((entry) => entry.kind === "sqlite").length;
        write(m.backupWritten(manifest.destination));
        write(m.backupSummary(manifest.entries.length, databases, formatBytes(bytes, "binary")));
        if (manifest.entries.some((entry) => entry.kind === "registry")) write(m.backupRegistry(registryDir));
        const outside = !isInside(config.model.modelsDir, config.dataDir);
        if (flags.includeModels && outside)
          write(m.backupWeightsOutside(config.model.modelsDir, config.dataDir));
        for (const note of manifest.notInBackup ?? []) write(m.notInBackup(note));
        if (manifest.missingInData.length > 0)
          write(
            m.backupMissingFiles(
              missingFilesLine(manifest.missingInData, config.dataDir, m),
              m.missingFilesFix,
            ),
          );
        // Data that lives in PostgreSQL explains an empty data directory; the lines above say so.
        if (!manifest.entries.some((entry) => entry.kind !== "config") && !manifest.notInBackup)
          write(m.backupNothing(config.dataDir, outside ? registryDir : undefined));
        if (keep !== undefined) {
          const { kept, deleted } = await pruneBackups({
            latest: manifest.destination,
            keep,
            onDeleted: (path) => write(m.deletedOldBackup(path)),
          });
          write(m.keptBackups(kept.length, deleted.length));
        }
      }),
    );
}

/**
 * The number `--keep` gives, refused before anything is written when it is not a whole number of 1
 * or more, or when an explicit destination is not named `hearth-<time>`: only folders named so are
 * counted as its backups, so the backups beside another name could not be told from other folders.
 */
function backupsToKeep(count: string, destination: string | undefined, m: Messages): number {
  const keep = Number(count);
  if (!/^\d+$/.test(count) || !Number.isSafeInteger(keep) || keep < 1)
    throw new HearthError("INVALID_REQUEST", m.keepNotANumber(count), { details: { field: "keep" } });
  if (destination !== undefined && !isBackupFolderName(basename(resolve(destination))))
    throw new HearthError(
      "INVALID_REQUEST",
      m.keepDestinationName(
        resolve(destination),
        join(dirname(resolve(destination)), backupFolderName(new Date())),
      ),
      { details: { field: "destination" } },
    );
  return keep;
}

/** A backup's progress as the progress printer shows it: a line per phase, a bar while databases and files are copied. */
function backupStep(step: BackupProgress, m: Messages): Progress {
  if (step.phase === "databases")
    return { status: m.copyingDatabases(step.total), completed: step.bytes, total: step.totalBytes };
  if (step.phase === "checking") return { status: m.checkingDocumentFiles };
  return { status: m.copyingFiles(step.total), completed: step.bytes, total: step.totalBytes };
}

/**
 * What the configuration keeps in PostgreSQL rather than in the data directory, which a backup of
 * that directory cannot hold: each with the pg_dump to take alongside and the pg_restore that
 * brings that dump back (the URL named by its variable, never printed: it holds the password).
 * The manifest records these notes; `hearth restore` repeats them.
 */
function storedOutsideDataDir(config: HearthConfig, m: Messages): string[] {
  const dump = (variable: string, file: string) =>
    `pg_dump --format=custom --file=${file}-$(date +%Y%m%dT%H%M%S).dump "$${variable}"`;
  const restore = (variable: string, file: string) =>
    `pg_restore --clean --if-exists --dbname="$${variable}" ${file}-<time>.dump`;
  const notes: string[] = [];
  if (config.web.databaseUrl !== undefined)
    notes.push(
      m.webDatabaseInPostgres(
        dump("HEARTH_DATABASE_URL", "hearth-web"),
        restore("HEARTH_DATABASE_URL", "hearth-web"),
      ),
    );
  // The documents' files are in the backup: an index lost with its server is rebuilt from them.
  const rebuild = m.rebuildIndex;
  if (config.knowledge.indexBackend === "postgres")
    notes.push(
      m.knowledgeIndexInPostgres(
        dump("HEARTH_KNOWLEDGE_POSTGRES_URL", "hearth-knowledge-index"),
        restore("HEARTH_KNOWLEDGE_POSTGRES_URL", "hearth-knowledge-index"),
        rebuild,
      ),
    );
  if (config.knowledge.indexBackend === "elasticsearch")
    notes.push(m.knowledgeIndexInElasticsearch(ELASTICSEARCH_INDEX, rebuild));
  return notes;
}

/** `hearth restore <backup>`: verifies a backup, then brings it back; refuses while Hearth is running. */
export function restoreCommand(options: OperationsCommandOptions = {}): Command {
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const m = messages();
  return new Command("restore")
    .description(m.restoreDescription)
    .argument("<backup>", m.restoreBackupArgument)
    .action(async (source: string) =>
      reportErrors(async () => {
        const config = loadConfig(options.config);
        // The running services keep the files a restore moves aside open and write into them: those
        // writes would be lost. No flag skips this.
        const running = [
          ...(await runningServices(config, m)),
          ...(await databasesInUse(config.dataDir)).map((path) => m.fileOpen(path)),
        ];
        if (running.length > 0) {
          throw new HearthError("RESTORE_FAILED", m.stillRunning(running.join(", ")));
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
            for (const { inspect } of await schemaInspections(backed, m)) await inspect();
          },
        });
        write(m.restored(result.restoredFiles, config.dataDir, result.manifest.createdAt));
        if (result.previousData) write(m.previousDataKept(result.previousData));
        if (result.configRestoredTo) write(m.configRestored(result.configRestoredTo));
        if (result.configNotRestored) write(m.configNotRestored(result.configNotRestored));
        if (result.configLeftInBackup)
          write(m.configLeftInBackup(result.configLeftInBackup.file, result.configLeftInBackup.reason));
        // What the backup recorded as kept outside it (data in PostgreSQL or Elasticsearch), with how to bring it back.
        for (const note of result.manifest.notInBackup ?? []) write(m.notRestored(note));
        // What no backup holds, said after every restore (docs/deployment.md says the same).
        write(m.environmentNotInBackup);
        if (result.modelRegistryRestoredTo) write(m.modelRegistryRestored(result.modelRegistryRestoredTo));
        const missing = missingDocumentFiles(config.dataDir);
        if (missing.length > 0)
          write(m.restoreMissingFiles(missingFilesLine(missing, config.dataDir, m), m.missingFilesFix));
        if (result.weightsLeftOut.length > 0) write(m.weightsLeftOut(result.weightsLeftOut.join(", ")));
      }),
    );
}

/**
 * Services of this configuration that hold the data dir's lock, or answer their health check on this
 * machine: on loopback, or on the address a service is configured to listen on when that is one
 * address (not all of them).
 */
async function runningServices(config: HearthConfig, m: Messages): Promise<string[]> {
  // The lock `hearth up` and `hearth serve` take (another host's Hearth on a shared volume too).
  const byPid = new Map<number, string[]>();
  for (const holder of dataDirLockHolders(config.dataDir))
    byPid.set(holder.pid, [...(byPid.get(holder.pid) ?? []), holder.service]);
  const holders = [...byPid].map(([pid, names]) => m.holdsDataDir(pid, names.join(", ")));

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
        return body.service === name ? m.serviceOnPort(name, port) : undefined;
      } catch {
        return undefined;
      }
    }),
  );
  const answering = answers.filter((answer): answer is string => answer !== undefined);
  return holders.length > 0 ? holders : answering;
}

/** Documents whose stored file is missing from the data directory, in one line, the first few named. */
export function missingFilesLine(
  missing: readonly MissingFile[],
  dataDir: string,
  m: Messages = messages(),
): string {
  const shown = missing.slice(0, 5).map((file) => m.missingFile(file.what, join(dataDir, file.path)));
  const more = missing.length > shown.length ? m.missingFilesMore(missing.length - shown.length) : "";
  return m.missingFiles(missing.length, dataDir, shown.join("; "), more);
}

async function reportErrors(action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (error) {
    if (!isHearthError(error)) throw error;
    process.stderr.write(`${errorLine(error)}\n`);
    process.exitCode = 1;
  }
}
