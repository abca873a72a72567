import { describe, expect, it } from "vitest";
import { AdmissionQueue } from "./admission-queue.js";

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("admission queue", () => {
  it("runs at most `concurrency` at once and serves users round robin", async () => {
    const queue = new AdmissionQueue({ defaultConcurrency: 1, maxQueue: 100, maxWaitMs: 10_000 });
    const first = await queue.acquire("m", "alice");
    const order: string[] = [];
    const waits = [
      ...Array.from({ length: 5 }, (_, index) => ({ user: "alice", label: `alice-${index}` })),
      { user: "bob", label: "bob-0" },
      { user: "carol", label: "carol-0" },
    ].map(async ({ user, label }) => {
      const admission = await queue.acquire("m", user);
      order.push(label);
      await tick();
      admission.release();
    });
    expect(queue.depth("m")).toEqual({ active: 1, waiting: 7 });
    first.release();
    await Promise.all(waits);
    // Alice's burst of five does not make Bob and Carol wait behind all of it.
    expect(order.slice(0, 3)).toEqual(["alice-0", "bob-0", "carol-0"]);
    expect(order).toHaveLength(7);
    expect(queue.depth("m")).toEqual({ active: 0, waiting: 0 });
  });

  it("tells a waiting request its place, and updates it as the queue moves", async () => {
    const queue = new AdmissionQueue({ defaultConcurrency: 1, maxQueue: 10, maxWaitMs: 10_000 });
    const running = await queue.acquire("m", "a");
    const positions: number[] = [];
    const second = queue.acquire("m", "b");
    const third = queue.acquire("m", "c", { onPosition: (position) => positions.push(position) });
    expect(positions).toEqual([2]);
    running.release();
    (await second).release();
    const admitted = await third;
    expect(positions).toEqual([2, 1]);
    expect(admitted.initialPosition).toBe(2);
    admitted.release();
  });

  it("answers 429 MODEL_QUEUE_FULL with a Retry-After when the queue is full, one a client should wait out and retry", async () => {
    const queue = new AdmissionQueue({ defaultConcurrency: 1, maxQueue: 1, maxWaitMs: 10_000 });
    const running = await queue.acquire("m", "a");
    const waiting = queue.acquire("m", "b");
    await expect(queue.acquire("m", "c")).rejects.toMatchObject({
      code: "MODEL_QUEUE_FULL",
      status: 429,
      retryAfterSeconds: expect.any(Number),
      shouldRetry: true,
    });
    running.release();
    (await waiting).release();
  });

  it("frees the place of a request whose client went away, and gives up after the maximum wait", async () => {
    const queue = new AdmissionQueue({ defaultConcurrency: 1, maxQueue: 5, maxWaitMs: 50 });
    const running = await queue.acquire("m", "a");
    const controller = new AbortController();
    const abandoned = queue.acquire("m", "b", { signal: controller.signal });
    controller.abort(new Error("client disconnected"));
    await expect(abandoned).rejects.toThrow("client disconnected");
    expect(queue.depth("m").waiting).toBe(0);
    await expect(queue.acquire("m", "c")).rejects.toMatchObject({
      code: "MODEL_QUEUE_TIMEOUT",
      shouldRetry: true,
    });
    running.release();
    expect(queue.depth("m")).toEqual({ active: 0, waiting: 0 });
  });

  it("keeps a forgotten model's slots until its last request leaves: one of that name added meanwhile waits for them", async () => {
    const dropped: string[] = [];
    const queue = new AdmissionQueue({
      defaultConcurrency: 1,
      maxQueue: 5,
      maxWaitMs: 10_000,
      onDropped: (key) => dropped.push(key),
    });
    const running = await queue.acquire("m", "a");
    queue.forget("m");
    expect(queue.keys()).toEqual([]);
    // Re-added under the same name: the one slot is still held.
    const readded = queue.acquire("m", "b");
    expect(queue.depth("m")).toEqual({ active: 1, waiting: 1 });
    running.release();
    (await readded).release();
    // Asked for again, it is served again: kept, not dropped.
    expect(dropped).toEqual([]);
    expect(queue.keys()).toEqual(["m"]);

    const last = await queue.acquire("m", "a");
    queue.forget("m");
    last.release();
    expect(dropped).toEqual(["m"]);
    expect(queue.depth("m")).toEqual({ active: 0, waiting: 0 });
  });
});
