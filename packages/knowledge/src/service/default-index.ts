import { HearthError } from "@hearth/core";
import type { KnowledgeIndex } from "../query/retriever.js";

/**
 * The index the knowledge service opens when none is given: the one line to change when the
 * embedded SQLite backend (src/index/) and its tuned retriever (src/retrieval/) are merged:
 *
 *   const backend = await openSqliteIndex({ path: join(knowledgeDir, "index.db") });
 *   return { backend, retriever: createRetriever(backend) };
 */
export async function openDefaultIndex(knowledgeDir: string): Promise<KnowledgeIndex> {
  throw new HearthError(
    "SERVICE_NOT_READY",
    `No index backend is built into this build of the knowledge service (data in ${knowledgeDir}); pass one to createKnowledgeService`,
  );
}
