import { HearthError } from "@hearth/core";
import { describe, expect, it } from "vitest";
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
