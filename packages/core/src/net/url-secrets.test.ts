import { describe, expect, it } from "vitest";
import { urlCredentials, withoutUrlSecrets } from "./url-secrets.js";

describe("withoutUrlSecrets", () => {
  it("drops the user info and query of a URL, and of every URL a message names", () => {
    expect(withoutUrlSecrets("http://user:s3cret@host:8080/m/tiny.gguf?token=T0KEN#part")).toBe(
      "http://[redacted]@host:8080/m/tiny.gguf?[redacted]#part",
    );
    expect(
      withoutUrlSecrets(
        'host did not answer: Request cannot be constructed from a URL that includes credentials: https://u:p@a.example/x?k=1 and "http://b.example/y?sig=2"',
      ),
    ).toBe(
      'host did not answer: Request cannot be constructed from a URL that includes credentials: https://[redacted]@a.example/x?[redacted] and "http://b.example/y?[redacted]"',
    );
  });

  it("finds the secrets a URL parser would send: a query holding a quote, a scheme written with backslashes", () => {
    expect(
      withoutUrlSecrets("http://[redacted]@127.0.0.1:47810/err.gguf?token=ab'SECRETTAIL answered 500"),
    ).toBe("http://[redacted]@127.0.0.1:47810/err.gguf?[redacted] answered 500");
    expect(
      withoutUrlSecrets('"http:\\\\bob:PWA2@127.0.0.1:47810\\err.gguf?token=TKA2" is not a model reference'),
    ).toBe('"http:\\\\[redacted]@127.0.0.1:47810\\err.gguf?[redacted]" is not a model reference');
    expect(withoutUrlSecrets("(see https://u:p@host/x?k=1).")).toBe(
      "(see https://[redacted]@host/x?[redacted]).",
    );
  });

  it("leaves texts without URLs, and URLs without secrets, as they are", () => {
    for (const text of [
      "deepseek-r1:1.5b",
      "registry.local/library/tiny:latest",
      "https://host/m.gguf",
      "u1",
    ])
      expect(withoutUrlSecrets(text)).toBe(text);
  });
});

describe("urlCredentials", () => {
  it("sends a URL's user info as HTTP Basic credentials, percent-escapes decoded", () => {
    const { url, authorization } = urlCredentials("http://us%40er:p%3Ass@host/m.gguf?token=x");
    expect(url).toBe("http://host/m.gguf?token=x");
    expect(Buffer.from(authorization!.replace(/^Basic /, ""), "base64").toString()).toBe("us@er:p:ss");
  });

  it("adds no header to a URL without user info", () => {
    expect(urlCredentials("https://host/m.gguf")).toEqual({ url: "https://host/m.gguf" });
  });
});
