import type { HearthError } from "../errors/hearth-error.js";

/**
 * The error `type` OpenAI answers with for our status: `server_error` for a 5xx, `requests` for a 429
 * (its type for a rate limit, whose `code` is rate_limit_exceeded), and `invalid_request_error` for
 * every other 4xx, as OpenAI types a refused key (401, invalid_api_key), a model the key may not use
 * (403) and an unknown one (404, model_not_found) alike.
 */
function openAiType(error: HearthError): string {
  if (error.status >= 500) return "server_error";
  if (error.status === 429) return "requests";
  return "invalid_request_error";
}

/**
 * The request field an error is about, written as OpenAI writes `param` (`messages[0].content`):
 * `details.field`, else the path of its first refused field (`details.issues`, toHearthError's);
 * null when it names none (an error of the whole request, or not of its fields).
 */
function openAiParam(error: HearthError): string | null {
  const path = fieldPath(error);
  return path === undefined ? null : openAiPath(path);
}

/** The field an error is about as Hearth writes it (`messages.0.content`): see openAiParam. */
function fieldPath(error: HearthError): string | undefined {
  const issues = error.details?.issues;
  const path =
    error.details?.field ??
    (Array.isArray(issues) ? (issues[0] as { path?: unknown } | undefined)?.path : undefined);
  return typeof path === "string" && path !== "" ? path : undefined;
}

/** A field's path (`messages.0.content`) as OpenAI writes it (`messages[0].content`). */
function openAiPath(path: string): string {
  return path
    .split(".")
    .map((segment, at) => (/^\d+$/.test(segment) ? `[${segment}]` : at === 0 ? segment : `.${segment}`))
    .join("");
}

/**
 * The error's message, the field it begins with (`messages.0.role: Invalid option…`, as a refused
 * field's message names it) written as `param` writes it (`messages[0].role: …`), so that the two agree.
 */
function openAiMessage(error: HearthError): string {
  const path = fieldPath(error);
  if (path === undefined || !error.message.startsWith(`${path}: `)) return error.message;
  return `${openAiPath(path)}${error.message.slice(path.length)}`;
}

/**
 * The body of an error in the OpenAI API's shape, with Hearth's stable code as `code` and the field
 * it is about as `param`: the model service's and the web service's `/v1/` routes answer with it,
 * so OpenAI clients read their errors. Hearth's `details` ride along when there are any (a used-up
 * quota's `resetAt`, the token count of a prompt too long for the context, a refused field's issues).
 */
export function openAiErrorBody(error: HearthError) {
  const body = {
    message: openAiMessage(error),
    type: openAiType(error),
    param: openAiParam(error),
    code: error.code,
  };
  return { error: error.details ? { ...body, details: error.details } : body };
}
