import { existsSync, mkdirSync } from "node:fs";
import {
  describeSqliteOpenError,
  type HearthConfig,
  HearthError,
  type Logger,
  nameDamagedSqlite,
  OutageLog,
  PRIVATE_DIR,
  postgresPool,
  probeSqliteWrite,
  webDatabaseFile,
} from "@hearth/core";
import BetterSqlite3 from "better-sqlite3";
import {
  type DatabaseIntrospector,
  Kysely,
  PostgresDialect,
  type PostgresDialectConfig,
  type PostgresPool,
  type PostgresPoolClient,
  SqliteAdapter,
  SqliteDialect,
  sql,
} from "kysely";
import type pg from "pg";
import type { Database } from "./database-schema.js";
import { inspectMigrations, migrateToLatest } from "./migrations.js";

export type WebDatabase = Kysely<Database>;

export interface OpenDatabaseOptions {
  /** PostgreSQL schema to use (tests isolate themselves in one); created when missing. */
  postgresSchema?: string;
  /** Where the migration steps and the pre-migration backup are logged. */
  logger?: Logger;
  /** better-sqlite3's open options for web.sqlite (tests open it read-only, as a file this user cannot write opens). */
  sqlite?: BetterSqlite3.Options;
  /** PostgreSQL: how long a query may go unanswered (QUERY_TIMEOUT_MS; tests shorten it). */
  queryTimeoutMs?: number;
}

/**
 * Opens the web service's database: PostgreSQL when web.databaseUrl is a postgres:// URL, else
 * SQLite at <dataDir>/web.sqlite (WAL, foreign keys on). Migrates to the latest schema, backing an
 * existing SQLite database up first (PostgreSQL: the operator's pg_dump is the backup).
 */
export async function openDatabase(
  config: HearthConfig,
  options: OpenDatabaseOptions = {},
): Promise<WebDatabase> {
  let db: WebDatabase;
  /** PostgreSQL: the migrations' own pool, without the query timeout (a step may rewrite every row of a table). */
  let migrating: Kysely<unknown> | undefined;
  const file = webDatabaseFile(config);
  const dialect = file ? "sqlite" : "postgres";
  /** PostgreSQL: the schema holding Hearth's tables. */
  const schemaName = options.postgresSchema ?? "public";
  if (!file) {
    const schema = options.postgresSchema;
    if (schema && !/^[a-z_][a-z0-9_]*$/.test(schema))
      throw new HearthError("CONFIG_INVALID", "invalid PostgreSQL schema name");
    const connection = {
      connectionString: config.web.databaseUrl,
      max: 10,
      ...(schema ? { options: `-c search_path=${schema}` } : {}),
    };
    const pool = webPostgresPool(
      { ...connection, query_timeout: options.queryTimeoutMs ?? QUERY_TIMEOUT_MS },
      options.logger,
    );
    if (schema) {
      const client = await pool.connect().catch((error: unknown) => {
        throw new HearthError(
          "DATABASE_UNAVAILABLE",
          `cannot connect to PostgreSQL: ${(error as Error).message}`,
          { cause: error },
        );
      });
      try {
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      } finally {
        client.release();
      }
    }
    db = new Kysely<Database>({
      dialect: new OneSchemaPostgresDialect({ pool: droppingTimedOutConnections(pool) }, schemaName),
    });
    migrating = new Kysely<unknown>({
      dialect: new OneSchemaPostgresDialect(
        { pool: webPostgresPool(connection, options.logger) },
        schemaName,
      ),
    });
  } else {
    mkdirSync(config.dataDir, PRIVATE_DIR);
    let sqlite: BetterSqlite3.Database | undefined;
    try {
      sqlite = new BetterSqlite3(file, options.sqlite);
      sqlite.pragma("journal_mode = WAL");
      sqlite.pragma("foreign_keys = ON");
      // WAL with NORMAL sync: no corruption on power loss, and no fsync on every commit (which made
      // each API call wait for the disk).
      sqlite.pragma("synchronous = NORMAL");
      sqlite.pragma("busy_timeout = 5000");
      probeSqliteWrite(sqlite);
    } catch (error) {
      sqlite?.close();
      throw (
        describeSqliteOpenError(file, error) ??
        new HearthError("DATABASE_UNAVAILABLE", `${file} could not be opened: ${(error as Error).message}`, {
          cause: error,
        })
      );
    }
    db = new Kysely<Database>({
      dialect: new TransactionalSqliteDialect({ database: nameDamagedSqlite(sqlite, file) }),
    });
  }
  try {
    await migrateToLatest(migrating ?? (db as Kysely<unknown>), dialect, {
      ...(dialect === "postgres" ? { schema: schemaName } : {}),
      ...(file ? { sqlite: { databasePath: file, dataDir: config.dataDir } } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
    });
  } catch (error) {
    await db.destroy();
    // A damaged or read-only file says so, also when a migration step is what came upon it.
    const cause = error instanceof HearthError && error.code === "MIGRATION_FAILED" ? error.cause : error;
    const described = file ? describeSqliteOpenError(file, cause) : undefined;
    if (described) throw described;
    if (error instanceof HearthError) throw error;
    throw new HearthError(
      "DATABASE_UNAVAILABLE",
      `the web database could not be opened: ${(error as Error).message}`,
      { cause: error },
    );
  } finally {
    await migrating?.destroy();
  }
  return db;
}

/**
 * PostgreSQL, with the schema introspection Kysely's migrator does (does its table exist?) looking
 * at Hearth's schema only. Kysely's own reads every schema of the database and checks each by name
 * (`has_schema_privilege`), which fails with "schema does not exist" when another schema is dropped
 * meanwhile: another deployment or a test run sharing the database could stop a start.
 */
class OneSchemaPostgresDialect extends PostgresDialect {
  constructor(
    config: PostgresDialectConfig,
    readonly schema: string,
  ) {
    super(config);
  }

  override createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    const schema = this.schema;
    return {
      async getSchemas() {
        const { rows } = await sql<{ name: string }>`
          SELECT nspname AS name FROM pg_catalog.pg_namespace WHERE nspname = ${schema}`.execute(db);
        return rows;
      },
      async getTables() {
        const { rows } = await sql<{ name: string }>`
          SELECT c.relname AS name FROM pg_catalog.pg_class c
          JOIN pg_catalog.pg_namespace ns ON ns.oid = c.relnamespace
          WHERE ns.nspname = ${schema} AND c.relkind IN ('r', 'p', 'v')`.execute(db);
        // What the migrator asks for (its tables' names and schema); columns are not read.
        return rows.map((row) => ({ name: row.name, schema, isView: false, columns: [] }));
      },
      async getMetadata() {
        return { tables: await this.getTables() };
      },
    };
  }
}

