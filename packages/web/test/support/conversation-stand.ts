import { afterAll, beforeAll, expect } from "vitest";
import { type FakeKnowledge, startFakeKnowledgeAndSearch } from "./fake-knowledge-search.js";
import { type FakeModelService, startFakeModelService } from "./fake-model-service.js";
import { parseSse, type Session, signUp } from "./web-client.js";
import { type Dialect, startWeb, type WebHarness } from "./web-harness.js";

/**
 * What a conversation test runs against: a web service on `dialect` listening on a port (turns
 * stream over HTTP), the fake model service (`tiny-story`) behind it, and two users, alice and bob;
 * with `knowledgeAndSearch`, the knowledge and search stand-in behind it too (`services`). Started
 * before the file's tests and closed after them; its fields are set once started.
 */
export interface ConversationStand {
  model: FakeModelService;
  /** The knowledge and search stand-in, when asked for. */
  services?: FakeKnowledge;
  web: WebHarness;
  url: string;
  alice: Session;
  bob: Session;
  /** A turn of alice's streamed to its end (`messages`, `regenerate` or `continue`, model tiny-story unless given): its SSE parts. */
  turn(
    id: string,
    path: "messages" | "regenerate" | "continue",
    payload?: Record<string, unknown>,
  ): Promise<Array<Record<string, unknown>>>;
}

export function useConversationStand(
  dialect: Dialect,
  options: { knowledgeAndSearch?: boolean } = {},
): ConversationStand {
  const stand = {} as ConversationStand;
  beforeAll(async () => {
    stand.model = await startFakeModelService({ models: ["tiny-story"] });
    if (options.knowledgeAndSearch) stand.services = await startFakeKnowledgeAndSearch();
    const services = stand.services
      ? { knowledgeUrl: stand.services.url, searchUrl: stand.services.url }
      : {};
    stand.web = await startWeb({ modelUrl: stand.model.url, ...services }, {}, dialect);
    stand.url = await stand.web.app.listen({ host: "127.0.0.1", port: 0 });
    stand.alice = await signUp(stand.web.app, "alice");
    stand.bob = await signUp(stand.web.app, "bob");
  });
  afterAll(async () => {
    await stand.web?.close();
    await stand.services?.close();
    await stand.model?.close();
  });
  stand.turn = async (id, path, payload = {}) => {
    const response = await fetch(`${stand.url}/api/conversations/${id}/${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...stand.alice.headers },
      body: JSON.stringify({ model: "tiny-story", ...payload }),
    });
    expect(response.status).toBe(200);
    return parseSse(await response.text());
  };
  return stand;
}
