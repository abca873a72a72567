import { type ClientRequest, request } from "node:http";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  createApiKey,
  parseSse,
  type Session,
  sendInNewConversation,
  signUp,
} from "../../packages/web/test/support/web-client.js";
import { type RealModelStand, startRealModelStand } from "../support/real-model-stand.js";

/**
 * The model service's admission queue takes turns across users. Through the web service every call
 * comes from one address, so the web service has to say whose each call is: otherwise one user's
 * burst (a script on an API key) waits in front of everyone else's answers.
 */
describe("the model service's queue, behind the web service", () => {
  let stand: RealModelStand;
  let url: string;
  let modelId: string;
  const keys: Record<string, string> = {};
  const sessions: Record<string, Session> = {};

  beforeAll(async () => {
    // The tiny model's whole context (512), for answers of 480 tokens below.
    stand = await startRealModelStand("fair", { queue: { concurrency: 1 }, contextSize: 512 });
    url = await stand.web.app.listen({ host: "127.0.0.1", port: 0 });
    for (const name of ["burst", "other"]) {
      sessions[name] = await signUp(stand.web.app, name);
      keys[name] = await createApiKey(stand.web.app, sessions[name]);
    }
    const models = (await (
      await fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${keys.burst}` } })
    ).json()) as {
      data: Array<{ id: string }>;
    };
    modelId = models.data[0]!.id;
  });
  afterAll(async () => {
    await stand?.close();
  });

  /** The streams a test opened, closed after it (an aborted fetch leaves its connection open). */
  const open: ClientRequest[] = [];
  afterEach(() => {
    for (const request of open.splice(0)) request.destroy();
  });

  /**
   * Starts a streamed answer (sampled, so never from the cache); resolves with its first SSE event
   * once that is in (a waiting one opens with its place: `: queue position N`).
   */
  const ask = (user: string, content: string, maxTokens = 200) =>
    new Promise<string>((resolve, reject) => {
      const call = request(`${url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${keys[user]}`, "content-type": "application/json" },
      });
      open.push(call);
      call.on("error", reject);
      call.on("response", (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (data: string) => {
          text += data;
          if (text.includes("\n\n")) resolve(text.slice(0, text.indexOf("\n\n")));
        });
      });
      call.end(
        JSON.stringify({
          model: modelId,
          messages: [{ role: "user", content }],
          stream: true,
          temperature: 0.9,
          max_tokens: maxTokens,
        }),
      );
    });

  it("puts another user's request after the burst's running one, not after the whole burst", async () => {
    const burst = await Promise.all(["one", "two", "three", "four"].map((word) => ask("burst", word)));
    // One of the burst's answers runs and three wait; the other user's turn comes next but one.
    expect(burst.filter((first) => first.startsWith(": queue position"))).toHaveLength(3);
    const other = await ask("other", "five");
    expect(other).toBe(": queue position 2");
  });

  it("does the same for a chat in the web UI", async () => {
    // Twenty answers of 480 tokens (the tiny model never ends one early) keep the queue full for a
    // few seconds, however slowly a loaded machine gets the chat's request in.
    const words = Array.from({ length: 20 }, (_, n) => `word ${n + 6}`);
    const burst = await Promise.all(words.map((word) => ask("burst", word, 480)));
    const { response } = await sendInNewConversation(stand.web.app, url, sessions.other!, {
      model: modelId,
      content: "ten",
    });
    // One of the burst runs and the rest wait; all of it waits when the last test's answer is still
    // stopping (its connection closed a moment ago): the chat's turn is measured against either.
    expect(burst.filter((first) => first.startsWith(": queue position")).length).toBeGreaterThanOrEqual(
      words.length - 1,
    );
    // The burst is closed only once the chat's answer is in: the web service sends the answer's
    // headers before it calls the model service, and a queue emptied meanwhile would have no place
    // to give it.
    const parts = parseSse(await response.text());
    for (const call of open.splice(0)) call.destroy();
    const waited = parts.find((part) => part.type === "queue-position");
    // Its turn comes after the burst's next one (2), or first (1) when the burst's running answer
    // ended while the chat was being stored (the next then runs, the chat's turn before the rest);
    // counted as one caller with the burst, it would wait behind the whole burst (up to 19).
    expect(waited, JSON.stringify(parts.slice(0, 4))).toMatchObject({ type: "queue-position" });
    expect((waited as { position: number }).position).toBeLessThanOrEqual(2);
  });
});
