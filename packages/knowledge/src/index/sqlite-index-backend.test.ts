import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { describeIndexBackendContract } from "./index-backend-contract.fixture.js";
import { openSqliteIndex } from "./sqlite-index-backend.js";

const folder = mkdtempSync(join(tmpdir(), "hearth-sqlite-index-"));
const path = join(folder, "nested", "index.sqlite");
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describeIndexBackendContract("sqlite", {
  open: () => openSqliteIndex({ path }),
  async reopen(backend) {
    await backend.close();
    return openSqliteIndex({ path });
  },
});
