import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Readable } from "node:stream";
import { createLogger, loadConfig } from "@hearth/core";
import { createWebService } from "@hearth/web";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { usersCommand } from "./users.js";

describe("hearth users", () => {
  const dirs: string[] = [];
  afterEach(() => {
    vi.unstubAllEnvs();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it("create-admin makes an administrator who can then sign in; list shows them", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "hearth-users-"));
    dirs.push(dataDir);
    vi.stubEnv("HEARTH_DATA_DIR", dataDir);
    vi.stubEnv("HEARTH_ADMIN_PASSWORD", "a strong password");
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    await usersCommand().parseAsync(["node", "users", "create-admin", "--username", "root"]);
    expect(log).toHaveBeenCalledWith("created administrator root");
    await usersCommand().parseAsync(["node", "users", "list"]);
    expect(String(log.mock.calls.at(-1)?.[0])).toMatch(/^root\tadmin\tactive\t/);
    log.mockRestore();

    const config = loadConfig({ env: { HEARTH_DATA_DIR: dataDir }, overrides: { logLevel: "silent" } });
    const web = await createWebService(config, createLogger({ level: "silent" }));
    try {
      const login = await web.app.inject({
        method: "POST",
        url: "/api/auth/login",
        payload: { username: "root", password: "a strong password" },
      });
      expect(login.json()).toMatchObject({ user: { username: "root", role: "admin" } });
    } finally {
      await web.close();
    }
  });
});

