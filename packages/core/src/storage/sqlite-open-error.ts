import { accessSync, constants, existsSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { HearthError } from "../errors/hearth-error.js";

/** SQLite's answers that mean this user may not write the file (or the files beside it). */
const READ_ONLY = /^SQLITE_(READONLY|PERM|AUTH)/;
/** SQLite's answers that mean the file's contents are damaged or not a database. */
const DAMAGED = /^SQLITE_(CORRUPT|NOTADB)/;

/**
 * Turns the error SQLite gave while opening (or first writing) a Hearth database into the stable
 * error an operator can act on, naming the file and the fix: a file this user cannot write is
 * DATA_DIR_NOT_WRITABLE, a damaged one DATABASE_UNAVAILABLE with the restore to run. Anything
 * else (already a HearthError, or not SQLite's) is returned as undefined for the caller to wrap.
 */
export function describeSqliteOpenError(file: string, error: unknown): HearthError | undefined {
  if (error instanceof HearthError) return undefined;
  const code = String((error as { code?: unknown })?.code ?? "");
  const message = (error as Error)?.message ?? String(error);
  if (READ_ONLY.test(code) || (code === "SQLITE_CANTOPEN" && /permission|access/i.test(message))) {
    const user = typeof process.getuid === "function" ? ` (uid ${process.getuid()})` : "";
    return new HearthError(
      "DATA_DIR_NOT_WRITABLE",
      `${file} cannot be written by this user${user}: ${message}; give the user Hearth runs as write access to the file, the -wal and -shm files beside it and its directory (chown, or chmod u+w), or set HEARTH_DATA_DIR`,
      { cause: error },
    );
  }
  if (DAMAGED.test(code)) {
    return new HearthError(
      "DATABASE_UNAVAILABLE",
      `${file} is damaged (${message}); stop Hearth and restore the latest backup (hearth restore <backup dir>), or move the file away to start with an empty database`,
      { cause: error },
    );
  }
  return undefined;
}

/**
 * Writes to an open SQLite database without changing it (its user_version, set to itself), so a
 * file the user cannot write fails here, at start-up, rather than on the first request. SQLite
 * opens such a file read-only without a word, and reads (the pragmas included) still succeed.
 */
export function probeSqliteWrite(db: { pragma(source: string, options?: { simple: true }): unknown }): void {
  const version = Number(db.pragma("user_version", { simple: true }));
  db.pragma(`user_version = ${version}`);
}

/** Whether this user may write a file (access(2): root may write any file whatever its mode). */
function userCanWrite(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * What `hearth doctor` finds wrong with a database file that exists, without changing it: it is
 * opened read-only and given SQLite's quick_check, and the file, its -wal and -shm files and its
 * directory must be writable by this user. Undefined when it is fine.
 */
export function inspectSqliteFile(
  file: string,
  canWrite: (path: string) => boolean = userCanWrite,
): HearthError | undefined {
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      const result = String(db.pragma("quick_check", { simple: true }));
      if (result !== "ok") {
        const error = Object.assign(new Error(`quick_check: ${result}`), { code: "SQLITE_CORRUPT" });
        return describeSqliteOpenError(file, error);
      }
    } finally {
      db.close();
    }
  } catch (error) {
    return (
      describeSqliteOpenError(file, error) ??
      new HearthError("DATABASE_UNAVAILABLE", `${file} could not be opened: ${(error as Error).message}`, {
        cause: error,
      })
    );
  }
  const unwritable = [file, `${file}-wal`, `${file}-shm`]
    .filter((path) => path === file || existsSync(path))
    .concat(dirname(file))
    .filter((path) => !canWrite(path));
  if (unwritable.length === 0) return undefined;
  const error = Object.assign(new Error(`${unwritable.join(", ")} not writable`), {
    code: "SQLITE_READONLY",
  });
  return describeSqliteOpenError(file, error);
}

/** The parts of a better-sqlite3 database that `nameDamagedSqlite` wraps. */
interface WrappableSqlite {
  prepare(source: string): unknown;
  exec(source: string): unknown;
  pragma(source: string, options?: { simple?: boolean }): unknown;
}

/** The methods of a better-sqlite3 statement that run its SQL (the others only set it up). */
interface SqlStatement {
  run(...parameters: unknown[]): unknown;
  get(...parameters: unknown[]): unknown;
  all(...parameters: unknown[]): unknown;
  iterate(...parameters: unknown[]): IterableIterator<unknown>;
}

/**
 * Makes every later call on an open SQLite database (its statements, exec, pragmas) that SQLite
 * answers with a damaged page (SQLITE_CORRUPT, SQLITE_NOTADB: "database disk image is malformed")
 * fail as DATABASE_UNAVAILABLE naming the file and its fix (describeSqliteOpenError), not as
 * SQLite's bare error: at start-up a one-line exit instead of an internal error with a stack, on
 * a request a 503 logged once. The only place a damaged page met after opening is named; other
 * errors pass unchanged. Returns the same database.
 *
 * Each statement is the one SQLite prepared, its methods that run SQL wrapped once at prepare:
 * pluck(), raw(), bind()... return the statement itself and so keep the wrapped methods.
 */
export function nameDamagedSqlite<T extends WrappableSqlite>(db: T, file: string): T {
  const rethrow = (error: unknown): never => {
    const code = String((error as { code?: unknown })?.code ?? "");
    if (DAMAGED.test(code)) throw describeSqliteOpenError(file, error) ?? error;
    throw error;
  };
  /** `call` on `self`, a damaged page it meets named. */
  const guarded =
    <A extends unknown[], R>(call: (...args: A) => R, self: unknown) =>
    (...args: A): R => {
      try {
        return call.apply(self, args);
      } catch (error) {
        return rethrow(error);
      }
    };
  const guardIterator = (iterator: IterableIterator<unknown>): IterableIterator<unknown> => ({
    next: guarded(iterator.next, iterator),
    return: guarded((value?: unknown) => iterator.return?.(value) ?? { done: true, value }, iterator),
    [Symbol.iterator]() {
      return this;
    },
  });
  const guardStatement = (statement: SqlStatement): SqlStatement => {
    statement.run = guarded(statement.run, statement);
    statement.get = guarded(statement.get, statement);
    statement.all = guarded(statement.all, statement);
    const iterate = guarded(statement.iterate, statement);
    statement.iterate = (...parameters) => guardIterator(iterate(...parameters));
    return statement;
  };
  const prepare = guarded(db.prepare, db) as (source: string) => SqlStatement;
  db.prepare = (source: string) => guardStatement(prepare(source));
  db.exec = guarded(db.exec, db);
  db.pragma = guarded(db.pragma, db);
  return db;
}
