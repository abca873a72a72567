import { HearthError } from "@hearth/core";
import { describe, expect, it } from "vitest";
import { pdf } from "../testing/document-fixtures.fixture.js";
import { ParserPool } from "./parser-pool.js";

const bytes = new TextEncoder().encode("hello world");
const options = { maxExtractedBytes: 1024 * 1024 };

/** Whether a promise settles within a time limit: a task that never settles holds its lane for ever. */
async function settled(promise: Promise<unknown>, ms = 3000): Promise<string> {
  return Promise.race([
    promise.then(
      () => "resolved",
      (error: unknown) => `rejected: ${(error as HearthError).code ?? (error as Error).message}`,
    ),
    new Promise<string>((resolve) => setTimeout(() => resolve("pending"), ms)),
  ]);
}

describe("the parser pool and a cancelled task", () => {
  it("rejects a task whose signal is aborted before it is submitted, with the signal's reason", async () => {
    const pool = new ParserPool({ size: 1 });
    try {
      const job = new AbortController();
      job.abort(new HearthError("JOB_CANCELLED", "The job was cancelled"));
      expect(await settled(pool.parse("text", bytes, options, job.signal))).toBe("rejected: JOB_CANCELLED");
      expect(
        await settled(pool.prepare({ blocks: [] }, { maxTokens: 40, overlapTokens: 0 }, job.signal)),
      ).toBe("rejected: JOB_CANCELLED");
      // The pool still serves the next task.
      expect(await settled(pool.parse("text", bytes, options), 20_000)).toBe("resolved");
    } finally {
      await pool.close();
    }
  });

  it("rejects a task aborted while it waits in the queue, with the signal's reason, and runs the rest", async () => {
    const pool = new ParserPool({ size: 1 });
    try {
      const first = pool.parse("text", bytes, options);
      const job = new AbortController();
      const queued = pool.parse("text", bytes, options, job.signal);
      const after = pool.parse("text", bytes, options);
      job.abort(new HearthError("SERVICE_NOT_READY", "The service is shutting down"));
      expect(await settled(queued)).toBe("rejected: SERVICE_NOT_READY");
      expect(await settled(first, 20_000)).toBe("resolved");
      expect(await settled(after, 20_000)).toBe("resolved");
    } finally {
      await pool.close();
    }
  });
});

describe("the parser pool and a PDF's pages", () => {
  /** A PDF of `count` pages, each of 50 lines: over a megabyte at 200 pages, which the pool shares out. */
  const pages = (count: number) =>
    pdf(
      Array.from({ length: count }, (_, page) =>
        Array.from({ length: 50 }, (_, line) => `Page ${page + 1}, line ${line + 1}: ${"text ".repeat(20)}`),
      ),
    );

  it("tells how many of a big PDF's pages are read as it goes, by all its threads together", async () => {
    const pool = new ParserPool({ size: 2 });
    try {
      const shared = pages(200);
      expect(pool.splits("pdf", shared.length)).toBe(true);
      const told: Array<[number, number]> = [];
      const parsed = await pool.parse("pdf", shared, options, undefined, (read, pageCount) =>
        told.push([read, pageCount]),
      );
      expect(parsed.pageCount).toBe(200);
      expect(told.length).toBe(200);
      expect(told.map(([read]) => read)).toEqual(Array.from({ length: 200 }, (_, index) => index + 1));
      expect(told.every(([, pageCount]) => pageCount === 200)).toBe(true);

      // Parsed and chunked in one thread, as a big file is: the same.
      const whole: Array<[number, number]> = [];
      await pool.parseChunks(
        "pdf",
        pages(3),
        options,
        { maxTokens: 200, overlapTokens: 0 },
        undefined,
        (read, pageCount) => whole.push([read, pageCount]),
      );
      expect(whole).toEqual([
        [1, 3],
        [2, 3],
        [3, 3],
      ]);
    } finally {
      await pool.close();
    }
  });
});
