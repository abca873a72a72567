import { KnowledgeClientError } from "@hearth/contracts";
import { UpstreamCallError } from "@hearth/core";

/** The knowledge service failing a KnowledgeClient call: the web's UPSTREAM_ERROR (its detail for the log only). */
export function knowledgeFailure(error: unknown, url: string): UpstreamCallError {
  return error instanceof KnowledgeClientError
    ? new UpstreamCallError({
        url,
        status: error.status,
        body: `${error.code}: ${error.message}`,
        message: "the knowledge service failed",
        service: "knowledge",
      })
    : UpstreamCallError.noAnswer({ url, service: "knowledge", cause: error });
}
