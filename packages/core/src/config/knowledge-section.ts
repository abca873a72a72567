import { z } from "zod";
import { host, httpUrl, port } from "./fields.js";

export const knowledgeSection = z.strictObject({
  host: host.default("127.0.0.1"),
  port: port.default(8083),
  // Index and retrieval: where chunks, terms and vectors live (see docs/decisions/knowledge-index-backends.md).
  indexBackend: z.enum(["sqlite", "postgres", "elasticsearch"]).default("sqlite"),
  indexPostgresUrl: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "a postgres:// URL")
    .optional(),
  indexElasticsearchUrl: httpUrl.optional(),
});
