import { authorizationSecrets, redactSecrets, type SearchProviderConfig } from "@hearth/core";

/** The longest provider error API clients and the log are shown. */
const MAX_ERROR_CHARS = 300;

/**
 * A provider's error as API clients and the log see it. An engine may echo what it was sent (a
 * request line, a path, its headers, a message), so every form in which a secret was sent is
 * replaced (redactSecrets) before the message is cut: a cut first could leave a piece that no longer
 * matches. The secrets are the API key and whatever an operator wrote straight into the provider's
 * URL query or headers instead of `{apiKey}` (a token, an `Authorization` value).
 */
export function shownError(message: string, config: SearchProviderConfig): string {
  return redactSecrets(message, secretsOf(config)).slice(0, MAX_ERROR_CHARS);
}

/**
 * A header or query value this long may be a credential; a shorter one ("en", "json", "on") is a
 * setting, and replacing it would blank out ordinary words of the message.
 */
const MIN_WRITTEN_SECRET_CHARS = 8;

function secretsOf(config: SearchProviderConfig): string[] {
  const written: string[] = [];
  if ("headers" in config)
    for (const value of Object.values(config.headers ?? {})) {
      if (value.includes("{apiKey}")) continue;
      // "Bearer <token>": the token alone may be echoed too (and a Basic value decoded).
      written.push(...authorizationSecrets(value));
    }
  if ("url" in config && config.url)
    for (const value of new URLSearchParams(config.url.split("?")[1] ?? "").values())
      if (!value.includes("{")) written.push(value);
  const key = "apiKey" in config && config.apiKey ? [config.apiKey] : [];
  return [...key, ...written.filter((value) => value.length >= MIN_WRITTEN_SECRET_CHARS)];
}
