import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, loadConfig } from "@hearth/core";
import { createWebService } from "@hearth/web";
import { afterEach, describe, expect, it, vi } from "vitest";
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
