import { defaultErrorBody, type ErrorBodyFormatter, openAiErrorBody } from "@hearth/core";

/**
 * The public API's errors are in OpenAI's shape (`{error: {message, type, param, code, details?}}`,
 * `code` being Hearth's stable code), so OpenAI clients and SDKs read them. Every other route keeps
 * Hearth's own shape.
 */
export const formatWebError: ErrorBodyFormatter = (error, request) =>
  request.url.startsWith("/v1/") ? openAiErrorBody(error) : defaultErrorBody(error, request);
