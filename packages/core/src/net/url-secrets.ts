/**
 * A URL in a text: scheme, user info (`user:password@`), the rest of its path, and its query. As
 * URL parsers read it: a web scheme's slashes may be backslashes (`http:\\user:pw@host`, sent as
 * `http://user:pw@host`), and a query runs to the next space (a quote inside it is sent, escaped),
 * less the quotes or brackets closing the text around it.
 */
const URL_IN_TEXT =
  /\b((?:https?|wss?|ftp):[\\/]*|[a-z][a-z\d+.-]*:\/\/)([^\s/\\?#]*@)?([^\s?#]*)(\?[^\s#]*?)?(?=["'<>),.]*(?:[\s#]|$))/gi;

/**
 * A text (a URL, or a message that names one) whose URLs lose their user info and query, where
 * credentials travel (`http://user:password@host/m.gguf?token=…` becomes
 * `http://[redacted]@host/m.gguf?[redacted]`): what a log, an error message or a stored record shows.
 */
export function withoutUrlSecrets(text: string): string {
  return text.replace(
    URL_IN_TEXT,
    (_url, scheme: string, userInfo: string | undefined, rest: string, query: string | undefined) =>
      `${scheme}${userInfo ? "[redacted]@" : ""}${rest}${query ? "?[redacted]" : ""}`,
  );
}

/**
 * A URL's user info as the HTTP Basic `Authorization` header that fetch refuses to build from the URL
 * itself, and the URL without it. fetch drops the header on a redirect to another origin.
 */
export function urlCredentials(url: string): { url: string; authorization?: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { url };
  }
  if (!parsed.username && !parsed.password) return { url };
  const credentials = `${decoded(parsed.username)}:${decoded(parsed.password)}`;
  parsed.username = "";
  parsed.password = "";
  return { url: parsed.href, authorization: `Basic ${Buffer.from(credentials).toString("base64")}` };
}

/** A user name or password as typed: percent-escapes decoded (a malformed one is taken as it is). */
function decoded(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}