/**
 * How long a query of the web service may go unanswered before it fails as DATABASE_UNAVAILABLE.
 * Its queries are short (a page of rows, a count for a day's usage: milliseconds); 30 s is a dead
 * or stuck connection, not a slow query, and a request waiting on one would otherwise wait until
 * the connection came back, if ever. Migrations, which may rewrite a whole table, have no timeout.
 */
const QUERY_TIMEOUT_MS = 30_000;

/** node-postgres's error for a query that outlived its query_timeout. */
const QUERY_TIMED_OUT = "Query read timeout";

/**
 * `pool` as Kysely uses it, except that a connection whose query timed out is dropped rather than
 * given back: its query is still pending on it (node-postgres keeps waiting for the answer), so
 * every query given to it afterwards would wait behind that one, and time out in turn.
 */
function droppingTimedOutConnections(pool: pg.Pool): PostgresPool {
  return {
    async connect() {
      const client = await pool.connect();
      let timedOut = false;
      const query = async (text: string, parameters: ReadonlyArray<unknown>) => {
        try {
          return await client.query(text, [...parameters]);
        } catch (error) {
          if (error instanceof Error && error.message === QUERY_TIMED_OUT) timedOut = true;
          throw error;
        }
      };
      // The cursor form of query() is not wrapped: Kysely uses it only to stream, which this service does not.
      return { query, release: () => client.release(timedOut) } as unknown as PostgresPoolClient;
    },
    end: () => pool.end(),
  };
}

/** The web database's pool (core's `postgresPool`), its loss logged once per outage. */
function webPostgresPool(settings: pg.PoolConfig, logger?: Logger): pg.Pool {
  return postgresPool(
    settings,
    new OutageLog(
      logger,
      "a PostgreSQL connection of the web database was lost; requests fail with DATABASE_UNAVAILABLE until it is back",
    ),
  );
}

/**
 * SQLite, with its schema changes inside transactions, as SQLite allows (Kysely assumes it cannot):
 * the migrator then runs pending steps in one transaction, so a step that fails, or a process
 * killed half-way through one, leaves the schema as it was instead of a column added and the step
 * unrecorded, which would stop every later start.
 */
class TransactionalSqliteDialect extends SqliteDialect {
  override createAdapter() {
    return new (class extends SqliteAdapter {
      override get supportsTransactionalDdl() {
        return true;
      }
    })();
  }
}

/**
 * Where the web database's schema stands, read without changing anything (`hearth doctor`): the
 * steps applied and the steps this Hearth knows. SCHEMA_TOO_NEW for a database a newer Hearth
 * migrated; DATABASE_UNAVAILABLE when PostgreSQL cannot be reached. Undefined when the SQLite file
 * does not exist yet (the first start makes it).
 */
export async function inspectWebSchema(
  config: HearthConfig,
): Promise<{ where: string; applied: number; latest: number } | undefined> {
  const file = webDatabaseFile(config);
  if (file && !existsSync(file)) return undefined;
  const db = new Kysely<unknown>({
    dialect: file
      ? new SqliteDialect({ database: new BetterSqlite3(file, { readonly: true, fileMustExist: true }) })
      : new OneSchemaPostgresDialect(
          {
            pool: webPostgresPool({
              connectionString: config.web.databaseUrl,
              max: 1,
              connectionTimeoutMillis: 5000,
            }),
          },
          "public",
        ),
  });
  try {
    const status = await inspectMigrations(db, file ? "sqlite" : "postgres", {
      ...(file ? { sqlite: { databasePath: file, dataDir: config.dataDir } } : { schema: "public" }),
    });
    return { where: file ?? "the PostgreSQL web database", ...status };
  } catch (error) {
    if (error instanceof HearthError) throw error;
    throw (
      (file && describeSqliteOpenError(file, error)) ||
      new HearthError(
        "DATABASE_UNAVAILABLE",
        `the web database could not be read: ${(error as Error).message}`,
        { cause: error },
      )
    );
  } finally {
    await db.destroy();
  }
}
