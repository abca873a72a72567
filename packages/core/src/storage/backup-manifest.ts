import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { z } from "zod";

/** Name of the manifest file at the root of every backup. */
export const MANIFEST_FILE = "manifest.json";

/** How a file was captured: SQLite through the online backup API, config and other files copied. */
export const backupEntrySchema = z.strictObject({
  /**
   * Path relative to the backup root, with forward slashes; under `data/`, `config/` or
   * `model-registry/` (the model registry's manifest when the models dir lies outside the data dir).
   */
  path: z.string().min(1),
  kind: z.enum(["sqlite", "file", "config", "registry"]),
  size: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

export const backupManifestSchema = z.strictObject({
  format: z.literal("hearth-backup"),
  version: z.literal(1),
  createdAt: z.string(),
  /** `full`: the whole data directory; `partial`: only the listed files (e.g. before a migration). */
  scope: z.enum(["full", "partial"]),
  reason: z.string().optional(),
  entries: z.array(backupEntrySchema),
  /** Symbolic links restored as links (`data/...` paths; the target relative to the link's folder). */
  links: z.array(z.strictObject({ path: z.string().min(1), target: z.string().min(1) })).optional(),
  /** Model weights not in the backup (`data/...` paths): they must be pulled, imported or copied back. */
  weightsLeftOut: z.array(z.string()).optional(),
  /**
   * Data the configuration keeps outside the data directory (a PostgreSQL database), which this
   * backup therefore does not hold: each entry says what, where, and the command that backs it up.
   */
  notInBackup: z.array(z.string()).optional(),
});

export type BackupEntry = z.infer<typeof backupEntrySchema>;
export type BackupManifest = z.infer<typeof backupManifestSchema>;

/** SHA-256 of a file, streamed so that large index files do not sit in memory. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}
