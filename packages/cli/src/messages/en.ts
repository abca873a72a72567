/**
 * What the `hearth` command says to a person, in English: help, findings, results, progress and its
 * own errors. Each language's catalog has these keys (zh-CN.ts is typed by this one, so a missing
 * string is a type error). Machine-readable output (JSON, `hearth config`'s values, table cells,
 * error codes, the lines scripts match) is written where it is made, never here.
 */
export const en = {
  // ── hearth and commander's help ──────────────────────────────────────────────────────────────
  programDescription:
    "Hearth: a private ChatGPT for your team — chat UI, models, web search and a knowledge base, on your machines.",
  helpOptionDescription: "display help for command",
  versionOptionDescription: "output the version number",
  /** commander's help headings ("Usage:", "Options:", …) and the extras of a description. */
  helpTitle: (title: string) => title,
  helpExtras: (extras: string) => extras,
  /** A commander parse error ("error: unknown command 'x'"), as printed. */
  commanderError: (message: string) => message,

  // ── errors ───────────────────────────────────────────────────────────────────────────────────
  /** A `CODE: message` line as printed: where the code's meaning and fix are documented. */
  errorLine: (line: string) => line,
  /** An error without a code (`error: message`). */
  plainError: (message: string) => `error: ${message}`,
  warning: (message: string) => `warning: ${message}`,

  // ── hearth up / serve ────────────────────────────────────────────────────────────────────────
  upDescription: "start all four services (model, search, knowledge, web) in this process",
  upReady: (url: string) => `Hearth is ready: open ${url}`,
  serveDescription: "run one service (the entry point of its container)",
  serveServiceArgument: "the service to run",
  serveReady: (name: string, address: string) => `hearth: ${name} service ready at ${address}`,
  allInterfaces: (port: string, lan: string | undefined) =>
    `http://localhost:${port} (all interfaces${lan ? `; from another machine: http://${lan}:${port}` : ""})`,
  secondSignal: "hearth: second signal, exiting without waiting",
  signalReceived: (signal: string) => `hearth: ${signal} received, stopping`,
  serviceDidNotStop: (name: string, message: string) => `hearth: ${name} did not stop cleanly: ${message}`,
  stopped: "hearth: stopped",

  // ── the data dir (start-up) ──────────────────────────────────────────────────────────────────
  dataDirNotWritable: (dir: string, code: string) =>
    `cannot write to the data dir ${dir} (${code}); fix its permissions or set HEARTH_DATA_DIR`,
  modelsDirMissing: (dir: string) =>
    `the models dir ${dir} (HEARTH_MODELS_DIR) does not exist; create it or fix the path`,
  closedToOthers: (dir: string, from: string, to: string) =>
    `closed ${dir} to other local users (mode ${from} -> ${to})`,

  // ── hearth doctor ────────────────────────────────────────────────────────────────────────────
  doctorDescription:
    "check models, Ollama, the data dir, its databases, their schemas and the documents' files, ports and memory, with the fix for each problem",
  /** A finding's line: its mark (`ok  `, `warn`, `FAIL`, the same in every language), subject and detail. */
  doctorFinding: (mark: string, subject: string, detail: string) => `[${mark}] ${subject}: ${detail}`,
  /** The label of a finding's fix, after the 7 columns of `[warn] `. */
  doctorFix: (fix: string) => `       fix: ${fix}`,
  doctorTotals: (failed: number, warned: number) => `${failed} problem(s), ${warned} warning(s)`,
  subjectConfiguration: "configuration",
  subjectDataDir: "data dir",
  subjectDatabase: "database",
  subjectSchema: "schema",
  subjectDocuments: "documents",
  subjectKnowledgeIndex: "knowledge index",
  subjectModelFile: "model file",
  subjectOllama: "Ollama",
  subjectModels: "models",
  subjectPorts: "ports",
  subjectPort: (service: string) => `${service} port`,
  subjectSingleSignOn: "single sign-on",
  subjectMemory: "memory",
  subjectThreads: "threads",
  configFix: "correct the value named above in hearth.yaml or the environment",
  configLoaded: (file: string) => `loaded ${file}`,
  configDefaults: "defaults and environment (no hearth.yaml)",
  threadsDetail: (threads: number, cores: number) =>
    `llama.cpp uses ${threads} thread(s) on ${cores} core(s)`,
  threadsFix: (cores: number) => `set HEARTH_THREADS to at most ${cores}`,
  dataDirWritable: (dir: string) => `${dir} is writable`,
  modelsDirFix: (dir: string) => `mkdir -p ${dir}`,
  dataDirFix: "chown the directory to this user, or set HEARTH_DATA_DIR",
  databaseOk: (file: string) => `${file} opens, passes quick_check and is writable`,
  databaseNotWritableFix: (file: string) =>
    `chown the file (and its -wal and -shm files) to the user Hearth runs as, or chmod u+w ${file}`,
  databaseDamagedFix: (file: string) =>
    `stop Hearth and restore the latest backup (hearth restore <backup dir>), or move ${file} away to start empty`,
  schemaPostgresWebDatabase: "the PostgreSQL web database",
  schemaAfterBackup: "after an automatic backup",
  schemaTakePgDump: "take a pg_dump first",
  schemaNew: (where: string) => `${where} is new: the next start creates its tables`,
  schemaPending: (where: string, applied: number, latest: number, pending: number, safety: string) =>
    `${where} is at step ${applied} of ${latest}: the next start applies ${pending} (${safety})`,
  schemaCurrent: (where: string, latest: number) => `${where} is at this Hearth's schema (step ${latest})`,
  schemaTooNewFix:
    "start the newer Hearth that wrote it again, or restore the backup taken before that upgrade (hearth restore <data dir>/backups/pre-migration-...; PostgreSQL: your pg_dump)",
  schemaSeeDatabaseFix: "see the database finding above",
  schemaPostgresFix: "start PostgreSQL or correct web.databaseUrl (HEARTH_DATABASE_URL)",
  documentsStored: "every document's file is stored",
  knowledgeIndexAnswers: "its PostgreSQL answers",
  knowledgeIndexFix: "start PostgreSQL or correct knowledge.indexPostgresUrl (HEARTH_KNOWLEDGE_POSTGRES_URL)",
  modelFileSkipped: (path: string, why: string) => `${path} is skipped: ${why}`,
  modelFileInvalid: (path: string, error: string | undefined) => `${path}: ${error ?? "not a valid GGUF"}`,
  modelFileInvalidFix: "download it again (the file is truncated or not GGUF) or remove it",
  ollamaAnswers: (url: string, version: string, models: number) =>
    `${url} answers (version ${version}, ${models} model(s))`,
  ollamaDoesNotAnswer: (url: string) => `${url} does not answer`,
  ollamaOptional: " (optional)",
  ollamaFix: "start Ollama (`ollama serve`) or correct OLLAMA_HOST",
  modelsFound: (count: number, dir: string, names: string) =>
    `${count} GGUF model(s) in ${dir}${names ? `: ${names}` : ""}`,
  noModelYet: (dir: string) => `no model yet: ${dir} holds no .gguf file and no Ollama is reachable`,
  noModelYetFix: (dir: string) =>
    `drop a .gguf file into ${dir}, point OLLAMA_HOST at an Ollama, or pull one when online: hearth models pull <name>`,
  portsFix: "give each service its own port in hearth.yaml or the environment",
  portFree: (address: string) => `${address} is free`,
  portInUseByHearth: (address: string, service: string) =>
    `${address} is in use by a running Hearth ${service} service`,
  portTaken: (address: string) => `${address} is taken by another process`,
  portTakenFix: (env: string) => `stop that process or set ${env}`,
  singleSignOnAnswers: (issuer: string, keys: number, authMethod: string) =>
    `${issuer} answers: ${keys} signing key(s), client authentication ${authMethod}`,
  singleSignOnFix:
    "check web.oidc.issuer (HEARTH_OIDC_ISSUER) and that this machine reaches the identity provider",
  memoryDetail: (free: string, total: string) => `${free} GiB free of ${total} GiB`,
  memoryFix:
    "a 1.5B model at Q4 needs about 2 GiB: close other programs, add swap, or use a smaller quantization",

  // ── documents missing their files (hearth doctor, backup, restore) ───────────────────────────
  missingFile: (what: string, path: string) => `${what} (${path})`,
  missingFilesMore: (count: number) => `, and ${count} more`,
  missingFiles: (count: number, dataDir: string, shown: string, more: string) =>
    `${count} document file(s) that knowledge.db names are missing from ${dataDir}: ${shown}${more}`,
  missingFilesFix:
    "search still finds those documents but cannot open or re-index them: upload them again, or delete them",

  // ── hearth models ────────────────────────────────────────────────────────────────────────────
  modelsDescription: "list, show loaded, pull, import, remove, tag and roll back models",
  hashingToRegister: (file: string) => `hashing ${file} to register it`,
  /** A pull's progress as the model registry words it ("pulling manifest", Ollama's statuses). */
  pullStatus: (status: string) => status,
  modelsPsDescription: "models loaded in the model service's memory: size, context and when each is unloaded",
  modelsPsHint: "is it running (hearth up)?",
  modelServiceAnswered: (status: number, text: string) => `the model service answered ${status}: ${text}`,
  modelServiceNoList: "the model service sent no model list",
  noModelLoaded: "No model is loaded; the model service loads one when it is first asked for.",
  modelsListDescription:
    "installed models with their version, content digest and size, and the files skipped",
  noModelsServed: (dir: string) => `No models served from ${dir}.`,
  noModelsIn: (dir: string) =>
    `No models in ${dir}. Drop a .gguf file there, run \`hearth models pull <name>\`, or point OLLAMA_HOST at an Ollama.`,
  modelsPullDescription:
    "Pull from an Ollama registry (name[:tag], host/namespace/name:tag) or a GGUF URL; resumes when interrupted",
  modelsPullReference:
    "e.g. deepseek-r1:1.5b, http://registry.local/library/tiny:latest, https://host/model.gguf",
  modelsPullName: "install under this name:tag",
  modelsPullInsecure: "use http:// for a registry host given without a scheme",
  pullInterrupted: "interrupted; run the same command again to resume the download",
  modelsImportDescription: "import a model a local Ollama already pulled (links its blob: nothing is copied)",
  modelsImportName: "the Ollama model name, e.g. deepseek-r1:1.5b",
  modelsImportFrom:
    "Ollama's models dir (default: HEARTH_OLLAMA_MODELS_DIR, OLLAMA_MODELS or ~/.ollama/models)",
  modelsImportAs: "install under another name:tag",
  modelsRmDescription: "remove a model, and its weights when no other model uses them (says which)",
  removedFile: (name: string, file: string) => `removed ${name} (${file})`,
  removedFromRegistry: (name: string) => `removed ${name} from the registry`,
  deletedWeights: (digest: string, size: string) =>
    `deleted its weights ${digest} (${size}): no other model used them`,
  keptWeightsUsed: (digest: string, users: string) => `kept its weights ${digest}: ${users} still uses them`,
  keptWeightsOutside: (digest: string, outside: string) =>
    `kept its weights ${digest}: they are outside the registry (${outside}), which never deletes them`,
  keptFile: (file: string) =>
    `kept ${file}: not the registry's own file (still being written?); delete it yourself`,
  modelsTagDescription: "serve a model under another name:tag too (no bytes copied)",
  modelsRollbackDescription: "switch a model back to its previous version (or --to a given one)",
  modelsRollbackTo: "the semantic version to switch to",
  rolledBack: (name: string, version: string, digest: string) => `${name} is now ${version} (${digest})`,

  // ── hearth users ─────────────────────────────────────────────────────────────────────────────
  usersDescription:
    "add accounts, reset passwords, create admins, list accounts (works while the service is stopped)",
  passwordPrompt: "Password: ",
  newPasswordPrompt: (name: string) => `New password for ${name}: `,
  dataDirNotADirectory: "is not a directory (a file is in the way)",
  dataDirUnreadable: (code: string) => `cannot be read (${code})`,
  dataDirProblem: (dir: string, reason: string) => `The data directory ${dir} ${reason}`,
  noWebDatabase: (dir: string, mayCreate: boolean) =>
    `No web database (web.sqlite) in ${dir}: is HEARTH_DATA_DIR (or dataDir) the data directory Hearth runs with?` +
    (mayCreate ? " A new database is only started in a new, empty data directory." : ""),
  usersCreateAdminDescription:
    "create an administrator, or promote an existing user and reset their password",
  usersUsernameOption: "user name",
  usersPasswordStdinOption: "read the password from standard input (for scripts)",
  createdWebDatabase: (file: string) => `new data directory: created the web database ${file}`,
  createdAdministrator: (name: string) => `created administrator ${name}`,
  promotedAdministrator: (name: string) => `${name} is now an administrator (password reset)`,
  usersCreateDescription:
    "create an active account (with --admin an administrator), whatever the sign-up mode",
  usersAdminOption: "make the account an administrator",
  createdUser: (name: string) => `created user ${name}`,
  createdFirstAdministrator: (name: string) =>
    `created administrator ${name} (the first account is always an administrator)`,
  usersResetPasswordDescription:
    "set a user's new password and sign out their sessions (their API keys keep working)",
  passwordReset: (name: string) => `reset the password of ${name}; their sessions are signed out`,
  usersListDescription: "list accounts with their role and status",
  noAccounts:
    "no accounts yet: the first account signed up in the web UI becomes the administrator, or create one with `hearth users create-admin -u <name>`",

  // ── hearth backup / restore ──────────────────────────────────────────────────────────────────
  backupDescription:
    "snapshot the data directory (databases, indexes, model manifests) and the config, while Hearth runs",
  backupDestination: "new directory for the backup (default: <dataDir>/backups/hearth-<time>)",
  backupIncludeModels:
    "also copy model weights (.gguf files and registry blobs; large, they can be pulled again)",
  backupKeep:
    "after the backup, delete the oldest hearth-<time> backups beside it so that <count> remain (nothing else is deleted)",
  note: (note: string) => `note: ${note}`,
  backupCancelled: "backup cancelled; nothing was written",
  backupWritten: (destination: string) => `backup written to ${destination}`,
  backupSummary: (files: number, databases: number, size: string) =>
    `${files} files (${databases} databases), ${size}, checksums in manifest.json`,
  backupRegistry: (dir: string) => `model registry (tags, versions, rollback history) backed up from ${dir}`,
  backupWeightsOutside: (modelsDir: string, dataDir: string) =>
    `warning: model weights in ${modelsDir} (outside the data directory ${dataDir}) are not copied; back up that volume, or pull the models again`,
  notInBackup: (note: string) => `not in this backup: ${note}`,
  backupMissingFiles: (line: string, fix: string) =>
    `warning: ${line}, so this backup cannot hold them; ${fix}`,
  backupNothing: (dataDir: string, registryDir: string | undefined) =>
    `warning: nothing to back up: ${dataDir} holds no data${registryDir ? ` and ${registryDir} no model registry` : ""}; is HEARTH_DATA_DIR the directory this service writes to?`,
  deletedOldBackup: (path: string) => `deleted old backup ${path}`,
  keptBackups: (kept: number, deleted: number) => `kept ${kept} backups, deleted ${deleted}`,
  keepNotANumber: (count: string) =>
    `--keep takes the number of backups to keep, a whole number of 1 or more, not "${count}"`,
  keepDestinationName: (destination: string, example: string) =>
    `--keep cannot tell which folders beside ${destination} are its backups: it counts only backups named hearth-<time>; name the destination so (${example}, or in a shell "hearth-$(date -u +%Y-%m-%dT%H-%M-%SZ)"), or give no destination to back up into <dataDir>/backups`,
  copyingDatabases: (count: number) => `copying ${count} database(s)`,
  checkingDocumentFiles: "checking that every document's file is in the backup",
  copyingFiles: (count: number) => `copying ${count} file(s)`,
  webDatabaseInPostgres: (dump: string, restore: string) =>
    `the web database (accounts, conversations, settings, usage) is in PostgreSQL (HEARTH_DATABASE_URL); back it up with ${dump}, and restore that dump with ${restore}`,
  rebuildIndex:
    "or rebuild it from the documents' files, which are in this backup, with POST /v1/knowledge-bases/{id}/reindex?all=true on each knowledge base",
  knowledgeIndexInPostgres: (dump: string, restore: string, rebuild: string) =>
    `the knowledge index (chunks and their vectors) is in PostgreSQL (HEARTH_KNOWLEDGE_POSTGRES_URL); back it up with ${dump}, and restore that dump with ${restore}, ${rebuild}`,
  knowledgeIndexInElasticsearch: (index: string, rebuild: string) =>
    `the knowledge index (chunks and their vectors) is in Elasticsearch (HEARTH_KNOWLEDGE_ELASTICSEARCH_URL), index ${index}; back it up with an Elasticsearch snapshot of that index, and restore that snapshot, ${rebuild}`,
  environmentNotInBackup:
    "environment variables are never in a backup (the service token HEARTH_SERVICE_TOKEN, database URLs such as HEARTH_DATABASE_URL, webhook secrets such as HEARTH_ALERT_WEBHOOK_SECRET, the SSO client secret HEARTH_OIDC_CLIENT_SECRET): set them as before",
  restoreDescription: "verify a backup made by `hearth backup` and bring it back (stop Hearth first)",
  restoreBackupArgument: "the backup directory (the one holding manifest.json)",
  fileOpen: (path: string) => `${path} open`,
  stillRunning: (running: string) =>
    `Hearth is still running (${running}); stop it before restoring: what it writes during or after a restore would be lost`,
  restored: (files: number, dataDir: string, createdAt: string) =>
    `restored ${files} files into ${dataDir} (backup of ${createdAt})`,
  previousDataKept: (path: string) => `the data it replaced is kept at ${path}`,
  configRestored: (path: string) => `configuration restored to ${path}`,
  configNotRestored: (why: string) => `warning: configuration file not restored: ${why}`,
  configLeftInBackup: (file: string, reason: string) =>
    `configuration file not restored: the backed-up file is ${file} (${reason})`,
  notRestored: (note: string) => `not in this backup, so not restored: ${note}`,
  modelRegistryRestored: (path: string) => `model registry restored to ${path}`,
  restoreMissingFiles: (line: string, fix: string) => `warning: ${line}; ${fix}`,
  weightsLeftOut: (models: string) =>
    `model weights not in this backup (taken without --include-models), so these models are not served until you pull, import or copy them back: ${models}`,
  holdsDataDir: (pid: number, services: string) => `pid ${pid} holds the data dir for ${services}`,
  serviceOnPort: (name: string, port: number) => `${name} on port ${port}`,

  // ── hearth ingest ────────────────────────────────────────────────────────────────────────────
  ingestDescription: "upload files or folders into a knowledge base and follow their ingestion",
  ingestKbArgument: "knowledge base name or id",
  ingestPathsArgument: "files or folders to upload (folders are walked; hidden entries skipped)",
  ingestCreateOption: "create the knowledge base when no knowledge base has that name",
  ingestEmbeddingModelOption: "embedding model of a knowledge base created with --create",
  ingestOwnerOption:
    "the web account the knowledge base belongs to (private to it, as if made in the web UI); without it a base created here belongs to no web user",
  ingestUrlOption: "knowledge service URL (default: services.knowledgeUrl / HEARTH_KNOWLEDGE_URL)",
  ingestCancelling: "cancelling (Ctrl-C again to quit without cancelling)",
  cannotReadEntry: (reason: string) => `Cannot read the entry: ${reason}`,
  twoFilesOneName: (name: string) => `Two files would be uploaded as one document named "${name}"`,
  noFilesFound: (unreadable: number, first: string | undefined, more: boolean) =>
    `No files found under the given paths${first ? ` (${unreadable} could not be read: ${first}${more ? ", …" : ""})` : ""}`,
  ingestUnchanged: (count: number) => `${count} unchanged`,
  ingestFailed: (count: number) => `${count} failed`,
  jobUnfinished: (job: string) => `job ${job} is unfinished and resumes`,
  jobsUnfinished: (jobs: string) => `jobs ${jobs} are unfinished and resume`,
  ingestInterrupted: (indexed: number, total: number, others: string, jobsLeft: string) =>
    `interrupted: ${indexed} of ${total} indexed${others ? ` (${others})` : ""}; ${jobsLeft} when the service starts again`,
  ingestSummary: (indexed: number, unchanged: number, failed: number) =>
    `${indexed} indexed, ${unchanged} unchanged, ${failed} failed`,
  notUploaded: (count: number, total: number, error: string) =>
    `${count} of ${total} files were not uploaded: ${error}; run the command again to upload them`,
  jobCancelled: (job: string, indexed: number) =>
    `cancelled job ${job} (${indexed} documents indexed before the cancel)`,
  jobNotCancelled: (job: string, message: string) => `could not cancel job ${job}: ${message}`,
  interruptedBeforeUpload: "interrupted before any file was uploaded",
  knowledgeServiceHint: "is it running? (HEARTH_KNOWLEDGE_URL)",
  knowledgeBasesSameName: (count: number, name: string, ids: string) =>
    `${count} knowledge bases are named "${name}" (they belong to different users): pass the id of the one you mean (${ids})`,
  noKnowledgeBaseNamed: (name: string) => `No knowledge base named "${name}" (add --create to create it)`,
  /** A finished document's line when not on a terminal: its ingestion status stays as the service names it. */
  ingestProgressLine: (done: number, total: number, status: string, name: string) =>
    `[${done}/${total}] ${status} ${name}`,
  ingestBarFailed: (count: number) => `, ${count} failed`,

  // ── hearth config ────────────────────────────────────────────────────────────────────────────
  configDescription: "print the effective configuration, or --reference for every key and variable",
  configReferenceOption: "print the configuration reference (Markdown)",
  configSetInAdmin: (key: string, value: string, configured: string) =>
    `${key} is ${value}, set in Admin → Settings (the configuration says ${configured})`,
  configDefaultsNotRead: (keys: string[], reason: string) =>
    `${keys.join(" and ")} are the defaults: a value saved in Admin → Settings overrides them, and it was not read (${reason})`,
  configNote: (note: string) => `hearth config: ${note}`,
};

export type Messages = typeof en;
