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
 * The body of an error in the OpenAI API's shape, with Hearth's stable code as `code`: the model
 * service's and the web service's `/v1/` routes answer with it, so OpenAI clients read their errors.
 * Hearth's `details` ride along when there are any (a used-up quota's `resetAt`, the token count of
 * a prompt too long for the context).
 */
export function openAiErrorBody(error: HearthError) {
  const body = { message: error.message, type: openAiType(error), param: null, code: error.code };
  return { error: error.details ? { ...body, details: error.details } : body };
}
