import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ERROR_CODES } from "./error-codes.js";

describe("the error code catalogue", () => {
  it("documents every code in docs/errors.md, so users can look any code up", () => {
    const documentation = readFileSync(new URL("../../../../docs/errors.md", import.meta.url), "utf8");
    const undocumented = Object.keys(ERROR_CODES).filter(
      (code) => !new RegExp(`\\|\\s*\`${code}\`\\s*\\|`).test(documentation),
    );
    expect(undocumented).toEqual([]);
  });

  it("uses HTTP error statuses only", () => {
    for (const [code, entry] of Object.entries(ERROR_CODES)) {
      expect(entry.status, code).toBeGreaterThanOrEqual(400);
      expect(entry.status, code).toBeLessThan(600);
    }
  });
});
