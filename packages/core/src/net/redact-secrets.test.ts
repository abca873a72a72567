import { describe, expect, it } from "vitest";
import { authorizationSecrets, redactSecrets } from "./redact-secrets.js";

describe("redactSecrets", () => {
  it("replaces a secret raw, URL-encoded and form-encoded, with percent escapes in either case", () => {
    const secret = "k3y/with+odd chars";
    const echoed = [secret, encodeURIComponent(secret), "k3y%2fwith%2bodd%20chars", "k3y%2Fwith%2Bodd+chars"];
    expect(redactSecrets(`sent ${echoed.join(" | ")}`, [secret])).toBe(
      "sent [redacted] | [redacted] | [redacted] | [redacted]",
    );
  });

  it("replaces a Bearer header whole, and the token alone", () => {
    const secrets = authorizationSecrets("Bearer sk-live-123456");
    expect(redactSecrets("Authorization: Bearer sk-live-123456; key sk-live-123456", secrets)).toBe(
      "Authorization: [redacted]; key [redacted]",
    );
  });

  it("replaces Basic credentials encoded, decoded, and the password alone", () => {
    const header = `Basic ${Buffer.from("hearth:pa55word").toString("base64")}`;
    expect(
      redactSecrets(
        `${header} / ${header.slice(6)} / hearth:pa55word / pa55word`,
        authorizationSecrets(header),
      ),
    ).toBe("[redacted] / [redacted] / [redacted] / [redacted]");
  });

  it("leaves a secret too short to tell from a word", () => {
    expect(redactSecrets("the answer", ["the"])).toBe("the answer");
  });
});
