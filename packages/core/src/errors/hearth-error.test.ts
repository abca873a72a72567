import { describe, expect, it } from "vitest";
import { authorizationSecrets } from "../net/redact-secrets.js";
import { UpstreamCallError } from "./hearth-error.js";

describe("UpstreamCallError", () => {
  it("leaves the secrets out of its message, stack and kept body", () => {
    const error = new UpstreamCallError({
      url: "http://upstream/v1/chat/completions",
      status: 500,
      body: "you sent Bearer sk-live-123456",
      message: "upstream answered 500: you sent Bearer sk-live-123456",
      secrets: authorizationSecrets("Bearer sk-live-123456"),
    });
    expect(`${error.message} ${error.stack} ${error.responseBody}`).not.toContain("sk-live");
  });

  it("passes on a 4xx that describes the request, and makes a refusal of Hearth's credentials a 502", () => {
    const status = (upstream: number) =>
      new UpstreamCallError({ url: "u", status: upstream, message: "m" }).status;
    expect([400, 404, 413, 422, 429].map(status)).toEqual([400, 404, 413, 422, 429]);
    expect([401, 403, 407, 500, 503].map(status)).toEqual([502, 502, 502, 502, 502]);
  });

  it("says which upstream did not answer and why, in one wording, as a retryable UPSTREAM_UNAVAILABLE", () => {
    const refused = Object.assign(new TypeError("fetch failed"), {
      cause: Object.assign(new Error("connect ECONNREFUSED 10.0.0.7:11434"), { code: "ECONNREFUSED" }),
    });
    const model = UpstreamCallError.noAnswer({ url: "/api/pull", service: "model", cause: refused });
    expect(model).toMatchObject({
      code: "UPSTREAM_UNAVAILABLE",
      status: 502,
      isRetryable: true,
      details: { service: "model" },
      message: "the model service did not answer: connection refused (ECONNREFUSED)",
    });
    expect(model.cause).toBe(refused);
    expect(
      UpstreamCallError.noAnswer({
        url: "http://127.0.0.1:7701/v1/knowledge-bases",
        service: "knowledge",
        at: "http://127.0.0.1:7701",
        cause: refused,
        hint: "is it running? (HEARTH_KNOWLEDGE_URL)",
      }).message,
    ).toBe(
      "the knowledge service at http://127.0.0.1:7701 did not answer: connection refused (ECONNREFUSED); is it running? (HEARTH_KNOWLEDGE_URL)",
    );
    const tika = UpstreamCallError.noAnswer({
      url: "http://tika:9998/tika",
      upstream: "Tika at http://tika:9998",
      cause: refused,
    });
    expect(tika.message).toBe("Tika at http://tika:9998 did not answer: connection refused (ECONNREFUSED)");
    expect(tika.details).toBeUndefined();
    // A connection closed before any answer has no cause to give.
    expect(UpstreamCallError.noAnswer({ url: "u", service: "model" }).message).toBe(
      "the model service did not answer",
    );
  });
});
