import { describe, expect, it } from "vitest";
import { startFakeModelService } from "../test/support/fake-model-service.js";
import { signUp } from "../test/support/web-client.js";
import { startWeb } from "../test/support/web-harness.js";

describe("the web service's /metrics", () => {
  it("requires the service token when one is configured, as the other services do; its own routes do not", async () => {
    const token = "web-metrics-token-0123456789";
    const model = await startFakeModelService();
    const web = await startWeb({ modelUrl: model.url, token });
    try {
      expect((await web.app.inject("/metrics")).statusCode).toBe(401);
      expect(
        (await web.app.inject({ url: "/metrics", headers: { authorization: "Bearer wrong" } })).statusCode,
      ).toBe(401);
      for (const headers of [{ "x-hearth-service-token": token }, { authorization: `Bearer ${token}` }]) {
        const scraped = await web.app.inject({ url: "/metrics", headers });
        expect(scraped.statusCode).toBe(200);
        expect(scraped.body).toContain("hearth_");
      }
      // The UI, the health checks, sign-in and the API keep their own access rules.
      expect((await web.app.inject("/healthz")).statusCode).toBe(200);
      expect((await web.app.inject("/api/auth/session")).statusCode).toBe(200);
      const user = await signUp(web.app, "admin");
      expect((await web.app.inject({ url: "/api/conversations", headers: user.headers })).statusCode).toBe(
        200,
      );
    } finally {
      await web.close();
      await model.close();
    }
  });

  it("stays open without a service token (a single machine)", async () => {
    const model = await startFakeModelService();
    const web = await startWeb({ modelUrl: model.url });
    try {
      expect((await web.app.inject("/metrics")).statusCode).toBe(200);
    } finally {
      await web.close();
      await model.close();
    }
  });
});
