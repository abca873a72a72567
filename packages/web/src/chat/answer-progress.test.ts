import type { Logger } from "@hearth/core";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { AnswerText } from "../conversations/conversation-store.js";
import { ANSWER_SILENCE_MS } from "../conversations/conversation-store.js";
import { HEARTBEAT_MS, PROGRESS_INTERVAL_MS, storeProgressPeriodically } from "./answer-progress.js";

describe("storeProgressPeriodically", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const warnings: unknown[] = [];
  const logger = { warn: (...args: unknown[]) => warnings.push(args) } as unknown as Logger;

  it("stores the answer once a second, only when it changed", async () => {
    const answer: AnswerText = { content: "", reasoning: "" };
    const stored: string[] = [];
    const progress = storeProgressPeriodically(
      () => ({ ...answer }),
      async (soFar) => {
        stored.push(soFar.content);
      },
      logger,
    );
    answer.content = "Hel";
    await vi.advanceTimersByTimeAsync(PROGRESS_INTERVAL_MS / 2);
    answer.content = "Hello";
    await vi.advanceTimersByTimeAsync(PROGRESS_INTERVAL_MS / 2);
    await vi.advanceTimersByTimeAsync(PROGRESS_INTERVAL_MS * 3);
    answer.content = "Hello there";
    await vi.advanceTimersByTimeAsync(PROGRESS_INTERVAL_MS);
    await progress.stop();
    answer.content = "Hello there, after the end";
    await vi.advanceTimersByTimeAsync(PROGRESS_INTERVAL_MS * 2);
    expect(stored).toEqual(["Hello", "Hello there"]);
  });

  it("stores an answer that did not change every few seconds, so that others know its writer is alive", async () => {
    const answer = { content: "", reasoning: null };
    const stored: number[] = [];
    const progress = storeProgressPeriodically(
      () => ({ ...answer }),
      async () => {
        stored.push(Date.now());
      },
      logger,
    );
    // Waiting for its first token (the model's queue): nothing changes for 12 s.
    await vi.advanceTimersByTimeAsync(12_000);
    await progress.stop();
    expect(stored).toHaveLength(2);
    expect(stored[1]! - stored[0]!).toBe(HEARTBEAT_MS);
    expect(HEARTBEAT_MS * 3).toBeLessThan(ANSWER_SILENCE_MS);
  });

  it("logs a write that failed and tries again at the next tick; stop waits for the write in flight", async () => {
    warnings.length = 0;
    let fail = true;
    let landed = "";
    const progress = storeProgressPeriodically(
      () => ({ content: "partial", reasoning: null }),
      async (soFar) => {
        await new Promise((resolve) => setTimeout(resolve, 300));
        if (fail) throw Object.assign(new Error("database is locked"), { code: "SQLITE_BUSY" });
        landed = soFar.content;
      },
      logger,
    );
    await vi.advanceTimersByTimeAsync(PROGRESS_INTERVAL_MS + 300);
    expect(warnings).toHaveLength(1);
    expect(JSON.stringify(warnings[0])).toContain("SQLITE_BUSY");
    fail = false;
    await vi.advanceTimersByTimeAsync(PROGRESS_INTERVAL_MS - 300);
    const stopping = progress.stop();
    await vi.advanceTimersByTimeAsync(300);
    await stopping;
    expect(landed).toBe("partial");
  });

  it("logs a database outage once per answer, not at every tick it lasts", async () => {
    warnings.length = 0;
    let grows = 0;
    const progress = storeProgressPeriodically(
      () => ({ content: "x".repeat(++grows), reasoning: null }),
      async () => {
        throw Object.assign(new Error("Connection terminated"), { code: "DATABASE_UNAVAILABLE" });
      },
      logger,
    );
    await vi.advanceTimersByTimeAsync(10 * PROGRESS_INTERVAL_MS);
    await progress.stop();
    expect(warnings).toHaveLength(1);
  });
});
