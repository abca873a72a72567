import { homedir } from "node:os";
import { basename, join, resolve } from "node:path";
import { type LoadedModel, loadedModelsOf } from "@hearth/contracts";
import { type HearthConfig, loadConfig, UpstreamCallError } from "@hearth/core";
import { ModelRegistry, parsePullReference, skippedModelFiles } from "@hearth/model";
import { Command } from "commander";
import { errorLine, messages } from "../messages/index.js";
import { formatBytes, type Progress, progressPrinter } from "../progress.js";

export interface ModelsCommandOptions {
  /** Tests pass a config; the command loads it from the environment and hearth.yaml otherwise. */
  config?: () => HearthConfig;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream & { isTTY?: boolean };
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** When a model loaded for `ps` is unloaded (a table's cell: the same in every language): "kept loaded" (keep_alive -1: year 9999), else in how long and when. */
function untilText(model: LoadedModel, now: Date): string {
  if (model.keptLoaded) return "kept loaded";
  if (!model.expiresAt) return "-";
  const expires = new Date(model.expiresAt);
  const minutes = Math.max(0, Math.round((expires.getTime() - now.getTime()) / 60_000));
  const time = expires.toTimeString().slice(0, 8);
  return minutes === 0 ? `now (${time})` : `in ${minutes} min (${time})`;
}

/** `hearth models list|ps|pull|import|rm|tag|rollback`: installed and loaded models, their versions and pulls. */
export function modelsCommand(options: ModelsCommandOptions = {}): Command {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const m = messages();
  /**
   * The command works without the model service, so it registers (hashes) a model file new to the
   * registry itself before it answers: on a terminal a bar says how far, so that a GGUF of many
   * gigabytes does not look hung.
   */
  const hashing = progressPrinter(stderr);
  const registryOf = () => {
    const config = (options.config ?? (() => loadConfig()))();
    const registry = new ModelRegistry(
      config.model.modelsDir,
      {
        onWarning: (message) => stderr.write(`${m.warning(message)}\n`),
        ...(stderr.isTTY
          ? {
              onHashProgress: ({ file, completed, total }) => {
                hashing({ status: m.hashingToRegister(basename(file)), completed, total });
                if (completed >= total) hashing.end();
              },
            }
          : {}),
      },
      config.model.registryDir,
    );
    return { config, registry };
  };
  // Errors end the command with their one-line form (`CODE: message`) and exit code 1.
  const run =
    <A extends unknown[]>(action: (...args: A) => Promise<void>) =>
    async (...args: A) => {
      try {
        await action(...args);
      } catch (error) {
        hashing.end();
        stderr.write(`${errorLine(error, m)}\n`);
        process.exitCode = 1;
      }
    };

  const command = new Command("models").description(m.modelsDescription);

  command
    .command("ps")
    .description(m.modelsPsDescription)
    .action(
      run(async () => {
        const config = (options.config ?? (() => loadConfig()))();
        const url = `${config.services.modelUrl.replace(/\/$/, "")}/api/ps`;
        const token = config.services.token;
        let response: Response;
        try {
          response = await fetch(url, {
            headers: token ? { "x-hearth-service-token": token } : {},
            signal: AbortSignal.timeout(10_000),
          });
        } catch (error) {
          throw UpstreamCallError.noAnswer({
            url,
            service: "model",
            at: config.services.modelUrl,
            cause: error,
            hint: m.modelsPsHint,
          });
        }
        const text = await response.text();
        if (!response.ok)
          throw new UpstreamCallError({
            url,
            status: response.status,
            body: text,
            message: m.modelServiceAnswered(response.status, text.slice(0, 500)),
            ...(token ? { secrets: [token] } : {}),
          });
        const loaded = loadedModelsOf(JSON.parse(text));
        if (!loaded)
          throw new UpstreamCallError({
            url,
            status: 502,
            body: text,
            message: m.modelServiceNoList,
          });
        if (loaded.length === 0) {
          stdout.write(`${m.noModelLoaded}\n`);
          return;
        }
        const now = new Date();
        const rows = [["NAME", "SIZE", "CONTEXT", "UNTIL"]];
        for (const model of loaded)
          rows.push([
            model.model || "?",
            model.sizeBytes === null ? "-" : formatBytes(model.sizeBytes, "binary"),
            model.contextLength === null ? "-" : String(model.contextLength),
            untilText(model, now),
          ]);
        stdout.write(`${table(rows)}\n`);
      }),
    );

  command
    .command("list")
    .alias("ls")
    .description(m.modelsListDescription)
    .action(
      run(async () => {
        const { config, registry } = registryOf();
        const models = await registry.list();
        // Files skipped for their names, each with the fix: never "drop a .gguf file there" to
        // someone who did.
        const skipped = (await skippedModelFiles(config.model.modelsDir)).map((file) => `${file.message}\n`);
        if (models.length === 0) {
          stdout.write(
            skipped.length > 0
              ? `${m.noModelsServed(config.model.modelsDir)}\n${skipped.join("")}`
              : `${m.noModelsIn(config.model.modelsDir)}\n`,
          );
          return;
        }
        const rows = [["NAME", "VERSION", "DIGEST", "SIZE", "VERSIONS", "CHANGELOG"]];
        for (const model of models) {
          rows.push([
            model.name,
            model.version,
            model.digest.slice(7, 19),
            formatBytes(model.sizeBytes),
            model.versions
              .map((version) => (model.lostVersions.includes(version) ? `${version}(lost)` : version))
              .join(","),
            model.changelog,
          ]);
        }
        stdout.write(`${table(rows)}\n${skipped.join("")}`);
      }),
    );

  command
    .command("pull")
    .description(m.modelsPullDescription)
    .argument("<reference>", m.modelsPullReference)
    .option("--name <name>", m.modelsPullName)
    .option("--insecure", m.modelsPullInsecure)
    .action(
      run(async (reference: string, flags: { name?: string; insecure?: boolean }) => {
        const pulled = parsePullReference(reference, { name: flags.name, insecure: flags.insecure });
        const { registry } = registryOf();
        const controller = new AbortController();
        const onSignal = () => controller.abort(new Error("interrupted"));
        process.once("SIGINT", onSignal);
        const printer = progressPrinter(stderr);
        try {
          const installed = await registry.pull(pulled, {
            signal: controller.signal,
            // The registry's statuses are Ollama's ("pulling manifest"): said in the command's language.
            onProgress: (progress: Progress) =>
              printer({ ...progress, status: m.pullStatus(progress.status) }),
          });
          stdout.write(`${installed.name} ${installed.version} ${installed.digest}\n`);
        } catch (error) {
          if (controller.signal.aborted) {
            stderr.write(`\n${m.pullInterrupted}\n`);
            process.exitCode = 130;
            return;
          }
          throw error;
        } finally {
          process.off("SIGINT", onSignal);
        }
      }),
    );

  command
    .command("import")
    .description(m.modelsImportDescription)
    .argument("<name>", m.modelsImportName)
    .option("--from <dir>", m.modelsImportFrom)
    .option("--as <name>", m.modelsImportAs)
    .action(
      run(async (name: string, flags: { from?: string; as?: string }) => {
        const { config, registry } = registryOf();
        const dir =
          flags.from ??
          config.model.ollamaModelsDir ??
          process.env.OLLAMA_MODELS ??
          join(homedir(), ".ollama", "models");
        const installed = await registry.importFromOllama(name, resolve(dir), { name: flags.as });
        stdout.write(`${installed.name} ${installed.version} ${installed.digest}\n`);
      }),
    );

  command
    .command("rm")
    .description(m.modelsRmDescription)
    .argument("<name>")
    .action(
      run(async (name: string) => {
        const removed = await registryOf().registry.remove(name);
        const lines = [
          removed.removed
            ? m.removedFile(removed.name, removed.removed)
            : m.removedFromRegistry(removed.name),
        ];
        for (const weights of removed.deletedWeights)
          lines.push(m.deletedWeights(weights.digest, formatBytes(weights.sizeBytes)));
        for (const weights of removed.keptWeights)
          lines.push(
            weights.usedBy
              ? m.keptWeightsUsed(weights.digest, weights.usedBy.join(", "))
              : m.keptWeightsOutside(weights.digest, String(weights.outside)),
          );
        if (removed.keptFile) lines.push(m.keptFile(removed.keptFile));
        stdout.write(`${lines.join("\n")}\n`);
      }),
    );

  command
    .command("tag")
    .description(m.modelsTagDescription)
    .argument("<source>")
    .argument("<target>")
    .action(
      run(async (source: string, target: string) => {
        await registryOf().registry.copy(source, target);
        stdout.write(`${target} -> ${source}\n`);
      }),
    );

  command
    .command("rollback")
    .description(m.modelsRollbackDescription)
    .argument("<name>")
    .option("--to <version>", m.modelsRollbackTo)
    .action(
      run(async (name: string, flags: { to?: string }) => {
        const { current } = (await registryOf().registry.rollback(name, flags.to)).model;
        stdout.write(`${m.rolledBack(name, current.version, current.digest)}\n`);
      }),
    );

  return command;
}
