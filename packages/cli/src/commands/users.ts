import { readdirSync } from "node:fs";
import { join } from "node:path";
import { type HearthConfig, HearthError, isHearthError, loadConfig, webDatabaseFile } from "@hearth/core";
import { createAccount, createAdminAccount, listAccounts, resetAccountPassword } from "@hearth/web";
import { Command } from "commander";
import { type Messages, messages } from "../messages/index.js";

/**
 * The password for an account: asked on the terminal without echo, else (or with --password-stdin)
 * read from standard input, less one line end. Never echoed nor logged.
 */
async function readPassword(fromStdin: boolean, question = messages().passwordPrompt): Promise<string> {
  if (fromStdin || !process.stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks)
      .toString("utf8")
      .replace(/\r?\n$/, "");
  }
  return promptHidden(question, process.stdin, process.stderr);
}

/** Ctrl-C at a hidden prompt: the terminal is in raw mode, so no SIGINT arrives. */
class PromptInterrupted extends Error {}

/**
 * Asks for a secret on a terminal without showing it: the terminal goes to raw mode and keys are read
 * one by one (Backspace erases, Enter ends, Ctrl-C rejects with PromptInterrupted); nothing typed is echoed.
 */
function promptHidden(
  question: string,
  input: NodeJS.ReadableStream & { setRawMode?: (mode: boolean) => unknown },
  output: NodeJS.WritableStream,
): Promise<string> {
  // Raw mode before the question shows: keys typed the moment it appears are not echoed either.
  input.setRawMode?.(true);
  input.setEncoding("utf8");
  input.resume();
  output.write(question);
  return new Promise((resolve, reject) => {
    let typed: string[] = [];
    const finish = (error?: Error) => {
      input.off("data", onData);
      input.setRawMode?.(false);
      input.pause();
      output.write("\n");
      if (error) reject(error);
      else resolve(typed.join(""));
    };
    const onData = (chunk: string) => {
      if (chunk.startsWith("\u001b")) return; // arrow and function keys
      for (const key of chunk) {
        if (key === "\r" || key === "\n" || key === "\u0004") return finish();
        if (key === "\u0003") return finish(new PromptInterrupted("interrupted"));
        if (key === "\u007f" || key === "\b") typed = typed.slice(0, -1);
        else if (key === "\u0015")
          typed = []; // Ctrl-U
        else if (key >= " ") typed.push(key);
      }
    };
    input.on("data", onData);
  });
}

/**
 * Checks the data directory before opening the web database, which would create one anywhere: it must
 * hold one already, except that create-admin may start one in a new (missing or empty) data directory.
 * Returns the SQLite file to be created, or undefined when the database exists (or is PostgreSQL).
 */
function webDatabaseToCreate(config: HearthConfig, mayCreate: boolean, m: Messages): string | undefined {
  if (webDatabaseFile(config) === undefined) return undefined;
  const dir = config.dataDir;
  let entries: string[] | undefined;
  try {
    entries = readdirSync(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "ENOENT") {
      const reason = code === "ENOTDIR" ? m.dataDirNotADirectory : m.dataDirUnreadable(String(code));
      throw new HearthError("DATA_DIR_NOT_WRITABLE", m.dataDirProblem(dir, reason));
    }
  }
  if (entries?.includes("web.sqlite")) return undefined;
  if (mayCreate && !entries?.length) return join(dir, "web.sqlite");
  throw new HearthError("DATABASE_UNAVAILABLE", m.noWebDatabase(dir, mayCreate));
}

function fail(error: unknown): never {
  if (error instanceof PromptInterrupted) process.exit(130);
  console.error(isHearthError(error) ? messages().errorLine(error.toLine()) : String(error));
  process.exit(1);
}

/** `hearth users`: accounts of the web service (create, reset-password, create-admin, list). */
export function usersCommand(): Command {
  const m = messages();
  const users = new Command("users").description(m.usersDescription);
  users
    .command("create-admin")
    .description(m.usersCreateAdminDescription)
    .requiredOption("-u, --username <name>", m.usersUsernameOption)
    .option("--password-stdin", m.usersPasswordStdinOption)
    .action(async (options: { username: string; passwordStdin?: boolean }) => {
      try {
        const config = loadConfig();
        const newDatabase = webDatabaseToCreate(config, true, m);
        const password =
          process.env.HEARTH_ADMIN_PASSWORD ?? (await readPassword(Boolean(options.passwordStdin)));
        const result = await createAdminAccount(config, { username: options.username, password });
        if (newDatabase) console.log(m.createdWebDatabase(newDatabase));
        console.log(
          result.created ? m.createdAdministrator(result.username) : m.promotedAdministrator(result.username),
        );
      } catch (error) {
        fail(error);
      }
    });
  users
    .command("create <name>")
    .description(m.usersCreateDescription)
    .option("--admin", m.usersAdminOption)
    .option("--password-stdin", m.usersPasswordStdinOption)
    .action(async (name: string, options: { admin?: boolean; passwordStdin?: boolean }) => {
      try {
        const config = loadConfig();
        webDatabaseToCreate(config, false, m);
        const password = await readPassword(Boolean(options.passwordStdin));
        const role = options.admin ? "admin" : "user";
        const result = await createAccount(config, { username: name, password, role });
        if (result.role === role)
          console.log(
            role === "admin" ? m.createdAdministrator(result.username) : m.createdUser(result.username),
          );
        else console.log(m.createdFirstAdministrator(result.username));
      } catch (error) {
        fail(error);
      }
    });
  users
    .command("reset-password <name>")
    .description(m.usersResetPasswordDescription)
    .option("--password-stdin", m.usersPasswordStdinOption)
    .action(async (name: string, options: { passwordStdin?: boolean }) => {
      try {
        const config = loadConfig();
        webDatabaseToCreate(config, false, m);
        const password = await readPassword(Boolean(options.passwordStdin), m.newPasswordPrompt(name));
        const result = await resetAccountPassword(config, { username: name, password });
        console.log(m.passwordReset(result.username));
      } catch (error) {
        fail(error);
      }
    });
  users
    .command("list")
    .description(m.usersListDescription)
    .action(async () => {
      try {
        const config = loadConfig();
        webDatabaseToCreate(config, false, m);
        const accounts = await listAccounts(config);
        // Said on stderr: the list on stdout stays empty for scripts.
        if (accounts.length === 0) console.error(m.noAccounts);
        for (const user of accounts)
          console.log(`${user.username}\t${user.role}\t${user.status}\t${user.created_at}`);
      } catch (error) {
        fail(error);
      }
    });
  return users;
}
