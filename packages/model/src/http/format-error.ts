import type { ErrorBodyFormatter, HearthError } from "@hearth/core";

/** OpenAI's error `type` for our statuses. */
function openAiType(error: HearthError): string {
  if (error.status === 429) return "rate_limit_exceeded";
  if (error.status === 401) return "authentication_error";
  if (error.status === 403) return "permission_error";
  if (error.status === 404) return "not_found_error";
  if (error.status >= 500) return "server_error";
  return "invalid_request_error";
}

/** The body of an error in the OpenAI API's shape. */
export function openAiErrorBody(error: HearthError) {
  return { error: { message: error.message, type: openAiType(error), param: null, code: error.code } };
}

/** The body of an error in the Ollama API's shape (its clients read only `error`). */
export function ollamaErrorBody(error: HearthError) {
  return { error: error.message };
}

/** Hearth's registry routes answer in the Ollama shape too, with the stable code beside the message. */
export function registryErrorBody(error: HearthError) {
  return { error: error.message, code: error.code };
}

/** Errors come back in the format of the API the request came through. */
export const formatModelError: ErrorBodyFormatter = (error, request) =>
  request.url.startsWith("/v1/")
    ? openAiErrorBody(error)
    : request.url.startsWith("/api/hearth/")
      ? registryErrorBody(error)
      : ollamaErrorBody(error);
