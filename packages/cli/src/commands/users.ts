import { createInterface } from "node:readline/promises";
import { isHearthError, loadConfig } from "@hearth/core";
import { createAdminAccount, listAccounts } from "@hearth/web";
import { Command } from "commander";

async function readPassword(fromStdin: boolean): Promise<string> {
  if (fromStdin || !process.stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks)
      .toString("utf8")
      .replace(/\r?\n$/, "");
  }
  const prompt = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  // Hide what is typed: readline echoes through _writeToOutput.
  (prompt as unknown as { _writeToOutput: (text: string) => void })._writeToOutput = (text: string) => {
    if (text.includes("Password")) process.stderr.write(text);
  };
  try {
    return await prompt.question("Password: ");
  } finally {
    prompt.close();
    process.stderr.write("\n");
  }
}

function fail(error: unknown): never {
  console.error(isHearthError(error) ? error.toLine() : String(error));
  process.exit(1);
}

/** `hearth users`: accounts of the web service (create-admin, list). */
export function usersCommand(): Command {
  const users = new Command("users").description("manage web accounts (works while the service is stopped)");
  users
    .command("create-admin")
    .description("create an administrator, or promote an existing user and reset their password")
    .requiredOption("-u, --username <name>", "user name")
    .option("--password-stdin", "read the password from standard input (for scripts)")
    .action(async (options: { username: string; passwordStdin?: boolean }) => {
      try {
        const password =
          process.env.HEARTH_ADMIN_PASSWORD ?? (await readPassword(Boolean(options.passwordStdin)));
        const result = await createAdminAccount(loadConfig(), { username: options.username, password });
        console.log(
          result.created
            ? `created administrator ${result.username}`
            : `${result.username} is now an administrator (password reset)`,
        );
      } catch (error) {
        fail(error);
      }
    });
  users
    .command("list")
    .description("list accounts with their role and status")
    .action(async () => {
      try {
        for (const user of await listAccounts(loadConfig()))
          console.log(`${user.username}\t${user.role}\t${user.status}\t${user.created_at}`);
      } catch (error) {
        fail(error);
      }
    });
  return users;
}
