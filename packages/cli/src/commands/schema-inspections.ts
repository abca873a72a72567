import { existsSync } from "node:fs";
import { join } from "node:path";
import { type HearthConfig, inspectSchema, webDatabaseFile } from "@hearth/core";
import { type Messages, messages } from "../messages/index.js";

/** A database whose schema this Hearth can read: what it is called, how its pending steps are kept safe, and its inspection. */
export interface SchemaInspection {
  where: string;
  safety: string;
  /** Its steps applied and this Hearth's latest; undefined when it does not exist; SCHEMA_TOO_NEW when a newer Hearth wrote it. */
  inspect: () => Promise<{ applied: number; latest: number } | undefined>;
}

export const knowledgeStoreFile = (config: Pick<HearthConfig, "dataDir">) =>
  join(config.dataDir, "knowledge", "knowledge.db");

/**
 * The web database's and the knowledge store's schema inspections (read only), as `hearth doctor`
 * runs them on the data directory and `hearth restore` on a backup's data before touching anything.
 */
export async function schemaInspections(
  config: HearthConfig,
  m: Messages = messages(),
): Promise<SchemaInspection[]> {
  const { inspectWebSchema } = await import("@hearth/web");
  const { KNOWLEDGE_MIGRATIONS } = await import("@hearth/knowledge");
  const knowledgeStore = knowledgeStoreFile(config);
  const webFile = webDatabaseFile(config);
  return [
    {
      where: webFile ?? m.schemaPostgresWebDatabase,
      safety: webFile ? m.schemaAfterBackup : m.schemaTakePgDump,
      inspect: () => inspectWebSchema(config),
    },
    {
      where: knowledgeStore,
      safety: m.schemaAfterBackup,
      inspect: async () =>
        existsSync(knowledgeStore) ? inspectSchema(knowledgeStore, KNOWLEDGE_MIGRATIONS) : undefined,
    },
  ];
}
