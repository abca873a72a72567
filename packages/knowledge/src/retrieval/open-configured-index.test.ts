import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openConfiguredIndex } from "./open-configured-index.js";

describe("openConfiguredIndex", () => {
  it("opens SQLite under the data directory by default", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "hearth-data-"));
    try {
      const backend = await openConfiguredIndex({ indexBackend: "sqlite" }, dataDir);
      expect(backend.name).toBe("sqlite");
      await backend.close();
      expect(existsSync(join(dataDir, "knowledge", "index.sqlite"))).toBe(true);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("names the missing variable when a server backend has no URL", async () => {
    await expect(openConfiguredIndex({ indexBackend: "postgres" }, "/tmp")).rejects.toThrow(
      /HEARTH_KNOWLEDGE_POSTGRES_URL/,
    );
    await expect(openConfiguredIndex({ indexBackend: "elasticsearch" }, "/tmp")).rejects.toMatchObject({
      code: "CONFIG_INVALID",
    });
  });
});
