import pg from "pg";
import type { Logger } from "../logging/logger.js";

/**
 * A database's loss, logged once per outage: the first failure is logged, the ones that follow are
 * not news until a connection opens again. Message and code only: the connection settings (and
 * their password) stay out of the log.
 */
export class OutageLog {
  #logged = false;

  constructor(
    readonly logger: Logger | undefined,
    /** What is lost and what fails meanwhile, in words. */
    readonly message: string,
  ) {}

  readonly lost = (error: unknown): void => {
    if (this.#logged) return;
    this.#logged = true;
    this.logger?.warn(
      { err: { message: (error as Error).message, code: (error as { code?: unknown }).code } },
      this.message,
    );
  };

  readonly recovered = (): void => {
    this.#logged = false;
  };
}

/**
 * A node-postgres pool that outlives its server. A pooled idle connection whose server goes away
 * (restart, failover, a cut link) makes the pool emit 'error', and a connection in use between two
 * queries (a transaction's, a migrator's) emits it itself: with no listener either ends the process.
 * Here both go to `outage`, and the queries that follow fail until the server is back. A server that
 * does not answer fails a connection attempt after 10 s instead of the system's TCP timeout; a
 * connection gone silent (a NAT or balancer that forgot it) is found by TCP keepalive, and a query on
 * it fails after its `query_timeout`, where one is set, instead of waiting for ever.
 */
export function postgresPool(settings: pg.PoolConfig, outage: OutageLog): pg.Pool {
  const pool = new pg.Pool({
    connectionTimeoutMillis: 10_000,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    ...settings,
  });
  pool.on("error", outage.lost);
  pool.on("connect", (client) => {
    outage.recovered();
    client.on("error", outage.lost);
  });
  return pool;
}
