import { z } from "zod";
import { host, port } from "./fields.js";

export const webSection = z.strictObject({
  host: host.default("0.0.0.0"),
  port: port.default(8080),
  /** Largest request body the web service accepts, in bytes. */
  bodyLimitBytes: z.number().int().positive().default(10 * 1024 * 1024),
});
