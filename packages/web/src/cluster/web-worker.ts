/** One worker of the web service's cluster (started by serveWebCluster, never directly). */
import { createLogger, type HearthConfig, isHearthError, listenService } from "@hearth/core";
import { createWebService } from "../index.js";

const config = JSON.parse(process.env.HEARTH_WEB_WORKER_CONFIG ?? "{}") as HearthConfig;
const logger = createLogger({ level: config.logLevel, service: "web" });
try {
  const service = await createWebService(config, logger);
  const url = await listenService(service.app, {
    host: config.web.host,
    port: config.web.port,
    description: "web service (HEARTH_PORT)",
    hostSetting: "HEARTH_HOST",
  });
  process.on("message", (message: { type?: string }) => {
    if (message?.type === "hearth:shutdown") void service.close().finally(() => process.exit(0));
  });
  // The primary handles signals; a worker only stops when told to (or when the primary goes).
  process.on("SIGINT", () => {});
  process.on("SIGTERM", () => {});
  process.on("disconnect", () => void service.close().finally(() => process.exit(0)));
  process.send?.({ type: "hearth:listening", url });
} catch (error) {
  process.send?.({ type: "hearth:failed", line: isHearthError(error) ? error.toLine() : String(error) });
  process.exit(1);
}
