import type { HearthError } from "../errors/hearth-error.js";

/** OpenAI's error `type` for our statuses. */
function openAiType(error: HearthError): string {
  if (error.status === 429) return "rate_limit_exceeded";
  if (error.status === 401) return "authentication_error";
  if (error.status === 403) return "permission_error";
  if (error.status === 404) return "not_found_error";
  if (error.status >= 500) return "server_error";
  return "invalid_request_error";
}

/**
 * The request field an error is about, written as OpenAI writes `param` (`messages[0].content`):
 * `details.field`, else the path of its first refused field (`details.issues`, toHearthError's);
 * null when it names none (an error of the whole request, or not of its fields).
 */
function openAiParam(error: HearthError): string | null {
  const issues = error.details?.issues;
  const path =
    error.details?.field ??
    (Array.isArray(issues) ? (issues[0] as { path?: unknown } | undefined)?.path : undefined);
  if (typeof path !== "string" || path === "") return null;
  return path
    .split(".")
    .map((segment, at) => (/^\d+$/.test(segment) ? `[${segment}]` : at === 0 ? segment : `.${segment}`))
    .join("");
}

/**
 * The body of an error in the OpenAI API's shape, with Hearth's stable code as `code` and the field
 * it is about as `param`: the model service's and the web service's `/v1/` routes answer with it,
 * so OpenAI clients read their errors. Hearth's `details` ride along when there are any (a used-up
 * quota's `resetAt`, the token count of a prompt too long for the context, a refused field's issues).
 */
export function openAiErrorBody(error: HearthError) {
  const body = {
    message: error.message,
    type: openAiType(error),
    param: openAiParam(error),
    code: error.code,
  };
  return { error: error.details ? { ...body, details: error.details } : body };
}
