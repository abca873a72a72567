import { execFileSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ENVIRONMENT, ERROR_CODES } from "@hearth/core";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { repoRoot } from "../support/shared-data.js";
import { available } from "./support/nginx.js";

const english = readFileSync(join(repoRoot, "docs/deployment.md"), "utf8");
const chinese = readFileSync(join(repoRoot, "docs/zh/deployment.md"), "utf8");

/** Rows of the troubleshooting table: [symptom, codes]. */
function troubleshooting(text: string): [string, string[]][] {
  const section = text.slice(text.lastIndexOf("\n## "));
  return section
    .split("\n")
    .filter((line) => /^\| [^-|]/.test(line) && line.includes("`"))
    .map((line) => {
      const cells = line.split("|").map((cell) => cell.trim());
      return [cells[1]!, [...cells[2]!.matchAll(/`([A-Z_]+)`/g)].map((match) => match[1]!)] as [
        string,
        string[],
      ];
    });
}

describe("docs/deployment.md", () => {
  const rows = troubleshooting(english);

  it("keys the troubleshooting table by codes Hearth really prints", () => {
    expect(rows.length).toBeGreaterThan(15);
    for (const [, codes] of rows) {
      expect(codes.length).toBeGreaterThan(0);
      for (const code of codes) expect(code in ERROR_CODES, code).toBe(true);
    }
  });

  it("covers the three failures operators meet first", () => {
    const codesFor = (symptom: string) =>
      rows.filter(([text]) => text === symptom).flatMap(([, codes]) => codes);
    expect(codesFor("model fails to load")).toEqual(
      expect.arrayContaining(["MODEL_LOAD_FAILED", "MODEL_MEMORY_INSUFFICIENT"]),
    );
    expect(codesFor("search returns nothing")).toEqual(
      expect.arrayContaining(["UPSTREAM_ERROR", "UPSTREAM_UNAVAILABLE", "SEARCH_ALL_PROVIDERS_FAILED"]),
    );
    expect(codesFor("knowledge update fails")).toEqual(expect.arrayContaining(["DATA_DIR_NOT_WRITABLE"]));
    // Every code this issue added is in the table.
    for (const code of [
      "BACKUP_FAILED",
      "BACKUP_INVALID",
      "BACKUP_CORRUPT",
      "RESTORE_FAILED",
      "MIGRATION_FAILED",
      "SCHEMA_TOO_NEW",
      "ALERT_DELIVERY_FAILED",
    ]) {
      expect(
        rows.some(([, codes]) => codes.includes(code)),
        code,
      ).toBe(true);
    }
  });

  it("names only files that exist and variables that Hearth or the deploy files read", () => {
    for (const text of [english, chinese]) {
      for (const [path] of text.matchAll(/(?<![\w/])(?:test\/)?deploy\/[\w./@-]+[\w]/g)) {
        // Files the operator creates: the TLS folder and the secrets file (only its .example is shipped).
        if (path.startsWith("deploy/tls") || path.endsWith("hearth-secrets.env")) continue;
        expect(existsSync(join(repoRoot, path.replace(/\.$/, ""))), path).toBe(true);
      }
      const deployText = [
        "deploy/compose.yaml",
        "deploy/sizing/8c-32g.env",
        "deploy/hybrid/compose.public.yaml",
        "deploy/k8s/overlays/cluster/hearth-secrets.env.example",
      ]
        .map((file) => readFileSync(join(repoRoot, file), "utf8"))
        .join("\n");
      const known = new Set(ENVIRONMENT.map((binding) => binding.env));
      for (const [variable] of text.matchAll(/HEARTH_[A-Z_]+/g)) {
        expect(known.has(variable) || deployText.includes(variable), variable).toBe(true);
      }
    }
  });
});

describe.each([
  ["docs/deployment.md", "## Single machine"],
  ["docs/zh/deployment.md", "## 单机"],
])("%s: nginx in front of a single machine", (file, heading) => {
  const text = readFileSync(join(repoRoot, file), "utf8");
  const section = text.slice(text.indexOf(heading), text.indexOf("\n## ", text.indexOf(heading) + 3));

  it("binds Hearth to loopback, trusts the proxy, and installs the site where Debian's nginx loads it, on ports 443 and 80", () => {
    expect(section).toContain("HEARTH_HOST=127.0.0.1");
    expect(section).toContain("HEARTH_TRUST_PROXY=true");
    expect(section).toContain("/etc/nginx/conf.d/hearth.conf");
    expect(section).toContain("/etc/nginx/snippets/");
    // Debian's default site would answer http:// with its welcome page instead of the redirect.
    expect(section).toContain("sudo rm -f /etc/nginx/sites-enabled/default");
    // Each sed substitution still finds its text in deploy/nginx/hearth.conf.
    const conf = readFileSync(join(repoRoot, "deploy/nginx/hearth.conf"), "utf8");
    const substitutions = [...section.matchAll(/-e 's\/([^/]+)\/([^/]+)\/'/g)];
    expect(substitutions.map((match) => match[2])).toEqual([
      "server 127.0.0.1:8080;",
      "listen 443 ssl http2;",
      "listen 80;",
    ]);
    for (const [, from] of substitutions) expect(conf, from).toContain(from);
  });
});

