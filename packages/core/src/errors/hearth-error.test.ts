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
});
