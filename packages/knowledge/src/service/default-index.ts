import type { HearthConfig, Logger } from "@hearth/core";
import type { KnowledgeIndex } from "../query/knowledge-index.js";
import { openConfiguredIndex } from "../retrieval/open-configured-index.js";
import { createRetriever } from "../retrieval/retriever.js";

/**
 * The index the knowledge service opens when none is given: the backend the configuration names
 * (SQLite under <dataDir>/knowledge by default, PostgreSQL or Elasticsearch/OpenSearch) with the
 * hybrid retriever over it.
 */
export async function openDefaultIndex(config: HearthConfig, logger?: Logger): Promise<KnowledgeIndex> {
  const backend = await openConfiguredIndex(config.knowledge, config.dataDir, logger);
  return { backend, retriever: createRetriever(backend) };
}
