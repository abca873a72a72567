import { execSync } from "node:child_process";

// `npm install` builds the workspace so that `npm start` runs at once after it. Skipped when the
// install is only a dependency install inside a container build (HEARTH_SKIP_BUILD=1).
if (process.env.HEARTH_SKIP_BUILD !== "1") execSync("npm run build", { stdio: "inherit" });
