import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createLogger, createServiceApp } from "@hearth/core";
import { describe, expect, it } from "vitest";
import { freePort } from "../support/ports.js";
import { repoRoot } from "../support/shared-data.js";

interface Stage {
  name: string;
  from: string;
  instructions: { keyword: string; args: string }[];
}

/** A small Dockerfile reader: line continuations joined, comments dropped, split into stages. */
function readDockerfile(text: string): { args: Record<string, string>; stages: Stage[] } {
  const lines = text
    .replace(/\\\r?\n/g, " ")
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, keyword = "", rest = ""] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const upper = keyword.toUpperCase();
    if (upper === "FROM") {
      const match = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest)!;
      stages.push({ from: match[1]!, name: match[2] ?? String(stages.length), instructions: [] });
    } else if (upper === "ARG" && stages.length === 0) {
      const [name, value = ""] = rest.split("=");
      args[name!] = value;
    } else {
      stages.at(-1)?.instructions.push({ keyword: upper, args: rest });
    }
  }
  return { args, stages };
}

const dockerfile = readDockerfile(readFileSync(join(repoRoot, "deploy/Dockerfile"), "utf8"));
const runtime = dockerfile.stages.at(-1)!;
const instructions = (stage: Stage, keyword: string) =>
  stage.instructions.filter((instruction) => instruction.keyword === keyword);

