import { type core, ZodError } from "zod";
import { HearthError, isHearthError } from "../errors/hearth-error.js";
import { isDatabaseUnreachable } from "../storage/database-unreachable.js";
import { echoed } from "./echoed.js";

/** How long a client is asked to wait before retrying a request the database could not serve. */
const DATABASE_RETRY_AFTER_SECONDS = 5;

/**
 * Turns anything thrown in a request (Fastify's own errors, schema errors, database failures, ours)
 * into a HearthError.
 */
export function toHearthError(error: unknown): HearthError {
  if (isHearthError(error)) return error;
  if (error instanceof ZodError) {
    const issues = meaningfulIssues(error.issues);
    const issue = issues[0]!;
    const where = issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
    return new HearthError("INVALID_REQUEST", `${where}${issue.message}`, {
      details: { issues: issues.map(requestIssue) },
    });
  }
  const fastifyError = error as { code?: string; statusCode?: number; message?: string };
  switch (fastifyError.code) {
    case "FST_ERR_CTP_INVALID_JSON_BODY":
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return new HearthError("INVALID_JSON", fastifyError.message ?? "Invalid JSON");
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new HearthError("PAYLOAD_TOO_LARGE", "The request body is larger than this service accepts");
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return new HearthError("UNSUPPORTED_MEDIA_TYPE", fastifyError.message ?? "Unsupported Content-Type");
    case "FST_ERR_VALIDATION":
      return new HearthError("INVALID_REQUEST", fastifyError.message ?? "Invalid request");
    case "FST_ERR_BAD_URL":
      return new HearthError(
        "MALFORMED_REQUEST",
        `The URL's path is not valid percent-encoded UTF-8 (${withEchoedPath(fastifyError.message)})`,
      );
    case "FST_ERR_MAX_PARAM_LENGTH":
      return new HearthError(
        "MALFORMED_REQUEST",
        `A segment of the URL's path is longer than 100 characters, the most the service reads (${withEchoedPath(fastifyError.message)})`,
        { status: 414 },
      );
  }
  // Node's error for a body cut off by its connection closing (the client gave up, or was answered
  // 408 for taking too long): the request's failure, though its code is a lost database link's too.
  if (fastifyError.code === "ECONNRESET" && fastifyError.message === "aborted")
    return new HearthError("INVALID_REQUEST", "The connection closed before the request's body arrived");
  if (isDatabaseUnreachable(error)) {
    return new HearthError("DATABASE_UNAVAILABLE", "The database cannot be reached now; retry shortly", {
      retryAfterSeconds: DATABASE_RETRY_AFTER_SECONDS,
      cause: error,
    });
  }
  if (error instanceof SyntaxError) return new HearthError("INVALID_JSON", `Invalid JSON: ${error.message}`);
  if (fastifyError.statusCode === 413)
    return new HearthError("PAYLOAD_TOO_LARGE", "The request body is too large");
  if (
    typeof fastifyError.statusCode === "number" &&
    fastifyError.statusCode >= 400 &&
    fastifyError.statusCode < 500
  ) {
    return new HearthError("INVALID_REQUEST", fastifyError.message ?? "Invalid request", {
      status: fastifyError.statusCode,
    });
  }
  return new HearthError("INTERNAL_ERROR", "Internal error", { cause: error });
}

/** Fastify's message about a path (`'<path>' is …`), the path in it cut as `echoed` cuts it. */
function withEchoedPath(message: string | undefined): string {
  const quoted = /^'([\s\S]*)'( is [\s\S]*)$/.exec(message ?? "");
  return quoted ? `'${echoed(quoted[1]!)}'${quoted[2]}` : echoed(message ?? "");
}

/**
 * The issues that say something true of the request: zod runs a length check (an array's `.max(20)`)
 * on any value with a length, so a string given for an array comes back both as not an array and as
 * too many characters. Past a field's wrong type, its other issues measured the wrong thing, and
 * are left out.
 */
function meaningfulIssues(issues: readonly core.$ZodIssue[]): core.$ZodIssue[] {
  const field = (issue: core.$ZodIssue) => JSON.stringify(issue.path.map(String));
  const wrongType = new Set(issues.filter((issue) => issue.code === "invalid_type").map(field));
  return issues.filter((issue) => issue.code === "invalid_type" || !wrongType.has(field(issue)));
}

/**
 * A refused field as `details.issues` lists it: its path and zod's message, the kind of issue
 * (zod's code: too_small, too_big, invalid_type...) and, for a size, what was measured (`origin`:
 * string, number, array...) and the limit, so that a page can say the rule in its reader's language.
 * `inclusive: false` marks a limit that is itself refused (greater than 0).
 */
function requestIssue(issue: core.$ZodIssue): Record<string, unknown> {
  const limit =
    issue.code === "too_small"
      ? { origin: issue.origin, minimum: Number(issue.minimum) }
      : issue.code === "too_big"
        ? { origin: issue.origin, maximum: Number(issue.maximum) }
        : {};
  const exclusive = (issue.code === "too_small" || issue.code === "too_big") && issue.inclusive === false;
  return {
    path: issue.path.join("."),
    message: issue.message,
    code: issue.code,
    ...limit,
    ...(exclusive ? { inclusive: false } : {}),
  };
}
