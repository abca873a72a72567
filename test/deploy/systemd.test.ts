import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { backupCommand } from "../../packages/cli/src/commands/backup.js";
import { repoRoot } from "../support/shared-data.js";
import { available } from "./support/nginx.js";

const SYSTEMD = join(repoRoot, "deploy/systemd");

/** A unit file's settings: section, key, and the key's values in order (a key may repeat). */
function unit(file: string): Record<string, Record<string, string[]>> {
  const sections: Record<string, Record<string, string[]>> = {};
  let section: Record<string, string[]> = {};
  for (const line of readFileSync(join(SYSTEMD, file), "utf8").split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const header = /^\[(\w+)\]$/.exec(line);
    if (header) {
      section = {};
      sections[header[1]!] = section;
      continue;
    }
    const equals = line.indexOf("=");
    const key = line.slice(0, equals);
    section[key] = [...(section[key] ?? []), line.slice(equals + 1)];
  }
  return sections;
}

/** The command the image runs (its ENTRYPOINT): `node /app/packages/cli/dist/main.js`. */
const entrypoint = (
  JSON.parse(
    /^ENTRYPOINT (.*)$/m.exec(readFileSync(join(repoRoot, "deploy/Dockerfile"), "utf8"))![1]!,
  ) as string[]
).join(" ");

/** The containers whose backups the compose timers take: from the install line in the service's comment. */
const containers = /hearth-compose-backup@\{([\w,]+)\}\.timer/
  .exec(readFileSync(join(SYSTEMD, "hearth-compose-backup@.service"), "utf8"))![1]!
  .split(",");

describe("deploy/systemd: scheduled backups", () => {
  it("start each night, at a random moment within an hour, and catch up a night the machine was off", () => {
    for (const timer of ["hearth-backup.timer", "hearth-compose-backup@.timer"]) {
      const { Timer, Install } = unit(timer);
      expect(Timer, timer).toEqual({
        OnCalendar: ["*-*-* 03:00:00"],
        RandomizedDelaySec: ["1h"],
        Persistent: ["true"],
      });
      expect(Install!.WantedBy, timer).toEqual(["timers.target"]);
    }
  });

  it("run `hearth backup --keep 7` as the CLI takes it, on one machine and in every Hearth container of compose", async () => {
    const single = unit("hearth-backup.service").Service!;
    expect(single.Type).toEqual(["oneshot"]);
    // From the checkout as the image runs it from /app.
    expect(single.ExecStart).toEqual([`${entrypoint.replace("/app/", "")} backup --keep 7`]);

    // Each container with a data volume of its own; exec finds it by project and service, as hc does.
    const compose = unit("hearth-compose-backup@.service").Service!;
    const hc = /^hc\(\) \{ (.*) "\$@"; \}$/m.exec(
      readFileSync(join(repoRoot, "docs/deployment.md"), "utf8"),
    )![1];
    expect(compose.ExecStart).toEqual([`${hc} exec -T %i ${entrypoint} backup --keep 7`]);
    const services = (
      parse(readFileSync(join(repoRoot, "deploy/compose.yaml"), "utf8"), { merge: true }) as {
        services: Record<string, { command?: string[]; volumes?: string[] }>;
      }
    ).services;
    const hearth = Object.keys(services).filter((name) => services[name]!.command?.[0] === "serve");
    expect(containers.sort()).toEqual(hearth.sort());
    for (const name of hearth)
      expect(
        services[name]!.volumes!.some((volume) => volume.endsWith(`-data:/data`)),
        name,
      ).toBe(true);

    // The flags are the CLI's: a backup is written and the rest counted.
    const root = mkdtempSync(join(tmpdir(), "hearth-systemd-backup-"));
    try {
      mkdirSync(join(root, "data"));
      writeFileSync(join(root, "data", "notes.txt"), "notes\n");
      const lines: string[] = [];
      const args = single.ExecStart![0]!.split(" ").slice(3);
      await backupCommand({
        config: { env: { HEARTH_DATA_DIR: join(root, "data") }, cwd: root },
        write: (line) => lines.push(line),
        stderr: { write: () => true } as unknown as NodeJS.WritableStream,
      }).parseAsync(args, { from: "user" });
      expect(process.exitCode).toBeUndefined();
      expect(lines.at(-1)).toBe("kept 1 backups, deleted 0");
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it.skipIf(!available("systemd-analyze"))("pass systemd-analyze verify", () => {
    const directory = mkdtempSync(join(tmpdir(), "hearth-systemd-"));
    try {
      const files = ["hearth-backup.service", "hearth-backup.timer"];
      for (const file of files) copyFileSync(join(SYSTEMD, file), join(directory, file));
      // An instance of the templates, as `systemctl enable` makes it.
      for (const suffix of ["service", "timer"]) {
        const instance = `hearth-compose-backup@${containers[0]}.${suffix}`;
        copyFileSync(join(SYSTEMD, `hearth-compose-backup@.${suffix}`), join(directory, instance));
        files.push(instance);
      }
      // What the machine installing the units has and this one may lack: Docker's unit, and the commands.
      writeFileSync(join(directory, "docker.service"), "[Service]\nExecStart=/bin/true\n");
      files.push("docker.service");
      const verify = spawnSync("systemd-analyze", ["verify", ...files.map((file) => `./${file}`)], {
        cwd: directory,
        encoding: "utf8",
      });
      const problems = `${verify.stdout}${verify.stderr}`
        .split("\n")
        .filter((line) => line !== "" && !/: Command (node|docker) is not executable: /.test(line));
      expect(problems).toEqual([]);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
