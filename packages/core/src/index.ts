export { ZipArchive, type ZipArchiveOptions } from "./archive/zip-archive.js";
export { configReferenceMarkdown } from "./config/config-reference.js";
export { type ConfigInput, configSchema, type HearthConfig } from "./config/config-schema.js";
export { ENVIRONMENT, type EnvironmentBinding } from "./config/environment.js";
export { type LoadConfigOptions, loadConfig } from "./config/load-config.js";
export { defaultThreadCount } from "./config/model-section.js";
export { checkPortConflicts, type HearthServiceName } from "./config/port-conflicts.js";
export { type SearchProviderConfig, searchProviderSchema } from "./config/search-section.js";
export { type SensitiveWordsConfig, sensitiveWordsSection } from "./config/sensitive-words-section.js";
export type { OidcConfig } from "./config/web-section.js";
export { ERROR_CODES, type ErrorCode, isErrorCode } from "./errors/error-codes.js";
export {
  HearthError,
  type HearthErrorOptions,
  isHearthError,
  refusesCredentials,
  UpstreamCallError,
} from "./errors/hearth-error.js";
export { type Abortable, abortOnShutdown } from "./http/abort-on-shutdown.js";
export {
  createServiceApp,
  defaultErrorBody,
  type ErrorBodyFormatter,
  PROCESS_INSTANCE,
  type Readiness,
  type ServiceApp,
  type ServiceAppOptions,
  type ServiceName,
} from "./http/create-service-app.js";
export { ECHOED_CHARS, echoed } from "./http/echoed.js";
export { toHearthError } from "./http/error-mapping.js";
export { ReplyStream } from "./http/event-stream.js";
export { type ListenOptions, listenService } from "./http/listen-service.js";
export { openAiErrorBody } from "./http/openai-error.js";
export { mediaInputError, refuseMediaParts, refuseTokenIds } from "./http/openai-input.js";
export { pathSegment } from "./http/path-segment.js";
export { relayBody } from "./http/relay-body.js";
export { logFailure } from "./logging/failure-log.js";
export {
  createLogger,
  type Logger,
  type LoggerOptions,
  REDACTED_PATHS,
  writeAfterLogs,
} from "./logging/logger.js";
export { detectMemoryLimitBytes, registerMemoryLimitGauge } from "./metrics/memory-limit.js";
export {
  Counter,
  createMetricsRegistry,
  Gauge,
  Histogram,
  LATENCY_BUCKETS_SECONDS,
  Registry,
} from "./metrics/metrics.js";
export { AddressPolicy } from "./net/address-policy.js";
export { linkedSignal, whenAborted } from "./net/linked-signal.js";
export { describeNetworkError, isUnresolvedName } from "./net/network-error.js";
export { type OwnServiceEndpoint, OwnServices } from "./net/own-services.js";
export { authorizationSecrets, redactSecrets } from "./net/redact-secrets.js";
export {
  type FetchedResource,
  type FetchFailure,
  type Resolver,
  SafeFetchError,
  SafeFetcher,
  type SafeFetchOptions,
  systemResolver,
} from "./net/safe-fetch.js";
export { urlCredentials, withoutUrlSecrets } from "./net/url-secrets.js";
export { isDataRefused } from "./storage/database-data-error.js";
export { isDatabaseUnreachable } from "./storage/database-unreachable.js";
export {
  type BackupBeforeMigrationOptions,
  type BackupEntry,
  type BackupManifest,
  type BackupProgress,
  type BackupResult,
  backupBeforeMigration,
  backupFolderName,
  type CreateBackupOptions,
  createBackup,
  type DataDirLock,
  databasesInUse,
  dataDirLockHolders,
  defaultBackupsDir,
  describeSqliteOpenError,
  inspectSchema,
  inspectSqliteFile,
  isBackupFolderName,
  isInside,
  LOCKS_DIR,
  type LockHolder,
  type LockRecord,
  lockDataDir,
  lockPidFile,
  type Migration,
  type MigrationResult,
  type MissingFile,
  nameDamagedSqlite,
  type PidFileLock,
  type PidFileRefusals,
  PRIVATE_DIR,
  type PruneBackupsOptions,
  type PruneBackupsResult,
  probeSqliteWrite,
  pruneBackups,
  type RestoreBackupOptions,
  type RestoreResult,
  type RunMigrationsOptions,
  readPidFile,
  restoreBackup,
  runMigrations,
  type SchemaTooNewDetails,
  verifyBackup,
  webDatabaseFile,
} from "./storage/index.js";
export { OutageLog, postgresPool } from "./storage/postgres-pool.js";
export { blockText, isBlockElement, type TextNode } from "./text/block-text.js";
export {
  flattenDeepHtml,
  MAX_HTML_DEPTH,
  READABILITY_MAX_DEPTH,
  READABILITY_MAX_NODES,
  READABILITY_MAX_WEIGHT,
  readabilityFits,
  type TreeShape,
  treeShape,
} from "./text/html-limits.js";
export { legacyChineseEncoding } from "./text/legacy-chinese.js";
