import { describe, expect, it } from "vitest";
import { openElasticsearchIndex } from "./elasticsearch-index-backend.js";
import { describeIndexBackendContract } from "./index-backend-contract.fixture.js";

/**
 * The contract suite against a live Elasticsearch 8+ or OpenSearch 2+ node, run only when
 * HEARTH_TEST_ELASTICSEARCH_URL is set (e.g. http://127.0.0.1:9200). Each run uses its own index
 * and deletes it afterwards.
 */
const url = process.env.HEARTH_TEST_ELASTICSEARCH_URL;
const indexName = `hearth-test-${process.pid}`;

describe.skipIf(url === undefined)("Elasticsearch/OpenSearch server", () => {
  describeIndexBackendContract("Elasticsearch/OpenSearch", {
    open: () => openElasticsearchIndex({ url: url as string, indexName, dimensions: 4 }),
    sharedTermStatistics: true,
  });

  it("deletes the test index", async () => {
    const response = await fetch(`${url}/${indexName}`, { method: "DELETE" });
    expect([200, 404]).toContain(response.status);
  });
});

describe("Elasticsearch backend without a server", () => {
  it("reports an unreachable node as INDEX_UNAVAILABLE, without the credentials in the message", async () => {
    const failure = openElasticsearchIndex({ url: "http://hearth:s3cret@127.0.0.1:1", timeoutMs: 2000 });
    await expect(failure).rejects.toMatchObject({ code: "INDEX_UNAVAILABLE" });
    await expect(failure).rejects.not.toThrow(/s3cret/);
  });
});
