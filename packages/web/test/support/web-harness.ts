import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, type HearthConfig, type Logger, loadConfig } from "@hearth/core";
import type { FastifyInstance } from "fastify";
import pg from "pg";
import { POSTGRES_URL, postgresAvailable } from "../../../../test/support/postgres.js";
import { createWebService } from "../../src/index.js";
import type { WebDatabase } from "../../src/storage/open-database.js";

export interface WebHarness {
  app: FastifyInstance;
  config: HearthConfig;
  dataDir: string;
  routes: ReadonlyArray<{ method: string; url: string; access: string; apiKey?: boolean }>;
  db: WebDatabase;
  /** The PostgreSQL schema it uses (postgres only), for a second replica to share. */
  schema?: string;
  close(): Promise<void>;
}

export { POSTGRES_URL, postgresAvailable } from "../../../../test/support/postgres.js";

export type Dialect = "sqlite" | "postgres";

/** The databases a test runs on: SQLite, and PostgreSQL where one answers (CI has one). */
export const dialects: readonly Dialect[] = postgresAvailable ? ["sqlite", "postgres"] : ["sqlite"];

/**
 * A web service in process with a temp data dir (and a temp PostgreSQL schema), pointed at the given
 * upstreams. `replicaOf` (postgres): another replica of that harness's service, on its schema (which
 * that harness drops on close, not this one).
 */
export async function startWeb(
  services: { modelUrl: string; searchUrl?: string; knowledgeUrl?: string; token?: string },
  web: Record<string, unknown> = {},
  dialect: Dialect = "sqlite",
  options: { logger?: Logger; replicaOf?: WebHarness; queryTimeoutMs?: number } = {},
): Promise<WebHarness> {
  const dataDir = mkdtempSync(join(tmpdir(), "hearth-web-"));
  const ownSchema = dialect === "postgres" && !options.replicaOf;
  const schema =
    dialect === "postgres"
      ? (options.replicaOf?.schema ?? `hearth_test_${randomBytes(6).toString("hex")}`)
      : undefined;
  const config = loadConfig({
    env: {},
    cwd: dataDir,
    overrides: {
      dataDir,
      logLevel: "silent",
      web: { host: "127.0.0.1", port: 0, ...(schema ? { databaseUrl: POSTGRES_URL } : {}), ...web },
      services: {
        modelUrl: services.modelUrl,
        searchUrl: services.searchUrl ?? "http://127.0.0.1:9",
        knowledgeUrl: services.knowledgeUrl ?? "http://127.0.0.1:9",
        ...(services.token ? { token: services.token } : {}),
      },
    } as never,
  });
  const service = await createWebService(config, options.logger ?? createLogger({ level: "silent" }), {
    database: {
      ...(schema ? { postgresSchema: schema } : {}),
      ...(options.queryTimeoutMs ? { queryTimeoutMs: options.queryTimeoutMs } : {}),
    },
  });
  return {
    app: service.app,
    config,
    dataDir,
    routes: service.routes,
    db: service.db,
    ...(schema ? { schema } : {}),
    async close() {
      await service.close();
      if (schema && ownSchema) {
        const client = new pg.Client({ connectionString: POSTGRES_URL });
        await client.connect();
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await client.end();
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
