import { z } from "zod";
import { host, port } from "./fields.js";

export const searchSection = z.strictObject({
  host: host.default("127.0.0.1"),
  port: port.default(8082),
});