describe.each(["docs/deployment.md", "docs/zh/deployment.md"])("%s: the Kubernetes quick start", (file) => {
  it("creates the namespace before the TLS secret in it, replaces the placeholder token and names the Ingress host", () => {
    const text = readFileSync(join(repoRoot, file), "utf8");
    const start = text.indexOf("## Kubernetes");
    const block = text.slice(
      text.indexOf("```sh", start),
      text.indexOf("```\n", text.indexOf("```sh", start) + 5),
    );
    expect(block.indexOf("namespace.yaml")).toBeGreaterThan(0);
    expect(block.indexOf("namespace.yaml")).toBeLessThan(block.indexOf("create secret tls"));
    expect(block.indexOf("create secret tls")).toBeLessThan(block.indexOf("apply -k"));
    expect(block).toMatch(/sed -i "s\/\^HEARTH_SERVICE_TOKEN=/);
    expect(block).toContain("hearth.example.com");
    expect(readFileSync(join(repoRoot, "deploy/k8s/base/ingress.yaml"), "utf8")).toContain(
      "hearth.example.com",
    );
  });
});

describe("docs/zh/deployment.md", () => {
  it("has the same troubleshooting codes as the English guide", () => {
    const codes = (text: string) => new Set(troubleshooting(text).flatMap(([, list]) => list));
    expect(codes(chinese)).toEqual(codes(english));
    for (const heading of [
      "## Compose",
      "## Kubernetes",
      "## 混合云",
      "## 资源规划",
      "## 故障排查",
      "## 备份、恢复与升级",
    ])
      expect(chinese).toContain(heading);
  });
});

/** The text of a `## ` section, from its heading to the next. */
function section(text: string, heading: string): string {
  const start = text.indexOf(heading);
  expect(start, heading).toBeGreaterThanOrEqual(0);
  const end = text.indexOf("\n## ", start + 3);
  return text.slice(start, end < 0 ? undefined : end);
}

/** The ```sh blocks of a text, list indentation removed, as an operator copies them. */
function shellBlocks(text: string): string[] {
  return [...text.matchAll(/^( *)```sh\n([\s\S]*?)^\1```$/gm)].map(([, indent, body]) =>
    body!
      .split("\n")
      .map((line) => (line.startsWith(indent!) ? line.slice(indent!.length) : line))
      .join("\n"),
  );
}

/** Commands without their comments: what must be the same in both languages. */
const commands = (block: string) =>
  block
    .split("\n")
    .map((line) => line.replace(/(^|\s+)# .*$/, "").trimEnd())
    .filter(Boolean);

/** Every compose invocation in the docs: `docker compose …`, `docker-compose …` and `hc …`, in code. */
function composeCommands(text: string): string[] {
  const code = [...text.matchAll(/`([^`\n]+)`/g)].map((match) => match[1]!);
  for (const block of shellBlocks(text)) code.push(...commands(block));
  return code
    .flatMap((snippet) => [
      ...snippet.matchAll(/(?:docker compose|docker-compose|(?<![\w-])hc)(?: [^;`]*)?/g),
    ])
    .map((match) => match[0]!.trim());
}

describe.each(["docs/deployment.md", "docs/zh/deployment.md"])("%s: compose commands", (file) => {
  const text = readFileSync(join(repoRoot, file), "utf8");

  it("gives every compose command the project, the env file and the compose files, or goes through hc", () => {
    const found = composeCommands(text);
    expect(found.filter((command) => command.startsWith("hc ")).length).toBeGreaterThan(5);
    for (const command of found) {
      // Prose naming the tool ("write docker-compose for docker compose") is not a command.
      if (command === "docker compose" || command === "docker-compose" || command === "hc") continue;
      if (command.startsWith("hc ")) continue;
      // Without -p, compose run from deploy/ makes a project "deploy" with new, empty volumes;
      // without --env-file it reads neither the sizing nor the secrets.
      expect(command, file).toMatch(/ -p \S+/);
      expect(command, file).toMatch(/ --env-file \S+/);
      expect(command, file).toMatch(/ -f \S+/);
    }
  });
});

