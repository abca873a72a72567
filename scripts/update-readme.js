// `npm run docs`: rewrites the README's generated parts (the configuration reference and the
// `hearth --help` block) from the built CLI, so that test/docs/readme.test.ts stays true.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";

const hearth = (...args) =>
  execFileSync(process.execPath, ["packages/cli/dist/main.js", ...args], { encoding: "utf8" }).trim();
const start = "<!-- config-reference:start -->\n";
const end = "\n<!-- config-reference:end -->";

let readme = readFileSync("README.md", "utf8");
readme =
  readme.slice(0, readme.indexOf(start) + start.length) +
  hearth("config", "--reference") +
  readme.slice(readme.indexOf(end));
const helpStart = readme.indexOf("```\nUsage: hearth");
const helpEnd = readme.indexOf("```", helpStart + 3);
readme = `${readme.slice(0, helpStart)}\`\`\`\n${hearth("--help")}\n${readme.slice(helpEnd)}`;
writeFileSync("README.md", readme);
