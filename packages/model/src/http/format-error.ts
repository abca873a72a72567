import { type ErrorBodyFormatter, type HearthError, openAiErrorBody } from "@hearth/core";

/**
 * The body of an error in the Ollama API's shape, `{"error": "<message>"}`, with Hearth's stable code
 * beside the message: Ollama's clients read only `error`, and a program that knows Hearth reads
 * `code` rather than parse the message.
 */
export function ollamaErrorBody(error: HearthError) {
  return { error: error.message, code: error.code };
}

/**
 * Hearth's registry routes answer in the Ollama shape too, with the error's details where it has
 * them (a download's HTTP status and URL).
 */
export function registryErrorBody(error: HearthError) {
  return { ...ollamaErrorBody(error), ...(error.details ? { details: error.details } : {}) };
}

/** Errors come back in the format of the API the request came through. */
export const formatModelError: ErrorBodyFormatter = (error, request) =>
  request.url.startsWith("/v1/")
    ? openAiErrorBody(error)
    : request.url.startsWith("/api/hearth/")
      ? registryErrorBody(error)
      : ollamaErrorBody(error);
