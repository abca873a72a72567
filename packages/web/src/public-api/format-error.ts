import { defaultErrorBody, type ErrorBodyFormatter, openAiErrorBody } from "@hearth/core";

/**
 * The public API's errors are in OpenAI's shape (`{error: {message, type, param, code}}`, `code`
 * being Hearth's stable code), so OpenAI clients and SDKs read them; Hearth's `details` ride along
 * when there are any (a used-up quota's `resetAt`). Every other route keeps Hearth's own shape.
 */
export const formatWebError: ErrorBodyFormatter = (error, request) => {
  if (!request.url.startsWith("/v1/")) return defaultErrorBody(error, request);
  const body = openAiErrorBody(error);
  return error.details ? { error: { ...body.error, details: error.details } } : body;
};
