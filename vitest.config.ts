import { defineConfig } from "vitest/config";

// Tests import workspace packages from their TypeScript sources (the "source" export condition),
// so `vitest` needs no build; tests that spawn `hearth` use the built CLI (npm's pretest builds it).
export default defineConfig({
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"] } },
  test: {
    include: ["packages/*/src/**/*.test.ts", "packages/*/test/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    fileParallelism: true,
    maxWorkers: 2,
  },
});
