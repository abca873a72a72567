import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
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
