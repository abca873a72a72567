import type { IndexBackend } from "../index/index-backend.js";
import type { Retriever } from "../retrieval/retriever.js";

/** The index a knowledge service runs on: where chunks are stored and how they are retrieved. */
export interface KnowledgeIndex {
  backend: IndexBackend;
  retriever: Retriever;
}
