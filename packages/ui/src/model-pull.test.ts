import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "./api.js";
import type { PullStep } from "./display-text.js";
import { MESSAGES } from "./i18n.js";
import {
  cancelPull,
  currentPulls,
  dismissPull,
  followPull,
  forgetPulls,
  type PullProgress,
  pullProgressText,
  showPulls,
  startPull,
} from "./model-pull.js";

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
    // The model and version installed, where the service names them; the same weights again, so said.
    const installed = { status: "success", name: "tiny:latest", version: "1.1.0", digest: "sha256:ab" };
    expect(pullProgressText(en, installed)).toBe("Done: tiny:latest 1.1.0 installed");
    expect(pullProgressText(zh, installed)).toBe("完成：已安装 tiny:latest 1.1.0");
    expect(pullProgressText(en, { ...installed, unchanged: true })).toBe(
      "Done: tiny:latest is already up to date (1.1.0)",
    );
    expect(pullProgressText(zh, { ...installed, unchanged: true })).toBe(
      "完成：tiny:latest 已是最新（1.1.0）",
    );
  });
});

/** A gate: a pull's answer is held until `open` is called. */
function gate() {
  let open!: () => void;
  const until = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { until, open };
}

/** A pull's steps: `before` at once, the rest once `held` opens. */
async function* heldAnswer(before: PullStep[], held: Promise<void>, after: PullStep[]) {
  yield* before;
  await held;
  yield* after;
}

/** Lets what a page's leaving queued run (React's effects have all run by then). */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

/** The rows as a Models page would show them: the model, what its row says, whether it has a Cancel. */
const shownRows = () =>
  currentPulls().rows.map((row) => [row.model, pullProgressText(en, row.progress), row.running]);

describe("the tab's model pulls, kept beyond the admin Models page", () => {
  afterEach(forgetPulls);

  it("go on while the page is left, showing their progress and Cancel when it is shown again; a Cancel then reads as cancelled, once", async () => {
    const leave = showPulls();
    const pulled = startPull("halted", (signal) => answer([downloading], { signal }));
    await vi.waitFor(() => expect(shownRows()).toEqual([["halted", "Downloading 7f87ebb17618 50%", true]]));
    // Another admin tab: the pull runs on, its row kept.
    leave();
    await settle();
    expect(shownRows()).toEqual([["halted", "Downloading 7f87ebb17618 50%", true]]);
    // Models again: its progress and its Cancel.
    const leaveAgain = showPulls();
    expect(shownRows()).toEqual([["halted", "Downloading 7f87ebb17618 50%", true]]);
    cancelPull(currentPulls().rows[0]!.id);
    expect(await pulled).toEqual({ cancelled: true });
    expect(shownRows()).toEqual([["halted", "Pull cancelled", false]]);
    // Shown once: left again, the ended pull is forgotten.
    leaveAgain();
    await settle();
    expect(shownRows()).toEqual([]);
  });

  it("show what a pull came to while the page was not shown, once, when it is shown again", async () => {
    const ended = currentPulls().ended;
    const held = gate();
    const installed = startPull("tiny", () => heldAnswer([downloading], held.until, [{ status: "success" }]));
    const failed = startPull("gone", () =>
      heldAnswer([], held.until, [{ error: "no such model", code: "MODEL_NOT_FOUND" }]),
    );
    await vi.waitFor(() => expect(shownRows()[0]).toEqual(["tiny", "Downloading 7f87ebb17618 50%", true]));
    held.open();
    await Promise.all([installed, failed]);
    // Each ended pull asks a Models page shown to read its models again.
    expect(currentPulls().ended).toBe(ended + 2);
    // Shown again (React's strict mode hides it and shows it again at once, which is not leaving it).
    showPulls()();
    const leave = showPulls();
    await settle();
    // The failure's code worded, as the page says it.
    expect(shownRows()).toEqual([
      ["tiny", "Done", false],
      ["gone", "Error: This model is not available.", false],
    ]);
    leave();
    await settle();
    expect(shownRows()).toEqual([]);
  });

  it("gives each of two pulls at once its own row and Cancel; a new pull keeps the ended ones", async () => {
    const leave = showPulls();
    const a = startPull("a", (signal) => answer([downloading], { signal }));
    const b = startPull("b", (signal) => answer([{ status: "pulling manifest" }], { signal }));
    await vi.waitFor(() =>
      expect(shownRows()).toEqual([
        ["a", "Downloading 7f87ebb17618 50%", true],
        ["b", "Reading the manifest", true],
      ]),
    );
    const [rowA, rowB] = currentPulls().rows;
    cancelPull(rowA!.id);
    await a;
    expect(shownRows()).toEqual([
      ["a", "Pull cancelled", false],
      ["b", "Reading the manifest", true],
    ]);
    const c = startPull("c", (signal) => answer([], { signal }));
    expect(currentPulls().rows.map((row) => row.model)).toEqual(["a", "b", "c"]);
    cancelPull(rowB!.id);
    cancelPull(currentPulls().rows[2]!.id);
    expect(await Promise.all([b, c])).toEqual([{ cancelled: true }, { cancelled: true }]);
    leave();
    await settle();
    expect(shownRows()).toEqual([]);
  });

  it("keep the last few outcomes when another pull starts, each dismissed on its own; a running one is not", async () => {
    const leave = showPulls();
    for (const model of ["m1", "m2", "m3", "m4", "m5", "m6"])
      await startPull(model, () =>
        answer([{ status: "success", name: `${model}:latest`, version: "1.0.0" }]),
      );
    const running = startPull("m7", (signal) => answer([downloading], { signal }));
    await vi.waitFor(() => expect(currentPulls().rows.at(-1)?.progress).toEqual(downloading));
    // The oldest outcome gives way: five kept, beside the running pull.
    expect(currentPulls().rows.map((row) => row.model)).toEqual(["m2", "m3", "m4", "m5", "m6", "m7"]);
    expect(shownRows()[0]).toEqual(["m2", "Done: m2:latest 1.0.0 installed", false]);
    dismissPull(currentPulls().rows[1]!.id);
    dismissPull(currentPulls().rows.at(-1)!.id);
    expect(currentPulls().rows.map((row) => row.model)).toEqual(["m2", "m4", "m5", "m6", "m7"]);
    cancelPull(currentPulls().rows.at(-1)!.id);
    await running;
    leave();
    await settle();
  });

  it("are forgotten on signing out, running or not", async () => {
    const leave = showPulls();
    const running = startPull("a", (signal) => answer([downloading], { signal }));
    await vi.waitFor(() => expect(shownRows()).toEqual([["a", "Downloading 7f87ebb17618 50%", true]]));
    const [row] = currentPulls().rows;
    forgetPulls();
    expect(shownRows()).toEqual([]);
    // Its request stopped (the sign-out aborts every request): it comes back no more.
    cancelPull(row!.id);
    await running;
    expect(shownRows()).toEqual([]);
    leave();
  });
});
