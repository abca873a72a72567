import { defaultErrorBody, type ErrorBodyFormatter, openAiErrorBody } from "@hearth/core";
import { externalKnowledgeErrorBody, isExternalKnowledgeRequest } from "./external-knowledge-api.js";
import { isOpenAiPathWithoutV1 } from "./public-api-routes.js";

/**
 * The public API's errors are in OpenAI's shape (`{error: {message, type, param, code, details?}}`,
 * `code` being Hearth's stable code), so OpenAI clients and SDKs read them, and so are the 404s of
 * its paths asked for without /v1; but for Dify's External Knowledge API (`/v1/retrieval`), in
 * Dify's shape. Every other route keeps Hearth's own shape.
 */
export const formatWebError: ErrorBodyFormatter = (error, request) => {
  if (isExternalKnowledgeRequest(request.url)) return externalKnowledgeErrorBody(error, request);
  return request.url.startsWith("/v1/") || isOpenAiPathWithoutV1(request.url)
    ? openAiErrorBody(error)
    : defaultErrorBody(error);
};
