/**
 * Child process for the crash test: starts a knowledge service on the given data dir, uploads the
 * documents, prints the job, and keeps working until the parent kills it with SIGKILL.
 */
import { startHarness } from "./knowledge-harness.fixture.js";

const [dataDir, embedUrl, count] = process.argv.slice(2) as [string, string, string];
const harness = await startHarness({ embeddingUrl: embedUrl, embeddingBatchSize: 1 }, {}, dataDir);
const kb = await harness.client.createKnowledgeBase({
  name: "Crash",
  embeddingModel: "test-embed",
  chunking: { maxTokens: 40, overlapTokens: 0 },
});
const files = Array.from({ length: Number(count) }, (_, i) => ({
  name: `doc-${i}.md`,
  data: Buffer.from(
    `# Document ${i}\n\n${Array.from({ length: 4 }, (_, p) => `Paragraph ${p} of document ${i} talks about subject ${i * 10 + p} at length.`).join("\n\n")}\n`,
  ),
}));
const upload = await harness.client.uploadDocuments(kb.id, files);
console.log(JSON.stringify({ url: harness.url, kbId: kb.id, jobId: upload.job.id }));
setInterval(() => {}, 1000);
