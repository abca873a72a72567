/**
 * What the knowledge store adds to every query besides the index's search: which of the hits'
 * documents are fully indexed (indexedAmong) and which documents of the bases are switched off
 * (disabledDocumentIds), on a base of 10,000 documents, 100 of them switched off. Beside it, in the
 * same run, reading the ids of every indexed document of the base, as each query did before it
 * looked up its hits' documents alone. `npm run bench -- knowledge-store`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { KnowledgeStore } from "../packages/knowledge/src/store/knowledge-store.js";

const DOCUMENTS = 10_000;
const SWITCHED_OFF = 100;
/** A query's hits come from this many documents at most (topK 20, twice over). */
const HIT_DOCUMENTS = 40;
const CALLS = 200;

/** Milliseconds per call of `work`, the median of five rounds of CALLS after one to warm up. */
function perCall(work: () => unknown): number {
  const rounds: number[] = [];
  for (let round = 0; round < 6; round++) {
    const started = performance.now();
    for (let i = 0; i < CALLS; i++) work();
    rounds.push((performance.now() - started) / CALLS);
  }
  const timed = rounds.slice(1).sort((a, b) => a - b);
  return timed[Math.floor(timed.length / 2)]!;
}

export async function run(): Promise<void> {
  const folder = mkdtempSync(join(tmpdir(), "hearth-bench-store-"));
  const path = join(folder, "knowledge.db");
  const store = await KnowledgeStore.open({ path, dataDir: folder });
  try {
    const base = store.createKnowledgeBase({
      name: "handbooks",
      description: "",
      embeddingModel: null,
      chunking: { maxTokens: 512, overlapTokens: 64 },
      watchFolder: null,
    });
    const ids: string[] = [];
    for (let i = 0; i < DOCUMENTS; i++) {
      const document = store.upsertDocument({
        knowledgeBaseId: base.id,
        name: `handbook-${i}.md`,
        source: "upload",
        sourceKey: `handbook-${i}.md`,
        sizeBytes: 1024,
        contentType: "text/markdown",
      });
      store.markDocumentIndexed(document.id, "sha256:v8", 12, {
        sizeBytes: 1024,
        contentType: "text/markdown",
      });
      if (i % (DOCUMENTS / SWITCHED_OFF) === 0) store.setDocumentEnabled(base.id, document.id, false);
      ids.push(document.id);
    }
    const hits = Array.from({ length: HIT_DOCUMENTS }, (_, i) => ids[(i * 997) % DOCUMENTS]!);
    const now = perCall(() => {
      store.indexedAmong(hits);
      store.disabledDocumentIds([base.id]);
    });
    // The lookup a query made before, on its own connection to the same file.
    const raw = new Database(path, { readonly: true });
    const everyIndexed = raw.prepare(
      "SELECT id FROM documents WHERE indexed_hash IS NOT NULL AND knowledge_base_id IN (?)",
    );
    const before = perCall(
      () => new Set((everyIndexed.all(base.id) as Array<{ id: string }>).map((r) => r.id)),
    );
    raw.close();
    console.log(
      `${DOCUMENTS} documents (${SWITCHED_OFF} switched off), hits from ${HIT_DOCUMENTS}: ` +
        `a query's store lookups ${now.toFixed(3)} ms; every indexed id of the base (before) ` +
        `${before.toFixed(3)} ms; ratio ${(now / before).toFixed(3)}`,
    );
  } finally {
    store.close();
    rmSync(folder, { recursive: true, force: true });
  }
}
