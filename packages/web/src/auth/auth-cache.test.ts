import Fastify from "fastify";
import { describe, expect, it } from "vitest";
import type { PeerBus, PeerMessage } from "../cluster/peer-bus.js";
import { AuthCache } from "./auth-cache.js";

/** A bus that records what the cache tells the other processes. */
function recordingBus(): PeerBus & { sent: PeerMessage[] } {
  const sent: PeerMessage[] = [];
  return { sent, publish: (message) => sent.push(message), subscribe: () => {}, close: async () => {} };
}

describe("the auth cache", () => {
  it("is cleared here and in the other processes by a change that succeeded, never by a refused or failed request", async () => {
    const bus = recordingBus();
    const cache = new AuthCache(bus);
    const app = Fastify();
    cache.register(app);
    app.post("/api/auth/login", async (request, reply) =>
      (request.body as { password?: string }).password === "right"
        ? reply.send({ ok: true })
        : reply.code(401).send({ error: "INVALID_CREDENTIALS" }),
    );
    app.put("/api/admin/settings", async () => ({ saved: true }));
    let loads = 0;
    const lookup = () => cache.get("key", async () => ++loads);

    await lookup();
    // Anyone's refused attempts, and routes that do not exist, leave the cache and the peers alone.
    for (let attempt = 0; attempt < 20; attempt++) {
      await app.inject({ method: "POST", url: "/api/auth/login", payload: { password: "wrong" } });
      await app.inject({ method: "POST", url: "/api/auth/nope" });
      await app.inject({ method: "POST", url: "/api/admin/users" });
    }
    expect(await lookup()).toBe(1);
    expect(bus.sent).toEqual([]);

    await app.inject({ method: "PUT", url: "/api/admin/settings", payload: {} });
    expect(await lookup()).toBe(2);
    expect(bus.sent).toHaveLength(1);
    await app.close();
  });
});
