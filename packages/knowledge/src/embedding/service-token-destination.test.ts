import { afterEach, describe, expect, it } from "vitest";
import { type Harness, startEmbedServer, startHarness } from "../testing/knowledge-harness.fixture.js";

const TOKEN = "service-token-of-this-test-0123";

/**
 * The service token is Hearth's own secret: the knowledge service presents it to Hearth's model
 * service, never to the server knowledge.embeddingUrl names, which may be someone else's Ollama.
 */
describe("the service token on embedding requests", () => {
  let harness: Harness | undefined;
  let embed: Awaited<ReturnType<typeof startEmbedServer>> | undefined;
  afterEach(async () => {
    await harness?.close();
    await embed?.close();
  });

  const embedOnce = async () => {
    const { client } = harness!;
    const base = await client.createKnowledgeBase({ name: "Kettles", embeddingModel: "test-embed" });
    expect(
      (await harness!.uploadTexts(base.id, { "kettle.txt": "The kettle boils water." })).counts.indexed,
    ).toBe(1);
  };

  it("is not sent to the embedding server knowledge.embeddingUrl names", async () => {
    embed = await startEmbedServer();
    harness = await startHarness({ embeddingUrl: embed.url }, { token: TOKEN });
    await embedOnce();
    expect(embed.state.tokens.length).toBeGreaterThan(0);
    expect(embed.state.tokens.every((token) => token === undefined)).toBe(true);
  });

  it("is sent to the model service, also when knowledge.embeddingUrl names it", async () => {
    embed = await startEmbedServer();
    harness = await startHarness({}, { token: TOKEN, modelUrl: embed.url });
    await embedOnce();
    await harness.close();
    harness = await startHarness({ embeddingUrl: `${embed.url}/` }, { token: TOKEN, modelUrl: embed.url });
    await embedOnce();
    expect(embed.state.tokens.length).toBeGreaterThan(1);
    expect(embed.state.tokens.every((token) => token === TOKEN)).toBe(true);
  });
});
