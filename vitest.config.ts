import { defineConfig } from "vitest/config";

const include = ["packages/*/src/**/*.test.ts", "packages/*/test/**/*.test.ts", "test/**/*.test.ts"];

/**
 * Test files that replace a module with `vi.mock`: a mock applies only where the module is first
 * imported, so these run in a fresh module graph of their own.
 */
const replacesModules = [
  "packages/core/src/storage/backup-errors.test.ts",
  "packages/model/test/llama-binary.test.ts",
  "packages/model/test/registry-adoption.test.ts",
  "packages/model/test/rescan-failure.test.ts",
];

// Tests import workspace packages from their TypeScript sources (the "source" export condition),
// so `vitest` needs no build; tests that spawn `hearth` use the built CLI (npm's pretest builds it).
// Every other file shares its worker's loaded modules with the files before it (`isolate: false`):
// loading the services' modules afresh for each of ~200 files took a third of the suite's time. A
// test file therefore leaves no state behind: it closes what it starts and restores what it changes.
export default defineConfig({
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"] } },
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    fileParallelism: true,
    // Three on CI's 2 cores: the suite leaves the CPUs idle about half its time (tests wait on
    // browsers, timers and sockets): with a third worker a full run took 482 and 523 s, against
    // 554 s with two on the same machine.
    maxWorkers: 3,
    // The `hearth` command speaks English to tests (and to the commands they start) even on a
    // machine whose locale is Chinese: tests match its English lines. Its Chinese is tested with
    // HEARTH_LANG or LANG given (test/cli/cli-language.test.ts).
    env: { HEARTH_LANG: "en" },
    // What a test stubs goes back after it, so that no later file in the worker sees it.
    unstubEnvs: true,
    unstubGlobals: true,
    projects: [
      { extends: true, test: { name: "shared", include, exclude: replacesModules, isolate: false } },
      { extends: true, test: { name: "isolated", include: replacesModules, isolate: true } },
    ],
  },
});
