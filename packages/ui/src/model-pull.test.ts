import { describe, expect, it } from "vitest";
import { ApiError } from "./api.js";
import type { PullStep } from "./display-text.js";
import { MESSAGES } from "./i18n.js";
import { followPull, type PullProgress, pullProgressText } from "./model-pull.js";

const en = MESSAGES.en;
const zh = MESSAGES["zh-CN"];
const downloading: PullStep = { status: "pulling 7f87ebb17618", completed: 50, total: 100 };

/**
 * A pull's NDJSON steps as the page reads them: `steps` at once, then (when `signal` is given) the
 * read waits until it is aborted and fails as a fetch does; `failure` fails the request instead.
 */
async function* answer(steps: PullStep[], options: { signal?: AbortSignal; failure?: Error } = {}) {
  for (const step of steps) yield step;
  if (options.failure) throw options.failure;
  const { signal } = options;
  if (!signal) return;
  if (!signal.aborted)
    await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
  // A step the page had read already (the same chunk) comes before the aborted read fails.
  yield { status: "pulling 7f87ebb17618", completed: 60, total: 100 };
  throw new DOMException("This operation was aborted", "AbortError");
}

describe("a model pull on the admin Models page", () => {
  it("reads as cancelled, not as an error, once its Cancel aborts it, in both languages", async () => {
    const cancel = new AbortController();
    const shown: PullProgress[] = [];
    const following = followPull(
      answer([downloading], { signal: cancel.signal }),
      cancel.signal,
      (progress) => {
        shown.push(progress);
        if (progress === downloading) cancel.abort();
      },
    );
    const outcome = await following;
    expect(outcome).toEqual({ cancelled: true });
    // The step before Cancel, then cancelled: no progress after it, no error.
    expect(shown).toEqual([downloading, { cancelled: true }]);
    expect(pullProgressText(en, outcome)).toBe("Pull cancelled");
    expect(pullProgressText(zh, outcome)).toBe("已取消拉取");
    expect(pullProgressText(en, downloading)).toBe("Downloading 7f87ebb17618 50%");
  });

  it("reads as failed when its request fails, and as done when it succeeds", async () => {
    const failed = await followPull(
      answer([downloading], { failure: new ApiError(403, "ADMIN_REQUIRED", "admins only") }),
      new AbortController().signal,
      () => undefined,
    );
    expect(pullProgressText(en, failed)).toMatch(/^Error: /);
    const done = await followPull(
      answer([downloading, { status: "success" }]),
      new AbortController().signal,
      () => undefined,
    );
    expect(done).toEqual({ status: "success" });
    expect(pullProgressText(en, done)).toBe("Done");
    expect(pullProgressText(zh, done)).toBe("完成");
  });
});
