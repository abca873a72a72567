import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ENVIRONMENT, ERROR_CODES } from "@hearth/core";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../support/shared-data.js";

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
      for (const [path] of text.matchAll(/(?<![\w/])(?:test\/)?deploy\/[\w./-]+[\w]/g)) {
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
