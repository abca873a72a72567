import type { SearchProviderConfig } from "@hearth/core";

/** The longest provider error API clients and the log are shown. */
const MAX_ERROR_CHARS = 300;

/**
 * A provider's error as API clients and the log see it. An engine may echo its API key (a request
 * line, a path, a message), so every form in which the key was sent is replaced before the message
 * is cut: a cut first could leave a piece of the key that no longer matches.
 */
export function shownError(message: string, config: SearchProviderConfig): string {
  const key = "apiKey" in config ? config.apiKey : undefined;
  let shown = message;
  if (key && key.length >= 4) {
    for (const form of sentForms(key)) shown = shown.split(form).join("[redacted]");
  }
  return shown.slice(0, MAX_ERROR_CHARS);
}

/**
 * The key raw (headers, JSON bodies), URL-encoded (custom URL templates use encodeURIComponent)
 * and form-encoded (query parameters set through URLSearchParams), with percent escapes in either case.
 */
function sentForms(key: string): Set<string> {
  const encoded = [encodeURIComponent(key), new URLSearchParams({ key }).toString().slice("key=".length)];
  return new Set([
    key,
    ...encoded,
    ...encoded.map((form) => form.replace(/%[0-9A-F]{2}/g, (percent) => percent.toLowerCase())),
  ]);
}
