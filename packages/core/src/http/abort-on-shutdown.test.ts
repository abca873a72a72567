import { describe, expect, it } from "vitest";
import { abortOnShutdown } from "./abort-on-shutdown.js";

describe("abortOnShutdown", () => {
  it("aborts every request still open when the service shuts down, with the shutdown's reason", () => {
    const shutdown = new AbortController();
    const open = [new AbortController(), new AbortController()];
    const finished = new AbortController();
    for (const request of open) abortOnShutdown(shutdown.signal, request);
    const forget = abortOnShutdown(shutdown.signal, finished);
    forget();
    const reason = new Error("service shutting down");
    shutdown.abort(reason);
    expect(open.map((request) => request.signal.reason)).toEqual([reason, reason]);
    expect(finished.signal.aborted).toBe(false);
  });

  it("aborts a request that arrives after the shutdown at once", () => {
    const shutdown = new AbortController();
    shutdown.abort(new Error("stopping"));
    const late = new AbortController();
    abortOnShutdown(shutdown.signal, late);
    expect(late.signal.aborted).toBe(true);
  });

  it("keeps services apart: one shutting down leaves the other's requests open", () => {
    const first = new AbortController();
    const second = new AbortController();
    const ofFirst = new AbortController();
    const ofSecond = new AbortController();
    abortOnShutdown(first.signal, ofFirst);
    abortOnShutdown(second.signal, ofSecond);
    first.abort();
    expect(ofFirst.signal.aborted).toBe(true);
    expect(ofSecond.signal.aborted).toBe(false);
  });
});