describe("deploy/Dockerfile", () => {
  it("is multi-stage on the current Node.js LTS, and the runtime stage builds nothing", () => {
    expect(dockerfile.stages.map((stage) => stage.name)).toEqual(["deps", "build", "prod-deps", "runtime"]);
    expect(Number(dockerfile.args.NODE_VERSION)).toBeGreaterThanOrEqual(26);
    expect(runtime.from).toBe(["node:$", "{NODE_VERSION}-trixie-slim"].join(""));
    // Every COPY --from names an earlier stage.
    const names = dockerfile.stages.map((stage) => stage.name);
    for (const copy of dockerfile.stages.flatMap((stage) => instructions(stage, "COPY"))) {
      const from = /--from=(\S+)/.exec(copy.args)?.[1];
      if (from) expect(names).toContain(from);
    }
    const runs = instructions(runtime, "RUN")
      .map((run) => run.args)
      .join("\n");
    expect(runs).not.toMatch(/npm (ci|install)|g\+\+|make/);
  });

  it("ships production dependencies only", () => {
    const prodDeps = dockerfile.stages.find((stage) => stage.name === "prod-deps")!;
    expect(
      instructions(prodDeps, "RUN")
        .map((run) => run.args)
        .join("\n"),
    ).toMatch(/npm prune --omit=dev/);
    const nodeModules = instructions(runtime, "COPY").find((copy) => copy.args.includes("node_modules"));
    expect(nodeModules?.args).toMatch(/^--from=prod-deps /);
  });

  it("leaves out node-llama-cpp's GPU binaries, which the CPU-only runtime never loads", () => {
    const prodDeps = dockerfile.stages.find((stage) => stage.name === "prod-deps")!;
    const runs = instructions(prodDeps, "RUN")
      .map((run) => run.args)
      .join("\n");
    for (const flavour of ["*-cuda", "*-cuda-ext", "*-vulkan"])
      expect(runs).toContain(`node_modules/@node-llama-cpp/${flavour}`);
    expect(runs).not.toMatch(/@node-llama-cpp\/linux-x64(\s|$)/);
    // Safe only while every llama.cpp load asks for the CPU build.
    const runtimeSource = readFileSync(
      join(repoRoot, "packages/model/src/runtime/embedded/embedded-runtime.ts"),
      "utf8",
    );
    const calls = [...runtimeSource.matchAll(/getLlama\(\{([^}]*)/g)];
    expect(calls.length).toBeGreaterThan(0);
    for (const [, options] of calls) expect(options).toMatch(/gpu: false/);
  });

  it("installs the dependencies of every workspace package", () => {
    const workspaces = (
      JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { workspaces: string[] }
    ).workspaces;
    const copied = instructions(dockerfile.stages[0]!, "COPY").map((copy) => copy.args.split(/\s+/)[0]);
    for (const workspace of workspaces) expect(copied).toContain(`${workspace}/package.json`);
  });

  it("runs as a non-root user, with data and models on volumes and a health check", () => {
    const user = instructions(runtime, "USER").at(-1)?.args ?? "root";
    expect(user).toMatch(/^[1-9]\d*:[1-9]\d*$/);
    expect(
      instructions(runtime, "VOLUME")
        .map((volume) => volume.args)
        .join(" "),
    ).toMatch(/"\/data".*"\/models"/);
    expect(instructions(runtime, "HEALTHCHECK")).toHaveLength(1);
    expect(instructions(runtime, "HEALTHCHECK")[0]!.args).toMatch(
      /CMD \["node", "\/app\/deploy\/healthcheck\.mjs"\]/,
    );
    expect(instructions(runtime, "ENTRYPOINT")[0]!.args).toBe('["node", "/app/packages/cli/dist/main.js"]');
  });

  it("bakes no model, secret or data into the image", () => {
    const ignored = readFileSync(join(repoRoot, "deploy/Dockerfile.dockerignore"), "utf8").split("\n");
    for (const pattern of ["**/*.gguf", "**/.env", "data", "**/node_modules", "**/*.key", "deploy/tls"])
      expect(ignored).toContain(pattern);
    const everything = dockerfile.stages
      .flatMap((stage) => stage.instructions.map((instruction) => instruction.args))
      .join("\n");
    expect(everything).not.toMatch(/\.gguf|ollama pull|HEARTH_SERVICE_TOKEN=/);
  });
});

describe("deploy/healthcheck.mjs", () => {
  const run = (env: Record<string, string>) =>
    new Promise<number>((resolve) => {
      execFile(
        process.execPath,
        [join(repoRoot, "deploy/healthcheck.mjs")],
        { env: { PATH: process.env.PATH ?? "", ...env } },
        (error) => resolve(error ? Number((error as { code?: number }).code ?? 1) : 0),
      );
    });

  it("passes while the container's service answers /healthz and fails when it does not", async () => {
    const { app } = createServiceApp({
      service: "model",
      logger: createLogger({ level: "silent" }),
      serviceToken: "a-token-of-sixteen-plus",
    });
    // Not listen(0): once the app closes, another test's listen(0) could take that port and answer.
    const port = String(await freePort());
    await app.listen({ host: "127.0.0.1", port: Number(port) });
    try {
      expect(await run({ HEARTH_SERVICE: "model", HEARTH_MODEL_PORT: port })).toBe(0);
      // Another service's port answers for another service: not healthy.
      expect(await run({ HEARTH_SERVICE: "search", HEARTH_SEARCH_PORT: port })).toBe(1);
    } finally {
      await app.close();
    }
    expect(await run({ HEARTH_SERVICE: "model", HEARTH_MODEL_PORT: port })).toBe(1);
  });

  it("finds the service from the container's command line", async () => {
    const { serviceFromArgs, healthUrl } = await import("../../deploy/healthcheck.mjs");
    expect(
      serviceFromArgs([
        "/sbin/docker-init",
        "--",
        "node",
        "/app/packages/cli/dist/main.js",
        "serve",
        "knowledge",
      ]),
    ).toBe("knowledge");
    expect(serviceFromArgs(["node", "/app/packages/cli/dist/main.js", "up"])).toBe("web");
    expect(healthUrl("knowledge", { HEARTH_KNOWLEDGE_PORT: "9000" })).toBe("http://127.0.0.1:9000/healthz");
    expect(healthUrl("search", {})).toBe("http://127.0.0.1:8082/healthz");
  });
});
