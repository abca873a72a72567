// Container HEALTHCHECK: asks the service this container runs for GET /healthz on loopback.
// The service is read from the command line of the container's main process (`serve <name>`),
// so one image serves all four services. No dependencies: it runs with the bare node binary.
import { readFileSync } from "node:fs";

const PORTS = {
  web: ["HEARTH_PORT", 8080],
  model: ["HEARTH_MODEL_PORT", 8081],
  search: ["HEARTH_SEARCH_PORT", 8082],
  knowledge: ["HEARTH_KNOWLEDGE_PORT", 8083],
};

export function serviceFromArgs(args) {
  const serve = args.indexOf("serve");
  if (serve >= 0 && args[serve + 1] in PORTS) return args[serve + 1];
  return "web"; // `hearth up` and the default command: the web service answers for the install.
}

export function healthUrl(service, env) {
  const [variable, fallback] = PORTS[service];
  return `http://127.0.0.1:${Number(env[variable] || fallback)}/healthz`;
}

function mainProcessArgs() {
  try {
    return readFileSync("/proc/1/cmdline", "utf8").split("\0").filter(Boolean);
  } catch {
    return process.argv.slice(2);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const service = process.env.HEARTH_SERVICE || serviceFromArgs(mainProcessArgs());
  try {
    const response = await fetch(healthUrl(service, process.env), { signal: AbortSignal.timeout(4000) });
    const body = await response.json();
    if (response.ok && body.service === service) process.exit(0);
    console.error(`unhealthy: ${service} answered ${response.status}`);
  } catch (error) {
    console.error(`unhealthy: ${service}: ${error.message}`);
  }
  process.exit(1);
}
