import { describe, expect, it } from "vitest";
import { ExpiringPromises } from "./expiring-promises.js";

describe("expiring promises", () => {
  it("share one load among callers that miss together, and load again once it expires", async () => {
    const kept = new ExpiringPromises(40);
    let loads = 0;
    const load = async () => {
      await new Promise((done) => setTimeout(done, 10));
      return ++loads;
    };
    expect(
      await Promise.all([kept.get("user", load), kept.get("user", load), kept.get("user", load)]),
    ).toEqual([1, 1, 1]);
    await new Promise((done) => setTimeout(done, 60));
    expect(await kept.get("user", load)).toBe(2);
  });

  it("keep no failed load, and no load begun before a clear", async () => {
    const kept = new ExpiringPromises(60_000);
    await expect(kept.get("user", async () => Promise.reject(new Error("database away")))).rejects.toThrow();
    expect(await kept.get("user", async () => "read again")).toBe("read again");

    let finish: (value: string) => void = () => {};
    const before = kept.get("settings", () => new Promise<string>((done) => (finish = done)));
    kept.clear();
    finish("read before the change");
    expect(await before).toBe("read before the change");
    expect(await kept.get("settings", async () => "read after it")).toBe("read after it");
    kept.set("settings", "just written");
    expect(await kept.get("settings", async () => "not read")).toBe("just written");
  });
});
