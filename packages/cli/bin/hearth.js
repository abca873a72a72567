#!/usr/bin/env node
// The `hearth` command of a checkout (`npx hearth`). npm links a workspace's bin when it installs,
// before `npm install` builds dist/ (and skips a bin whose file is missing), so this launcher is
// kept in the source tree and loads the built command.
import { fileURLToPath } from "node:url";

const main = new URL("../dist/main.js", import.meta.url);
try {
  await import(main.href);
} catch (error) {
  if (error?.code !== "ERR_MODULE_NOT_FOUND" || !String(error.message).includes(fileURLToPath(main)))
    throw error;
  console.error("hearth is not built yet: run `npm run build` in the checkout first");
  process.exit(1);
}
