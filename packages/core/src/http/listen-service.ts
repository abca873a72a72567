import type { FastifyInstance } from "fastify";
import { HearthError } from "../errors/hearth-error.js";

export interface ListenOptions {
  host: string;
  port: number;
  /** Named in the error when the port is taken, e.g. "model service (HEARTH_MODEL_PORT)". */
  description: string;
  /** The setting that moves the address, named when it does not resolve or is not this machine's, e.g. "HEARTH_MODEL_HOST". */
  hostSetting?: string;
}

/** Starts listening; a taken port becomes PORT_IN_USE with the setting that moves it. Returns the bound URL. */
export async function listenService(app: FastifyInstance, options: ListenOptions): Promise<string> {
  try {
    await app.listen({ host: options.host, port: options.port });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE") {
      throw new HearthError(
        "PORT_IN_USE",
        `${options.host}:${options.port} is already in use; stop the other process or change the ${options.description} port`,
      );
    }
    if (code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "EADDRNOTAVAIL") {
      const setting = options.hostSetting ?? "the host setting";
      const reason =
        code === "EADDRNOTAVAIL"
          ? `${options.host} is not an address of this machine (EADDRNOTAVAIL)`
          : `${options.host} does not resolve to an address (${code})`;
      throw new HearthError(
        "CONFIG_INVALID",
        `cannot listen on ${options.host}:${options.port} for the ${options.description}: ${reason}; set ${setting} to an address of this machine (0.0.0.0 for every interface, 127.0.0.1 for this machine only)`,
        { details: { key: setting, code } },
      );
    }
    if (code === "EACCES") {
      throw new HearthError(
        "CONFIG_INVALID",
        `cannot listen on ${options.host}:${options.port} for the ${options.description}: ${code}`,
      );
    }
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  const host = options.host === "0.0.0.0" || options.host === "::" ? "127.0.0.1" : options.host;
  return `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
}
