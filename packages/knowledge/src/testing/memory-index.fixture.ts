/**
 * Test-only index backend (never shipped: *.fixture.ts is outside the build). Lexical search is a
 * plain BM25 over words and CJK bigrams, vector search exact cosine. With `path` it persists every
 * change to a JSON file (atomic rename), so crash-and-resume tests can run across processes.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import type {
  ChunkRecord,
  IndexBackend,
  LexicalQuery,
  SearchFilters,
  SearchHit,
  VectorQuery,
} from "../index/index-backend.js";
import type { KnowledgeIndex } from "../query/knowledge-index.js";
import { createRetriever } from "../retrieval/retriever.js";

function tokens(text: string): string[] {
  const out: string[] = [];
  for (const match of text.toLowerCase().matchAll(/[a-z0-9]+|[\u4e00-\u9fff]+/g)) {
    const word = match[0];
    if (/^[\u4e00-\u9fff]/.test(word)) {
      for (let i = 0; i < word.length; i++) out.push(word.slice(i, i + 2));
    } else out.push(word);
  }
  return out;
}

export class MemoryIndexBackend implements IndexBackend {
  readonly name = "memory";
  readonly chunks = new Map<string, ChunkRecord>();
  upserts = 0;
  constructor(private readonly path?: string) {
    if (path && existsSync(path)) {
      const saved = JSON.parse(readFileSync(path, "utf8")) as Array<ChunkRecord & { embedding?: number[] }>;
      for (const chunk of saved)
        this.chunks.set(chunk.id, {
          ...chunk,
          embedding: chunk.embedding ? Float32Array.from(chunk.embedding) : undefined,
        } as ChunkRecord);
    }
  }
  #save(): void {
    if (!this.path) return;
    const data = [...this.chunks.values()].map((chunk) => ({
      ...chunk,
      embedding: chunk.embedding ? [...chunk.embedding] : undefined,
    }));
    writeFileSync(`${this.path}.tmp`, JSON.stringify(data));
    renameSync(`${this.path}.tmp`, this.path);
  }
  async upsertChunks(chunks: readonly ChunkRecord[]): Promise<void> {
    for (const chunk of chunks) this.chunks.set(chunk.id, chunk);
    this.upserts += chunks.length;
    this.#save();
  }
  async deleteChunks(ids: readonly string[]): Promise<void> {
    for (const id of ids) this.chunks.delete(id);
    this.#save();
  }
  async deleteDocument(knowledgeBaseId: string, documentId: string): Promise<void> {
    for (const [id, chunk] of this.chunks)
      if (chunk.knowledgeBaseId === knowledgeBaseId && chunk.documentId === documentId)
        this.chunks.delete(id);
    this.#save();
  }
  async deleteKnowledgeBase(knowledgeBaseId: string): Promise<void> {
    for (const [id, chunk] of this.chunks)
      if (chunk.knowledgeBaseId === knowledgeBaseId) this.chunks.delete(id);
    this.#save();
  }
  async listChunkHashes(knowledgeBaseId: string, documentId: string): Promise<Map<string, string>> {
    const map = new Map<string, string>();
    for (const chunk of this.chunks.values())
      if (chunk.knowledgeBaseId === knowledgeBaseId && chunk.documentId === documentId)
        map.set(chunk.id, chunk.contentHash);
    return map;
  }
  async listChunks(
    knowledgeBaseId: string,
    documentId: string,
  ): Promise<Array<Omit<ChunkRecord, "embedding">>> {
    return [...this.chunks.values()]
      .filter((chunk) => chunk.knowledgeBaseId === knowledgeBaseId && chunk.documentId === documentId)
      .sort((a, b) => a.ordinal - b.ordinal)
      .map(({ embedding: _embedding, ...chunk }) => chunk);
  }
  #candidates(knowledgeBaseIds: string[], filters?: SearchFilters): ChunkRecord[] {
    return [...this.chunks.values()].filter(
      (chunk) =>
        knowledgeBaseIds.includes(chunk.knowledgeBaseId) &&
        (!filters?.documentIds || filters.documentIds.includes(chunk.documentId)) &&
        !filters?.excludedDocumentIds?.includes(chunk.documentId) &&
        Object.entries(filters?.metadata ?? {}).every(([key, value]) => chunk.metadata[key] === value),
    );
  }
  async lexicalSearch(query: LexicalQuery): Promise<SearchHit[]> {
    const candidates = this.#candidates(query.knowledgeBaseIds, query.filters);
    const docs = candidates.map((chunk) => ({ chunk, terms: tokens(chunk.text) }));
    const average = docs.reduce((sum, doc) => sum + doc.terms.length, 0) / Math.max(1, docs.length);
    const queryTerms = [...new Set(tokens(query.text))];
    const hits: SearchHit[] = [];
    for (const doc of docs) {
      let score = 0;
      for (const term of queryTerms) {
        const tf = doc.terms.filter((t) => t === term).length;
        if (!tf) continue;
        const df = docs.filter((d) => d.terms.includes(term)).length;
        const idf = Math.log(1 + (docs.length - df + 0.5) / (df + 0.5));
        score += (idf * tf * 2.2) / (tf + 1.2 * (0.25 + (0.75 * doc.terms.length) / average));
      }
      if (score > 0) {
        const { embedding: _embedding, ...chunk } = doc.chunk;
        hits.push({ chunk, score });
      }
    }
    return hits.sort((a, b) => b.score - a.score).slice(0, query.topK);
  }
  async vectorSearch(query: VectorQuery): Promise<SearchHit[]> {
    return this.#candidates(query.knowledgeBaseIds, query.filters)
      .filter((chunk) => chunk.embedding)
      .map((record) => {
        let dot = 0;
        for (let i = 0; i < query.vector.length; i++) dot += query.vector[i]! * record.embedding![i]!;
        const { embedding: _embedding, ...chunk } = record;
        return { chunk, score: dot };
      })
      .sort((a, b) => b.score - a.score)
      .slice(0, query.topK);
  }
  async checkReachable(): Promise<void> {}

  async close(): Promise<void> {}
}

export function memoryIndex(path?: string): KnowledgeIndex & { backend: MemoryIndexBackend } {
  const backend = new MemoryIndexBackend(path);
  return { backend, retriever: createRetriever(backend) };
}
