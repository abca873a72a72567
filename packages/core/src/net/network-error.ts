import { HearthError } from "../errors/hearth-error.js";
import { withoutUrlSecrets } from "./url-secrets.js";

/** What the codes of a failed connection mean, in words; the code itself is said after them. */
const CONNECTION_FAILURES: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "the connection was reset",
  EPIPE: "the connection was closed while the request was sent",
  ETIMEDOUT: "the connection timed out",
  UND_ERR_CONNECT_TIMEOUT: "the connection timed out",
  UND_ERR_HEADERS_TIMEOUT: "no answer in time",
  UND_ERR_BODY_TIMEOUT: "the answer stopped arriving",
  UND_ERR_SOCKET: "the server closed the connection",
  EHOSTUNREACH: "the host is unreachable",
  ENETUNREACH: "the network is unreachable",
  EAI_AGAIN: "DNS did not answer",
  ERR_SSL_WRONG_VERSION_NUMBER:
    "the TLS handshake failed: the server does not speak TLS there (an http URL?)",
};

/** Codes of a name that DNS says does not exist: the name is said, it may be a redirect's. */
const UNRESOLVED = new Set(["ENOTFOUND", "EAI_NONAME", "EAI_NODATA", "EAI_FAIL"]);

/** Whether a failed lookup's error says the name does not exist (not that DNS failed to answer). */
export function isUnresolvedName(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && UNRESOLVED.has(code);
}

/**
 * OpenSSL's and Node's codes for a certificate the client does not accept (CERT_HAS_EXPIRED,
 * DEPTH_ZERO_SELF_SIGNED_CERT, UNABLE_TO_VERIFY_LEAF_SIGNATURE, ERR_TLS_CERT_ALTNAME_INVALID…).
 */
const CERTIFICATE_REFUSED = /^(?:UNABLE_TO_\w+|\w*CERT\w*)$/;

/**
 * Why a request got no answer, for a message that names the endpoint already ("X did not answer: "
 * and this): the cause under fetch's bare `TypeError("fetch failed")` (or under any wrapper)
 * in words, with its code: "connection refused (ECONNREFUSED)", "nothing.invalid does not resolve
 * (ENOTFOUND)", "the TLS certificate was refused: self-signed certificate
 * (DEPTH_ZERO_SELF_SIGNED_CERT)", "no answer in time" for a timeout. A connection's address is
 * left out (a client of the web service need not learn the inside of its network); a name that does
 * not resolve is said (it may be a redirect's). URLs in it lose their credentials.
 */
export function describeNetworkError(error: unknown): string {
  return withoutUrlSecrets(reasonOf(error, 0));
}

function reasonOf(error: unknown, depth: number): string {
  if (typeof error !== "object" || error === null) return String(error);
  const { code, message, name, hostname, cause } = error as NodeJS.ErrnoException & {
    hostname?: unknown;
    cause?: unknown;
  };
  // Hearth's own error (a wrapped call's): its message says it already.
  if (error instanceof HearthError) return message;
  if (name === "TimeoutError") return "no answer in time";
  // Node's AbortError (ABORT_ERR) holds why its signal aborted (a timeout, say) as its cause.
  if (name === "AbortError")
    return cause !== undefined && depth < 8 ? reasonOf(cause, depth + 1) : "the request was aborted";
  // DOMException codes are numbers (TimeoutError is 23): only Node's and undici's are strings.
  if (typeof code === "string") {
    if (UNRESOLVED.has(code))
      return `${typeof hostname === "string" ? hostname : "the host name"} does not resolve (${code})`;
    const words =
      CONNECTION_FAILURES[code] ??
      (CERTIFICATE_REFUSED.test(code) ? `the TLS certificate was refused: ${message}` : undefined) ??
      (code.startsWith("ERR_SSL_") || code === "EPROTO" ? "the TLS handshake failed" : undefined);
    if (words) return `${words} (${code})`;
    if (message) return message.includes(code) ? message : `${message} (${code})`;
    return code;
  }
  if (cause !== undefined && depth < 8) return reasonOf(cause, depth + 1);
  return message || name || "no reason given";
}
