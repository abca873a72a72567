import { z } from "zod";
import { host, port } from "./fields.js";

export const knowledgeSection = z.strictObject({
  host: host.default("127.0.0.1"),
  port: port.default(8083),
});
