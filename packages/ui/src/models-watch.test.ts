import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { modelsRetryDelayMs, watchModels } from "./models-watch.js";

describe("the models list read again while the model service cannot be reached", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  /** A read that answers each time with the next of `answers` (true: reachable; an Error: the fetch failed). */
  const reads = (answers: Array<boolean | Error>) => {
    const read = vi.fn(async () => {
      const answer = answers.shift() ?? true;
      if (answer instanceof Error) throw answer;
      return answer;
    });
    return read;
  };

  it("waits 5 s, then longer each time, never more than 10 s", () => {
    expect([0, 1, 2, 3, 10].map(modelsRetryDelayMs)).toEqual([5000, 7500, 10_000, 10_000, 10_000]);
  });

  it("reads again on its own until the service answers, a failed fetch too, then stops asking", async () => {
    const read = reads([false, new TypeError("Failed to fetch"), false, true]);
    const watch = watchModels(read);
    await vi.advanceTimersByTimeAsync(0);
    expect(read).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(4999);
    expect(read).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(read).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(7500);
    expect(read).toHaveBeenCalledTimes(3);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(read).toHaveBeenCalledTimes(4);
    // Answered: no more reads, and focus asks nothing of a service that answers.
    await vi.advanceTimersByTimeAsync(60_000);
    watch.wake();
    await vi.advanceTimersByTimeAsync(0);
    expect(read).toHaveBeenCalledTimes(4);
    watch.stop();
  });

  it("reads at once on waking while it waits, and not at all once stopped", async () => {
    const read = reads([false, false, false]);
    const watch = watchModels(read);
    await vi.advanceTimersByTimeAsync(1000);
    watch.wake();
    await vi.advanceTimersByTimeAsync(0);
    expect(read).toHaveBeenCalledTimes(2);
    watch.stop();
    watch.wake();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(read).toHaveBeenCalledTimes(2);
  });
});

describe("the models list read again when the models change", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("reads again on refresh though the service answers, once more after a read under way", async () => {
    let settle: (() => void) | undefined;
    const read = vi.fn(
      () =>
        new Promise<boolean>((resolve) => {
          settle = () => resolve(true);
        }),
    );
    const watch = watchModels(read);
    expect(read).toHaveBeenCalledTimes(1);
    settle!();
    await vi.advanceTimersByTimeAsync(0);
    watch.refresh();
    expect(read).toHaveBeenCalledTimes(2);
    // Asked twice more during that read (a pull ended, then a delete): one read after it, not two.
    watch.refresh();
    watch.refresh();
    expect(read).toHaveBeenCalledTimes(2);
    settle!();
    await vi.advanceTimersByTimeAsync(0);
    expect(read).toHaveBeenCalledTimes(3);
    settle!();
    await vi.advanceTimersByTimeAsync(0);
    expect(read).toHaveBeenCalledTimes(3);
    watch.stop();
  });

  it("reads again on a refresh with a maximum age only once the last read is older", async () => {
    const read = vi.fn(async () => true);
    const watch = watchModels(read);
    await vi.advanceTimersByTimeAsync(500);
    // The window got focus and became visible at once: one read, not two.
    watch.refresh(2000);
    expect(read).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1500);
    watch.refresh(2000);
    watch.refresh(2000);
    expect(read).toHaveBeenCalledTimes(2);
    watch.stop();
    watch.refresh();
    expect(read).toHaveBeenCalledTimes(2);
  });
});