describe("hearth users create and reset-password", () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });
  /** Runs `hearth users ...` with `input` on a standard input that is not a terminal (a pipe). */
  const run = async (input: string, ...args: string[]) => {
    vi.spyOn(process, "stdin", "get").mockReturnValue(Readable.from([Buffer.from(input)]) as never);
    await usersCommand().parseAsync(["node", "users", ...args]);
  };

  it("creates a member who signs in, then resets their password from standard input, ending their sessions", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "hearth-users-reset-"));
    const config = loadConfig({ env: { HEARTH_DATA_DIR: dataDir }, overrides: { logLevel: "silent" } });
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    try {
      vi.stubEnv("HEARTH_DATA_DIR", dataDir);
      vi.stubEnv("HEARTH_ADMIN_PASSWORD", "root password 1");
      await usersCommand().parseAsync(["node", "users", "create-admin", "-u", "root"]);
      await run("first password 1\n", "create", "Mia");
      await run("boss password 1\n", "create", "ned", "--admin", "--password-stdin");
      expect(log.mock.calls.map(([line]) => line).slice(-3)).toEqual([
        "created administrator root",
        "created user Mia",
        "created administrator ned",
      ]);
      const web = await createWebService(config, createLogger({ level: "silent" }));
      const login = (username: string, password: string) =>
        web.app.inject({ method: "POST", url: "/api/auth/login", payload: { username, password } });
      try {
        expect((await login("mia", "first password 1")).json()).toMatchObject({ user: { role: "user" } });
        expect((await login("ned", "boss password 1")).json()).toMatchObject({ user: { role: "admin" } });
        const session = (await login("Mia", "first password 1")).headers["set-cookie"];
        const cookie = [session ?? []]
          .flat()
          .map((c) => c.split(";")[0])
          .join("; ");

        await run("second password 2\n", "reset-password", "MIA");
        expect(log.mock.calls.at(-1)?.[0]).toBe("reset the password of Mia; their sessions are signed out");
        expect((await login("mia", "first password 1")).json().error.code).toBe("INVALID_CREDENTIALS");
        expect((await login("mia", "second password 2")).statusCode).toBe(200);
        const ended = await web.app.inject({ url: "/api/conversations", headers: { cookie } });
        expect(ended.json().error.code).toBe("SESSION_EXPIRED");
        // Audited as the command's, without the password.
        const rows = await web.db.selectFrom("audit_log").select(["action", "actor_id", "details"]).execute();
        expect(rows).toContainEqual({
          action: "user.password-reset",
          actor_id: null,
          details: '{"via":"cli"}',
        });
        expect(JSON.stringify(rows)).not.toContain("password 2");
      } finally {
        await web.close();
      }
      // Never printed: only the lines above were.
      expect(JSON.stringify(log.mock.calls)).not.toContain("password 2");

      const errors: string[] = [];
      vi.spyOn(console, "error").mockImplementation((line) => errors.push(String(line)));
      vi.spyOn(process, "exit").mockImplementation((code) => {
        throw new Error(`exit ${code}`);
      });
      await expect(run("third password 3\n", "create", "mia")).rejects.toThrow("exit 1");
      await expect(run("short\n", "reset-password", "mia")).rejects.toThrow("exit 1");
      await expect(run("third password 3\n", "reset-password", "nobody")).rejects.toThrow("exit 1");
      expect(errors.map((line) => line.split(":")[0])).toEqual([
        "USERNAME_TAKEN",
        "WEAK_PASSWORD",
        "USER_NOT_FOUND",
      ]);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe("hearth users list with no accounts", () => {
  afterEach(() => vi.unstubAllEnvs());

  it("says there are none (on stderr, stdout stays empty) instead of printing nothing", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "hearth-users-empty-"));
    try {
      const config = loadConfig({ env: { HEARTH_DATA_DIR: dataDir }, overrides: { logLevel: "silent" } });
      await (await createWebService(config, createLogger({ level: "silent" }))).close();
      vi.stubEnv("HEARTH_DATA_DIR", dataDir);
      const log = vi.spyOn(console, "log").mockImplementation(() => {});
      const error = vi.spyOn(console, "error").mockImplementation(() => {});
      try {
        await usersCommand().parseAsync(["node", "users", "list"]);
        expect(log).not.toHaveBeenCalled();
        expect(error).toHaveBeenCalledWith(
          expect.stringMatching(/^no accounts yet: .*hearth users create-admin/),
        );
      } finally {
        log.mockRestore();
        error.mockRestore();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe("hearth users outside a Hearth data directory", () => {
  const dirs: string[] = [];
  let errors: string[];
  beforeEach(() => {
    errors = [];
    vi.spyOn(console, "error").mockImplementation((line) => errors.push(String(line)));
    vi.spyOn(process, "exit").mockImplementation((code) => {
      throw new Error(`exit ${code}`);
    });
  });
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const run = (...args: string[]) =>
    usersCommand()
      .parseAsync(["node", "users", ...args])
      .then(
        () => "exit 0",
        (error: Error) => error.message,
      );

  it("refuses a folder holding no web database for list and create-admin, creating nothing", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "hearth-users-other-"));
    dirs.push(dataDir);
    writeFileSync(join(dataDir, "notes.txt"), "not Hearth's");
    vi.stubEnv("HEARTH_DATA_DIR", dataDir);
    vi.stubEnv("HEARTH_ADMIN_PASSWORD", "a strong password");
    expect(await run("list")).toBe("exit 1");
    expect(errors[0]).toMatch(/^DATABASE_UNAVAILABLE: No web database \(web\.sqlite\) in /);
    expect(await run("create-admin", "-u", "root")).toBe("exit 1");
    expect(errors[1]).toMatch(/^DATABASE_UNAVAILABLE: .*only started in a new, empty data directory/);
    expect(readdirSync(dataDir)).toEqual(["notes.txt"]);
  });

  it("create-admin says it starts a new database in a new data directory", async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), "hearth-users-new-")), "data");
    dirs.push(dirname(dataDir));
    vi.stubEnv("HEARTH_DATA_DIR", dataDir);
    vi.stubEnv("HEARTH_ADMIN_PASSWORD", "a strong password");
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    expect(await run("create-admin", "-u", "root")).toBe("exit 0");
    expect(log.mock.calls.map(([line]) => line)).toEqual([
      `new data directory: created the web database ${join(dataDir, "web.sqlite")}`,
      "created administrator root",
    ]);
  });

  it("names a data directory that is a file with a stable code", async () => {
    const root = mkdtempSync(join(tmpdir(), "hearth-users-file-"));
    dirs.push(root);
    writeFileSync(join(root, "data"), "a file");
    vi.stubEnv("HEARTH_DATA_DIR", join(root, "data"));
    vi.stubEnv("HEARTH_ADMIN_PASSWORD", "a strong password");
    expect(await run("create-admin", "-u", "root")).toBe("exit 1");
    expect(await run("list")).toBe("exit 1");
    expect(errors).toHaveLength(2);
    for (const line of errors)
      expect(line).toMatch(/^DATA_DIR_NOT_WRITABLE: The data directory .* is not a directory/);
  });
});
