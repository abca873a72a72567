/**
 * `npm run bench`: runs every benchmark module in this folder (files named `*.bench.ts`) in turn.
 * Each prints its own figures; bench/README.md records them with the machine they ran on.
 * `npm run bench -- model` runs only the modules whose name contains "model".
 */
import { readdirSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { fileURLToPath, pathToFileURL } from "node:url";

const folder = fileURLToPath(new URL(".", import.meta.url));
const only = process.argv.slice(2).filter((arg) => !arg.startsWith("-"));
const modules = readdirSync(folder)
  .filter((name) => name.endsWith(".bench.ts"))
  .filter((name) => only.length === 0 || only.some((word) => name.includes(word)))
  .sort();

console.log(
  `machine: ${cpus().length} x ${cpus()[0]?.model ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}`,
);
for (const name of modules) {
  console.log(`\n## ${name.replace(".bench.ts", "")}`);
  const started = performance.now();
  const module = (await import(pathToFileURL(`${folder}${name}`).href)) as { run: () => Promise<void> };
  await module.run();
  console.log(`(${name} took ${((performance.now() - started) / 1000).toFixed(1)} s)`);
}
