/**
 * A secret shorter than this is not replaced: replacing it would blank out ordinary words of the
 * text, and so little of a credential tells nothing.
 */
const MIN_SECRET_CHARS = 4;

/**
 * A text an upstream sent back (an error message, a body), with every form in which a secret was
 * sent replaced by `[redacted]`: an upstream may echo what it was sent (a request line, a path, its
 * headers, a JSON body). The forms are the secret raw (headers, JSON bodies), URL-encoded (paths,
 * encodeURIComponent) and form-encoded (query parameters set through URLSearchParams), with percent
 * escapes in either case. Longer secrets go first, so that one holding another (`Bearer <key>` and
 * the key) is replaced whole. Replace before cutting a text short: a cut first could leave a piece
 * that no longer matches.
 */
export function redactSecrets(text: string, secrets: Iterable<string>): string {
  const forms = new Set<string>();
  for (const secret of secrets)
    if (secret.length >= MIN_SECRET_CHARS) for (const form of sentForms(secret)) forms.add(form);
  let shown = text;
  for (const form of [...forms].sort((a, b) => b.length - a.length))
    shown = shown.split(form).join("[redacted]");
  return shown;
}

/**
 * What an `Authorization` header value gives away when echoed: the value, the credentials after its
 * scheme (`Bearer <token>`'s token), and for Basic credentials the decoded `user:password` and the
 * password alone.
 */
export function authorizationSecrets(value: string): string[] {
  const [scheme, ...rest] = value.trim().split(/\s+/);
  const credentials = rest.join(" ");
  if (!credentials) return [value];
  if (scheme?.toLowerCase() !== "basic") return [value, credentials];
  const decoded = Buffer.from(credentials, "base64").toString();
  const colon = decoded.indexOf(":");
  return [value, credentials, decoded, ...(colon >= 0 ? [decoded.slice(colon + 1)] : [])];
}

function sentForms(secret: string): string[] {
  const encoded = [
    encodeURIComponent(secret),
    new URLSearchParams({ secret }).toString().slice("secret=".length),
  ];
  return [
    secret,
    ...encoded,
    ...encoded.map((form) => form.replace(/%[0-9A-F]{2}/g, (percent) => percent.toLowerCase())),
  ];
}
