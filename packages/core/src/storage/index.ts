export {
  type BackupEntry,
  type BackupManifest,
  backupManifestSchema,
  MANIFEST_FILE,
} from "./backup-manifest.js";
export {
  backupFolderName,
  isBackupFolderName,
  type PruneBackupsOptions,
  type PruneBackupsResult,
  pruneBackups,
} from "./backup-retention.js";
export {
  type BackupProgress,
  type BackupResult,
  type CreateBackupOptions,
  createBackup,
  defaultBackupsDir,
  type MissingFile,
} from "./create-backup.js";
export {
  type DataDirLock,
  dataDirLockHolders,
  LOCKS_DIR,
  type LockHolder,
  type LockRecord,
  lockDataDir,
  lockPidFile,
  type PidFileLock,
  type PidFileRefusals,
  readPidFile,
} from "./data-dir-lock.js";
export { isInside, webDatabaseFile } from "./data-files.js";
export { PRIVATE_DIR } from "./private-dir.js";
export {
  databasesInUse,
  type RestoreBackupOptions,
  type RestoreResult,
  restoreBackup,
  verifyBackup,
} from "./restore-backup.js";
export {
  type BackupBeforeMigrationOptions,
  backupBeforeMigration,
  inspectSchema,
  type Migration,
  type MigrationResult,
  type RunMigrationsOptions,
  runMigrations,
  type SchemaTooNewDetails,
} from "./run-migrations.js";
export {
  describeSqliteOpenError,
  inspectSqliteFile,
  nameDamagedSqlite,
  probeSqliteWrite,
} from "./sqlite-open-error.js";
