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
});
