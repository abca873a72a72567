import { join } from "node:path";
import { type HearthConfig, HearthError } from "@hearth/core";
import type { KnowledgeIndex } from "../query/retriever.js";

/**
 * The index the knowledge service opens when none is given: the one place to change when the
 * index backends (src/index/) and their retriever (src/retrieval/) are merged. With the
 * knowledge-index branch the body becomes:
 *
 *   const backend = await openConfiguredIndex(config.knowledge, config.dataDir);
 *   return { backend, retriever: createRetriever(backend) };
 *
 * (`createRetriever`'s Retriever returns RetrievedChunk[], a superset of the SearchHit[] this
 * package's Retriever asks for, so it fits as is.)
 */
export async function openDefaultIndex(config: HearthConfig): Promise<KnowledgeIndex> {
  throw new HearthError(
    "SERVICE_NOT_READY",
    `No index backend is built into this build of the knowledge service (data in ${join(config.dataDir, "knowledge")}); pass one to createKnowledgeService`,
  );
}