describe("docs/zh/deployment.md says what the English says", () => {
  const english = readFileSync(join(repoRoot, "docs/deployment.md"), "utf8");
  const chinese = readFileSync(join(repoRoot, "docs/zh/deployment.md"), "utf8");

  it("with the same shell blocks and the same compose commands", () => {
    expect(shellBlocks(chinese).map(commands)).toEqual(shellBlocks(english).map(commands));
    expect(composeCommands(chinese).sort()).toEqual(composeCommands(english).sort());
  });
});

/**
 * Runs documented shell blocks as an operator would, from a copy of the repository's root, with a
 * `docker` that needs no engine: `docker compose` is docker-compose (v1, which validates with
 * `config`), and a command that would start or touch containers renders the configuration instead.
 */
function operator() {
  const root = mkdtempSync(join(tmpdir(), "hearth-operator-"));
  mkdirSync(join(root, "deploy"));
  for (const entry of readdirSync(join(repoRoot, "deploy")))
    symlinkSync(join(repoRoot, "deploy", entry), join(root, "deploy", entry));
  writeFileSync(join(root, "fullchain.pem"), "certificate\n");
  writeFileSync(join(root, "privkey.pem"), "key\n");
  const bin = join(root, ".bin");
  mkdirSync(bin);
  writeFileSync(
    join(bin, "docker"),
    `#!/usr/bin/env bash
[ "$1" = compose ] || exit 0   # docker build, docker cp: not needed to render
shift
args=()
for arg in "$@"; do
  case "$arg" in
    up|restart|exec|ps|cp|stop|down|logs|pull|run) exec docker-compose "\${args[@]}" config > "$RENDERED" ;;
  esac
  args+=("$arg")
done
exec docker-compose "$@"
`,
  );
  chmodSync(join(bin, "docker"), 0o755);
  const rendered = join(root, "rendered.yaml");
  /** Runs a script in a new shell that has nothing from earlier ones but the files they wrote. */
  const run = (script: string) => {
    execFileSync("bash", ["-e", "-c", script], {
      cwd: root,
      env: { PATH: `${bin}:${process.env.PATH ?? ""}`, HOME: root, RENDERED: rendered },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const document = parse(readFileSync(rendered, "utf8")) as {
      services: Record<string, { cpus?: number; environment?: Record<string, string>; profiles?: string[] }>;
    };
    return document.services;
  };
  return { root, run };
}

const sizing = (name: string) =>
  Object.fromEntries(
    [...readFileSync(join(repoRoot, "deploy/sizing", name), "utf8").matchAll(/^([A-Z_]+)=(.*)$/gm)].map(
      (match) => [match[1]!, match[2]!],
    ),
  );

describe.skipIf(!available("docker-compose"))(
  "docs/deployment.md: the compose recipe, run as written",
  () => {
    const compose = section(readFileSync(join(repoRoot, "docs/deployment.md"), "utf8"), "## Compose");
    const blocks = shellBlocks(compose);
    const definition = (block: string) => {
      const line = block.split("\n").find((entry) => entry.startsWith("hc() {"));
      expect(line, "the block defines hc").toBeDefined();
      return line!;
    };

    it("reads the sizing and the secrets, and a later command in a new shell reads them too", () => {
      const { root, run } = operator();
      const quickStart = blocks[0]!;
      const sized = sizing("8c-32g.env");
      const check = (services: ReturnType<typeof run>) => {
        expect(Number(services.model!.cpus)).toBe(Number(sized.HEARTH_MODEL_CPUS));
        expect(services.model!.environment).toMatchObject({
          HEARTH_THREADS: sized.HEARTH_MODEL_THREADS,
          HEARTH_PARALLEL: sized.HEARTH_MODEL_PARALLEL,
          HEARTH_CONTEXT_SIZE: sized.HEARTH_CONTEXT_SIZE,
        });
        expect(Number(services.knowledge!.cpus)).toBe(Number(sized.HEARTH_KNOWLEDGE_CPUS));
        return services.model!.environment!.HEARTH_SERVICE_TOKEN;
      };
      const token = check(run(quickStart));
      expect(token).toMatch(/^[0-9a-f]{48}$/);
      // .env holds the token: root-only.
      expect(statSync(join(root, ".env")).mode & 0o077).toBe(0);
      // An upgrade's `hc up -d` (a restart, a backup alike): a new shell, with hc defined as the guide says.
      expect(check(run(`${definition(quickStart)}\nhc up -d`))).toBe(token);
    }, 240_000);

    it("with --profile scale-out, wires the passwords and the URLs into the services, with the scale-out sizing", () => {
      const { run } = operator();
      const block = blocks.find(
        (entry) => entry.includes("--profile scale-out") && entry.includes("cat >> .env"),
      );
      expect(block, "a scale-out recipe").toBeDefined();
      const services = run(block!);
      const password = services.postgres!.environment!.POSTGRES_PASSWORD!;
      const redis = services.redis!.environment!.REDIS_PASSWORD!;
      expect(password).toMatch(/^[0-9a-f]{48}$/);
      expect(redis).toMatch(/^[0-9a-f]{48}$/);
      expect(services.web!.environment!.HEARTH_DATABASE_URL).toBe(
        `postgres://hearth:${password}@postgres:5432/hearth`,
      );
      expect(services.search!.environment!.HEARTH_SEARCH_REDIS_URL).toBe(`redis://:${redis}@redis:6379`);
      expect(services.knowledge!.environment).toMatchObject({
        HEARTH_KNOWLEDGE_INDEX: "postgres",
        HEARTH_KNOWLEDGE_POSTGRES_URL: `postgres://hearth:${password}@postgres:5432/hearth`,
      });
      expect(Number(services.model!.cpus)).toBe(Number(sizing("8c-32g-scale-out.env").HEARTH_MODEL_CPUS));
      expect(services.model!.environment!.HEARTH_SERVICE_TOKEN).toMatch(/^[0-9a-f]{48}$/);
    }, 240_000);

    it("names every option in one hc: Ollama, the keys file and the scale-out profile together", () => {
      const { run } = operator();
      const full = blocks
        .flatMap((block) => block.split("\n"))
        .find((line) => line.startsWith("hc() {") && line.includes("compose.keys.yaml"));
      expect(full).toBeDefined();
      const services = run(
        `install -m 600 deploy/sizing/8c-32g-scale-out.env .env
printf 'HEARTH_SERVICE_TOKEN=0123456789abcdef0123\\nHEARTH_POSTGRES_PASSWORD=p\\nHEARTH_REDIS_PASSWORD=r\\nBING_API_KEY=bing\\n' >> .env
${full}
hc up -d`,
      );
      expect(Object.keys(services).sort()).toEqual(
        ["knowledge", "model", "nginx", "ollama", "postgres", "redis", "search", "web"].sort(),
      );
      expect(services.search!.environment!.BING_API_KEY).toBe("bing");
      expect(Number(services.ollama!.cpus)).toBe(Number(sizing("8c-32g-scale-out.env").HEARTH_OLLAMA_CPUS));
    }, 240_000);
  },
);

describe("KV-cache figures", () => {
  // f16 K and V for every layer and KV head: 2 x layers x KV heads x head dimension x 2 bytes a token.
  const perToken = (layers: number, kvHeads: number) => 2 * layers * kvHeads * 128 * 2;
  const models = {
    "1.5B": perToken(28, 2), // deepseek-r1:1.5b, a Qwen2 1.5B distill
    "7B": perToken(28, 4), // deepseek-r1:7b, a Qwen2 7B distill
  };
  const gigabytes = (bytes: number, digits: number) => (bytes / 1e9).toFixed(digits);

  it.each([
    ["8c-32g.env", "1.5B"],
    ["8c-32g-scale-out.env", "1.5B"],
    ["16c-64g.env", "7B"],
    ["16c-64g-scale-out.env", "7B"],
  ] as const)("%s states the KV cache its slots and context take (%s)", (file, model) => {
    const text = readFileSync(join(repoRoot, "deploy/sizing", file), "utf8");
    const values = sizing(file);
    const stated = /KV cache for (\d+) slots x (\d+)k context ~([\d.]+) GB/.exec(text);
    expect(stated, file).not.toBeNull();
    expect(stated![1]).toBe(values.HEARTH_MODEL_PARALLEL);
    expect(Number(stated![2]) * 1024).toBe(Number(values.HEARTH_CONTEXT_SIZE));
    const bytes = models[model] * Number(values.HEARTH_CONTEXT_SIZE) * Number(values.HEARTH_MODEL_PARALLEL);
    expect(Math.abs(Number(stated![3]) - bytes / 1e9) / (bytes / 1e9)).toBeLessThan(0.05);
  });

  it.each(["docs/deployment.md", "docs/zh/deployment.md"])("%s gives the same figures", (file) => {
    const text = section(
      readFileSync(join(repoRoot, file), "utf8"),
      file.includes("/zh/") ? "## 资源规划" : "## Sizing",
    );
    expect(text).toContain(`${models["1.5B"] / 1024} KiB`);
    expect(text).toContain(`${models["7B"] / 1024} KiB`);
    expect(text).toContain(`${gigabytes(models["1.5B"] * 8192, 2)} GB`);
    expect(text).toContain(`${gigabytes(models["7B"] * 8192, 2)} GB`);
    expect(text).toContain(`${gigabytes(models["1.5B"] * 8192 * 2, 2)} GB`);
    expect(text).toContain(`${gigabytes(models["7B"] * 8192 * 4, 1)} GB`);
  });
});
