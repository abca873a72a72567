import { join } from "node:path";
import { HearthError, type Logger } from "@hearth/core";
import { openElasticsearchIndex } from "../index/elasticsearch-index-backend.js";
import type { IndexBackend } from "../index/index-backend.js";
import { openPostgresIndex } from "../index/postgres-index-backend.js";
import { openSqliteIndex } from "../index/sqlite-index-backend.js";

/** The index keys of the knowledge configuration section. */
export interface IndexSettings {
  indexBackend: "sqlite" | "postgres" | "elasticsearch";
  indexPostgresUrl?: string | undefined;
  indexElasticsearchUrl?: string | undefined;
}

/**
 * Opens the backend the configuration names: SQLite at <dataDir>/knowledge/index.sqlite by default,
 * PostgreSQL (HEARTH_KNOWLEDGE_POSTGRES_URL) or Elasticsearch/OpenSearch (HEARTH_KNOWLEDGE_ELASTICSEARCH_URL).
 */
export async function openConfiguredIndex(
  settings: IndexSettings,
  dataDir: string,
  logger?: Logger,
): Promise<IndexBackend> {
  switch (settings.indexBackend) {
    case "sqlite":
      return openSqliteIndex({ path: join(dataDir, "knowledge", "index.sqlite") });
    case "postgres":
      if (settings.indexPostgresUrl === undefined) {
        throw new HearthError(
          "CONFIG_INVALID",
          "knowledge.indexBackend is postgres but HEARTH_KNOWLEDGE_POSTGRES_URL is not set.",
        );
      }
      return openPostgresIndex({
        connectionString: settings.indexPostgresUrl,
        ...(logger ? { logger } : {}),
      });
    case "elasticsearch":
      if (settings.indexElasticsearchUrl === undefined) {
        throw new HearthError(
          "CONFIG_INVALID",
          "knowledge.indexBackend is elasticsearch but HEARTH_KNOWLEDGE_ELASTICSEARCH_URL is not set.",
        );
      }
      return openElasticsearchIndex({ url: settings.indexElasticsearchUrl });
  }
}
