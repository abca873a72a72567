import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "@hearth/core";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { repoRoot } from "../support/shared-data.js";

/** Validates deploy/compose.yaml with Debian's docker-compose (v1), which needs no engine. */
const hasCompose = (() => {
  try {
    execFileSync("docker-compose", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

interface ComposeService {
  image: string;
  ports?: unknown[];
  networks?: Record<string, unknown>;
  /** `source:target:mode` (compose v1 prints the short form). */
  volumes?: string[];
  read_only?: boolean;
  user?: string;
  cap_drop?: string[];
  cap_add?: string[];
  security_opt?: string[];
  command?: string[];
  cpus?: number;
  mem_limit?: string | number;
  mem_reservation?: string | number;
  profiles?: string[];
  environment?: Record<string, string>;
}

/**
 * `docker-compose config` of deploy/compose.yaml with a sizing file, the profiles, and further
 * compose files of deploy/ after it (compose.ollama.yaml, compose.keys.yaml), or of another main
 * file (`main`, e.g. hybrid/compose.private.yaml).
 */
function config(
  sizing: string,
  profiles: string[] = [],
  env: Record<string, string> = { HEARTH_SERVICE_TOKEN: "0123456789abcdef0123" },
  files: string[] = [],
  main = "compose.yaml",
) {
  const output = execFileSync(
    "docker-compose",
    [
      "--env-file",
      join(repoRoot, "deploy/sizing", sizing),
      ...[main, ...files].flatMap((file) => ["-f", join(repoRoot, "deploy", file)]),
      ...profiles.flatMap((profile) => ["--profile", profile]),
      "config",
    ],
    { env: { PATH: process.env.PATH ?? "", ...env }, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
  );
  const document = parse(output) as {
    services: Record<string, ComposeService>;
    networks: Record<string, { internal?: boolean }>;
    volumes: Record<string, unknown>;
  };
  // docker-compose v1 prints services of inactive profiles too; keep what `up` would start.
  const services = Object.fromEntries(
    Object.entries(document.services).filter(
      ([, service]) => !service.profiles || service.profiles.some((profile) => profiles.includes(profile)),
    ),
  );
  return { ...document, services };
}

const bytes = (value: string | number | undefined) => {
  if (typeof value === "number") return value;
  const match = /^(\d+(?:\.\d+)?)([kmg]?)b?$/i.exec(value ?? "");
  if (!match) return Number.NaN;
  return (
    Number(match[1]) * 1024 ** { "": 0, k: 1, m: 2, g: 3 }[match[2]!.toLowerCase() as "" | "k" | "m" | "g"]
  );
};

const HEARTH = ["model", "search", "knowledge", "web"];

/** The runtime stage's `ENV` of deploy/Dockerfile: what every container starts with. */
function imageEnvironment(): Record<string, string> {
  const dockerfile = readFileSync(join(repoRoot, "deploy/Dockerfile"), "utf8").replace(/\\\n/g, " ");
  const runtime = dockerfile.slice(dockerfile.indexOf("AS runtime"));
  const environment: Record<string, string> = {};
  for (const line of runtime.split("\n").filter((entry) => entry.startsWith("ENV "))) {
    for (const [, name, value] of line.slice(4).matchAll(/([A-Z_][A-Z0-9_]*)=(\S*)/g))
      environment[name!] = value!;
  }
  return environment;
}

/** The host path a container path lies at, through the service's bind mounts (`source:target[:mode]`). */
function hostPath(service: ComposeService, containerPath: string): string | undefined {
  for (const volume of service.volumes ?? []) {
    const [source, target] = volume.split(":");
    if (source!.startsWith("/") && (containerPath === target || containerPath.startsWith(`${target}/`)))
      return source + containerPath.slice(target!.length);
  }
  return undefined;
}

/**
 * What the container's `hearth serve` sees: the image's ENV, then the service's environment; the
 * configuration file named by HEARTH_CONFIG is read from the host directory mounted there.
 */
function containerEnvironment(
  service: ComposeService,
  extra: Record<string, string> = {},
): Record<string, string> {
  const environment: Record<string, string> = { ...imageEnvironment(), ...service.environment, ...extra };
  if (environment.HEARTH_CONFIG) {
    const file = hostPath(service, environment.HEARTH_CONFIG);
    expect(file, `${environment.HEARTH_CONFIG} is mounted`).toBeDefined();
    environment.HEARTH_CONFIG = file!;
  }
  return environment;
}

describe.skipIf(!hasCompose)("deploy/compose.yaml (docker-compose config)", () => {
  it.each([
    ["8c-32g.env", 8, 32, [], []],
    ["16c-64g.env", 16, 64, [], []],
    ["8c-32g-scale-out.env", 8, 32, ["scale-out"], []],
    ["16c-64g-scale-out.env", 16, 64, ["scale-out"], []],
    // Ollama runs the model: it takes the model's share, the model container keeps a little.
    ["8c-32g.env", 8, 32, ["ollama"], ["compose.ollama.yaml"]],
    ["16c-64g.env", 16, 64, ["ollama"], ["compose.ollama.yaml"]],
    ["8c-32g-scale-out.env", 8, 32, ["ollama", "scale-out"], ["compose.ollama.yaml"]],
    ["16c-64g-scale-out.env", 16, 64, ["ollama", "scale-out"], ["compose.ollama.yaml"]],
  ])(
    "fits the %s target (%i cores, %i GB, profiles %j, files %j) with room for the host, as its comment says",
    (sizing, cores, gigabytes, profiles, files) => {
      const { services } = config(
        sizing,
        profiles,
        {
          HEARTH_SERVICE_TOKEN: "0123456789abcdef0123",
          HEARTH_POSTGRES_PASSWORD: "pg-secret",
          HEARTH_REDIS_PASSWORD: "redis-secret",
        },
        files,
      );
      const ollama = profiles.includes("ollama");
      expect(Object.keys(services).sort()).toEqual(
        [
          "knowledge",
          "model",
          "nginx",
          "search",
          "web",
          ...(profiles.includes("scale-out") ? ["postgres", "redis"] : []),
          ...(ollama ? ["ollama"] : []),
        ].sort(),
      );
      const totalCpus = Object.values(services).reduce((sum, service) => sum + Number(service.cpus), 0);
      const totalMemory = Object.values(services).reduce((sum, service) => sum + bytes(service.mem_limit), 0);
      // docs/deployment.md: at least half a core and 10% of memory are left to the host.
      expect(totalCpus).toBeLessThanOrEqual(cores - 0.5);
      expect(totalMemory).toBeLessThanOrEqual(gigabytes * 1024 ** 3 * 0.9);
      // The file's own comment gives the sums.
      const comment = readFileSync(join(repoRoot, "deploy/sizing", sizing), "utf8");
      const stated = /Sum of limits: ([\d.]+) cores of (\d+)[\s\S]*?([\d.]+) GB of (\d+)/.exec(comment)!;
      expect(stated, "the comment states the sums").not.toBeNull();
      expect(Number(stated[1])).toBe(totalCpus);
      expect(Number(stated[3]) * 1024 ** 3).toBe(totalMemory);
      const sizingValues = Object.fromEntries(
        [...comment.matchAll(/^([A-Z_]+)=(.*)$/gm)].map((match) => [match[1]!, match[2]!]),
      );
      if (ollama) {
        // Ollama gets the sizing file's share for it; the model container only passes requests on.
        expect(Number(services.ollama!.cpus)).toBe(Number(sizingValues.HEARTH_OLLAMA_CPUS));
        expect(bytes(services.ollama!.mem_limit)).toBe(bytes(sizingValues.HEARTH_OLLAMA_MEMORY));
        // Together, the model's share of the sizing file: no CPU or memory counted twice.
        expect(Number(services.ollama!.cpus) + Number(services.model!.cpus)).toBe(
          Number(sizingValues.HEARTH_MODEL_CPUS),
        );
        expect(bytes(services.ollama!.mem_limit) + bytes(services.model!.mem_limit)).toBe(
          bytes(sizingValues.HEARTH_MODEL_MEMORY),
        );
        expect(Number(services.model!.cpus)).toBeLessThanOrEqual(0.5);
        expect(Number(services.model!.environment!.HEARTH_THREADS)).toBe(1);
        expect(services.ollama!.environment).toMatchObject({
          OLLAMA_NUM_PARALLEL: sizingValues.HEARTH_MODEL_PARALLEL,
          OLLAMA_CONTEXT_LENGTH: sizingValues.HEARTH_CONTEXT_SIZE,
        });
      } else {
        // The model gets the lion's share, and llama.cpp threads match its CPUs.
        expect(Number(services.model!.cpus)).toBeGreaterThanOrEqual(cores / 2);
        expect(Number(services.model!.environment!.HEARTH_THREADS)).toBe(Number(services.model!.cpus));
      }
    },
  );

  it("wires --profile scale-out into the services when its URLs are set, and keeps SQLite when they are not", () => {
    const base = {
      HEARTH_SERVICE_TOKEN: "0123456789abcdef0123",
      HEARTH_POSTGRES_PASSWORD: "pg-secret",
      HEARTH_REDIS_PASSWORD: "redis-secret",
    };
    const load = (service: ComposeService) =>
      loadConfig({ env: containerEnvironment(service), cwd: mkdtempSync(join(tmpdir(), "hearth-compose-")) });
    const plain = config("8c-32g-scale-out.env", ["scale-out"], base).services;
    expect(load(plain.web!).web.databaseUrl).toBeUndefined();
    expect(load(plain.search!).search.redis).toBeUndefined();
    expect(load(plain.knowledge!).knowledge.indexBackend).toBe("sqlite");

    const { services } = config("8c-32g-scale-out.env", ["scale-out"], {
      ...base,
      HEARTH_DATABASE_URL: "postgres://hearth:pg-secret@postgres:5432/hearth",
      HEARTH_SEARCH_REDIS_URL: "redis://:redis-secret@redis:6379",
      HEARTH_KNOWLEDGE_INDEX: "postgres",
      HEARTH_KNOWLEDGE_POSTGRES_URL: "postgres://hearth:pg-secret@postgres:5432/hearth",
    });
    expect(load(services.web!).web.databaseUrl).toBe("postgres://hearth:pg-secret@postgres:5432/hearth");
    expect(load(services.search!).search.redis?.url).toBe("redis://:redis-secret@redis:6379");
    const knowledge = load(services.knowledge!).knowledge;
    expect(knowledge.indexBackend).toBe("postgres");
    expect(knowledge.indexPostgresUrl).toBe("postgres://hearth:pg-secret@postgres:5432/hearth");
  });

  it("publishes nginx only, HTTPS and the plain HTTP that redirects to it, on an internal network, with the services locked down", () => {
    const { services, networks, volumes } = config("8c-32g.env");
    for (const [name, service] of Object.entries(services)) {
      if (name === "nginx") expect(service.ports, name).toBeDefined();
      else expect(service.ports, name).toBeUndefined();
    }
    // deploy/nginx/hearth.conf listens on 8443 (TLS) and 8000 (the redirect to https://).
    expect(services.nginx!.ports).toEqual([
      { published: 443, target: 8443 },
      { published: 80, target: 8000 },
    ]);
    expect(networks.internal!.internal).toBe(true);
    for (const name of HEARTH) {
      const service = services[name]!;
      expect(service.read_only, name).toBe(true);
      expect(service.user, name).toBe("10001:10001");
      expect(service.cap_drop, name).toEqual(["ALL"]);
      expect(service.environment!.HEARTH_SERVICE_TOKEN).toBe("0123456789abcdef0123");
      // Named volumes only (no bind mounts of host paths) for the data; the configuration
      // directory is the one bind mount, read-only.
      for (const volume of service.volumes!) {
        const [source, target, mode] = volume.split(":");
        if (target === "/etc/hearth") expect(mode, name).toBe("ro");
        else expect(Object.hasOwn(volumes, source!), `${name}: ${volume}`).toBe(true);
      }
      expect(service.environment!.HEARTH_CONFIG, name).toBe("/etc/hearth/hearth.yaml");
      // Only search (its providers) and web (alert webhooks) may reach out; model and knowledge never.
      expect(Object.keys(service.networks!).sort(), name).toEqual(
        ["search", "web"].includes(name) ? ["egress", "internal"] : ["internal"],
      );
    }
    expect(services.web!.environment!.HEARTH_MODEL_URL).toBe("http://model:8081");
    expect(services.model!.volumes!.map((volume) => volume.split(":")[1]).sort()).toEqual([
      "/data",
      "/etc/hearth",
      "/models",
    ]);
  });

  it("offers Ollama (the ollama profile with deploy/compose.ollama.yaml) and PostgreSQL/Redis (a profile) as options", () => {
    const { services } = config("16c-64g.env", ["ollama", "scale-out"], undefined, ["compose.ollama.yaml"]);
    expect(services.ollama!.image).toMatch(/^ollama\/ollama:\d/);
    expect(services.model!.environment!.OLLAMA_HOST).toBe("http://ollama:11434");
    expect(services.postgres!.image).toMatch(/pgvector/);
    expect(services.redis!.image).toMatch(/^redis:/);
    for (const name of ["ollama", "postgres", "redis"]) expect(services[name]!.ports, name).toBeUndefined();
  });

  it.each([
    ["8c-32g.env", []],
    ["16c-64g.env", []],
    ["8c-32g.env", ["scale-out"]],
    ["16c-64g.env", ["ollama"], ["compose.ollama.yaml"]],
  ])(
    "gives every Hearth service (%s, profiles %j, files %j) an environment its configuration loads from, without warnings",
    (sizing, profiles, files = []) => {
      // The quick start of docs/deployment.md: only the token (and the passwords a profile needs).
      const { services } = config(
        sizing,
        profiles,
        {
          HEARTH_SERVICE_TOKEN: "0123456789abcdef0123",
          HEARTH_POSTGRES_PASSWORD: "pg-secret",
          HEARTH_REDIS_PASSWORD: "redis-secret",
        },
        files,
      );
      for (const name of HEARTH) {
        const warnings: string[] = [];
        const environment = containerEnvironment(services[name]!);
        expect(
          () =>
            loadConfig({
              env: environment,
              cwd: mkdtempSync(join(tmpdir(), "hearth-compose-")),
              onWarning: (message) => warnings.push(message),
            }),
          name,
        ).not.toThrow();
        expect(warnings, name).toEqual([]);
      }
    },
  );

  it("gives every Hearth service the configuration file: search providers, word lists and secrets from the environment", () => {
    // The shipped example, uncommented, is what an operator starts from.
    const example = readFileSync(join(repoRoot, "deploy/config/hearth.yaml"), "utf8");
    const body = example.slice(example.indexOf("# search:"));
    const directory = mkdtempSync(join(tmpdir(), "hearth-compose-config-"));
    writeFileSync(
      join(directory, "hearth.yaml"),
      body
        .split("\n")
        .map((line) => line.replace(/^# ?/, ""))
        .join("\n"),
    );
    const { services } = config("8c-32g.env", [], {
      HEARTH_SERVICE_TOKEN: "0123456789abcdef0123",
      HEARTH_CONFIG_DIR: directory,
    });
    const keys = {
      BING_API_KEY: "bing-key",
      BOCHA_API_KEY: "bocha-key",
      FEISHU_WEBHOOK_URL: "https://open.feishu.cn/hook/x",
      FEISHU_WEBHOOK_SECRET: "s",
    };
    const search = loadConfig({
      env: containerEnvironment(services.search!, keys),
      cwd: mkdtempSync(join(tmpdir(), "hearth-compose-")),
    });
    expect(search.search.providers.map((provider) => provider.type)).toEqual(["searxng", "bing", "bocha"]);
    expect(search.search.providers[1]).toMatchObject({ apiKey: "bing-key" });
    expect(search.search.filter.lists[0]!.file).toBe("/etc/hearth/words/banned.txt");
    const web = loadConfig({
      env: containerEnvironment(services.web!, keys),
      cwd: mkdtempSync(join(tmpdir(), "hearth-compose-")),
    });
    expect(web.web.filter.lists).toHaveLength(1);
    expect(web.alerts.webhooks[0]).toMatchObject({ kind: "feishu", url: "https://open.feishu.cn/hook/x" });
    // A key the container was not given stops the service, naming the variable.
    expect(() =>
      loadConfig({
        env: containerEnvironment(services.search!),
        cwd: mkdtempSync(join(tmpdir(), "hearth-compose-")),
      }),
    ).toThrow(/BING_API_KEY is not set/);
  });

  it("drops every capability but those each image's entrypoint needs, with no-new-privileges, and lets only search, web and ollama out", () => {
    const { services, networks } = config(
      "8c-32g-scale-out.env",
      ["ollama", "scale-out"],
      {
        HEARTH_SERVICE_TOKEN: "0123456789abcdef0123",
        HEARTH_POSTGRES_PASSWORD: "pg-secret",
        HEARTH_REDIS_PASSWORD: "redis-secret",
      },
      ["compose.ollama.yaml", "compose.keys.yaml"],
    );
    // What docs/deployment.md says each keeps: root entrypoints that chown and switch user.
    const keeps: Record<string, string[]> = {
      nginx: ["CHOWN", "SETGID", "SETUID"],
      redis: ["CHOWN", "DAC_OVERRIDE", "SETGID", "SETUID"],
      postgres: ["CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"],
    };
    const readOnly = [...HEARTH, "nginx", "redis"];
    expect(Object.keys(services).sort()).toEqual([...HEARTH, "nginx", "ollama", "postgres", "redis"].sort());
    for (const [name, service] of Object.entries(services)) {
      expect(service.security_opt, name).toContain("no-new-privileges:true");
      expect(service.cap_drop, name).toEqual(["ALL"]);
      expect((service.cap_add ?? []).sort(), name).toEqual(keeps[name] ?? []);
      expect(service.read_only === true, name).toBe(readOnly.includes(name));
    }
    // Redis runs as the redis user: through the image's entrypoint, not as root under `sh -c`.
    expect(services.redis!.command!.join(" ")).toContain("exec docker-entrypoint.sh redis-server");
    // Outbound: search (providers), web (alert webhooks), ollama (pulls); model and knowledge never.
    expect(networks.egress!.internal).toBeFalsy();
    expect(
      Object.entries(services)
        .filter(([, service]) => Object.hasOwn(service.networks ?? {}, "egress"))
        .map(([name]) => name)
        .sort(),
    ).toEqual(["ollama", "search", "web"]);
  });

  it.each([
    ["hybrid/compose.private.yaml", "8c-32g.env"],
    ["hybrid/compose.public.yaml", "16c-64g.env"],
  ])("sizes the services of %s as deploy/compose.yaml does with %s", (file, sizing) => {
    const env = { HEARTH_SERVICE_TOKEN: "0123456789abcdef0123", HEARTH_PRIVATE_ZONE_ADDRESS: "10.20.0.5" };
    const single = config(sizing, [], env).services;
    const zone = config(sizing, [], env, [], file).services;
    const sized = (service: ComposeService) => ({
      cpus: service.cpus,
      mem_limit: service.mem_limit,
      mem_reservation: service.mem_reservation,
      threads: service.environment!.HEARTH_THREADS,
      parallel: service.environment!.HEARTH_PARALLEL,
      context: service.environment!.HEARTH_CONTEXT_SIZE,
    });
    const names = HEARTH.filter((name) => zone[name]);
    expect(names.length).toBe(2);
    for (const name of names) expect(sized(zone[name]!), name).toEqual(sized(single[name]!));
    // The zone gateways are hardened as nginx is.
    for (const [name, service] of Object.entries(zone).filter(([name]) => !HEARTH.includes(name))) {
      expect(service.cap_drop, name).toEqual(["ALL"]);
      expect(service.security_opt, name).toContain("no-new-privileges:true");
    }
  });

  it("refuses to start without a service token", () => {
    expect(() => config("8c-32g.env", [], {})).toThrow(/HEARTH_SERVICE_TOKEN/);
  });
});
