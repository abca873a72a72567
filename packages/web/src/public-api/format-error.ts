import { defaultErrorBody, type ErrorBodyFormatter, openAiErrorBody } from "@hearth/core";
import { isOpenAiPathWithoutV1 } from "./public-api-routes.js";

/**
 * The public API's errors are in OpenAI's shape (`{error: {message, type, param, code, details?}}`,
 * `code` being Hearth's stable code), so OpenAI clients and SDKs read them, and so are the 404s of
 * its paths asked for without /v1. Every other route keeps Hearth's own shape.
 */
export const formatWebError: ErrorBodyFormatter = (error, request) =>
  request.url.startsWith("/v1/") || isOpenAiPathWithoutV1(request.url)
    ? openAiErrorBody(error)
    : defaultErrorBody(error, request);
