import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWeb, type WebHarness } from "../../test/support/web-harness.js";
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
