import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Session, signUp } from "../../test/support/web-client.js";
import { dialects, startWeb, type WebHarness } from "../../test/support/web-harness.js";
import { SettingsStore } from "./settings-store.js";

describe("settings read by a process", () => {
  let web: WebHarness;
  beforeAll(async () => {
    web = await startWeb({ modelUrl: "http://127.0.0.1:9" });
  });
  afterAll(() => web.close());

  it("follow another process's change within their age even when its notice never came", async () => {
    const here = new SettingsStore(web.db, web.config, { maxAgeMs: 200 });
    const elsewhere = new SettingsStore(web.db, web.config);
    expect((await here.get()).signup).not.toBe("closed");
    await elsewhere.update({ signup: "closed" });
    // No invalidate(): the peer bus's notice was lost.
    await sleep(250);
    expect((await here.get()).signup).toBe("closed");
  });
});

describe.each(dialects)("limits an administrator sets on %s", (dialect) => {
  let web: WebHarness;
  let admin: Session;
  beforeAll(async () => {
    web = await startWeb({ modelUrl: "http://127.0.0.1:9" }, {}, dialect);
    admin = await signUp(web.app, "admin");
  });
  afterAll(() => web?.close());

  const patch = (payload: Record<string, unknown>) =>
    web.app.inject({ method: "PATCH", url: "/api/admin/settings", headers: admin.headers, payload });

  it("takes the four limit keys, per user and per group", async () => {
    const limits = {
      requestsPerMinute: 20,
      requestsPerDay: 500,
      tokensPerMinute: 20000,
      tokensPerDay: 200000,
    };
    const saved = await patch({
      userLimits: limits,
      groupLimits: { "some-group": { tokensPerDay: 1000000 } },
    });
    expect(saved.statusCode).toBe(200);
    expect(saved.json()).toMatchObject({
      userLimits: limits,
      groupLimits: { "some-group": { tokensPerDay: 1000000 } },
    });
  });

  it("refuses a key it does not know, naming the keys it takes", async () => {
    const keys = "requestsPerMinute, requestsPerDay, tokensPerMinute, tokensPerDay";
    for (const [payload, path] of [
      [{ userLimits: { foo: 1 } }, "userLimits"],
      [{ groupLimits: { "some-group": { requestsPerHour: 1 } } }, "groupLimits.some-group"],
    ] as const) {
      const refused = await patch(payload);
      expect(refused.statusCode, path).toBe(400);
      const { error } = refused.json() as {
        error: { code: string; message: string; details: { issues: Array<{ path: string; code: string }> } };
      };
      expect(error.code).toBe("INVALID_REQUEST");
      expect(error.message).toContain(`${path}: Unrecognized key`);
      expect(error.message).toContain(`the keys are ${keys}`);
      expect(error.details.issues).toEqual([expect.objectContaining({ path, code: "unrecognized_keys" })]);
    }
    // A setting it does not know is named alike, beside the settings there are.
    const unknown = (await patch({ userLimit: {} })).json() as { error: { message: string } };
    expect(unknown.error.message).toMatch(
      /^Unrecognized key: "userLimit"; the keys are signup, userLimits, groupLimits/,
    );
  });
});
