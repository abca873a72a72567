import { searchProviderSchema } from "@hearth/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ENGINE_FIXTURES, EXPECTED_HITS } from "../../test/engine-fixtures.js";
import { ReplayServer, sendJson } from "../../test/replay-server.js";
import { createProvider } from "./create-provider.js";
import { ProviderCallError } from "./provider-call-error.js";

const answer = ENGINE_FIXTURES.find((fixture) => fixture.type === "searxng")!.ok as Record<string, unknown>;
// SearXNG's answer lists its own engines that did not answer as [name, why] pairs, sorted by name.
let reply: unknown = answer;
const server = new ReplayServer((_request, response) => sendJson(response, 200, reply));
const search = () =>
  createProvider(searchProviderSchema.parse({ id: "searxng", type: "searxng", url: server.url })).search({
    query: "node 20",
    limit: 10,
    signal: AbortSignal.timeout(5000),
  });

beforeAll(async () => {
  await server.start();
});
afterAll(async () => {
  await server.close();
});

describe("SearXNG's own engines", () => {
  it("reports an answer with no results because its engines did not answer as an error naming them", async () => {
    reply = {
      ...answer,
      results: [],
      unresponsive_engines: [
        ["bing", "timeout"],
        ["google", "CAPTCHA"],
      ],
    };
    const error = await search().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProviderCallError);
    expect((error as Error).message).toBe(
      "SearXNG's engines did not answer: bing (timeout), google (CAPTCHA)",
    );
  });

  it("answers with the results of the engines that did, warning of those that did not", async () => {
    reply = { ...answer, unresponsive_engines: [["google", "Suspended: CAPTCHA"], ["wikidata"], "odd"] };
    const { hits, warning } = await search();
    expect(hits.map((hit) => hit.url)).toEqual(EXPECTED_HITS.map((hit) => hit.url));
    expect(warning).toBe("SearXNG's engines did not answer: google (Suspended: CAPTCHA), wikidata");
  });

  it("answers no results without a warning when every engine answered and found nothing", async () => {
    reply = { ...answer, results: [], unresponsive_engines: [] };
    expect(await search()).toEqual({ hits: [] });
  });
});
