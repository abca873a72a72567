import { searchProviderSchema } from "@hearth/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ReplayServer, sendJson } from "../../test/replay-server.js";
import { fanOut, ProviderSlot } from "../fan-out/fan-out.js";
import { createProvider } from "./create-provider.js";

// Brave's 429 with its per-window rate-limit headers (the second, then the month).
let limits: Record<string, string> = {};
const server = new ReplayServer((_request, response) =>
  sendJson(response, 429, { type: "ErrorResponse", error: { status: 429, code: "RATE_LIMITED" } }, limits),
);

beforeAll(async () => {
  await server.start();
});
afterAll(async () => {
  await server.close();
});

describe("Brave rate limits", () => {
  it.each([
    ["the monthly quota is spent", { "x-ratelimit-remaining": "0, 0" }, 1_419_704],
    ["only the monthly quota is spent", { "x-ratelimit-remaining": "1, 0" }, 1_419_704],
    ["only the second is spent", { "x-ratelimit-remaining": "0, 1985" }, 1],
    ["Remaining is missing", {}, 1_419_704],
  ])("waits until the window used up resets when %s", async (_case, remaining, seconds) => {
    limits = { "x-ratelimit-limit": "1, 2000", "x-ratelimit-reset": "1, 1419704", ...remaining };
    const config = searchProviderSchema.parse({
      id: "brave",
      type: "brave",
      apiKey: "brave-key-0123",
      url: `${server.url}/res/v1/web/search`,
      retries: 0,
    });
    const brave = new ProviderSlot(createProvider(config), config, { failureThreshold: 5, cooldownMs: 1000 });
    const query = { query: "node 20", limit: 5, deadlineMs: 2000 };
    expect((await fanOut([brave], query)).outcomes[0]!.status).toBe("rate-limited");
    const calls = server.requests.length;
    const next = (await fanOut([brave], query)).outcomes[0]!;
    expect(next).toMatchObject({
      status: "rate-limited",
      error: `skipped: the engine asked to wait ${seconds} s more`,
    });
    expect(server.requests.length).toBe(calls);
  });
});
