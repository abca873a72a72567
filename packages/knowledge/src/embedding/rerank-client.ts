import { type RerankRequest, rerankResponseSchema } from "@hearth/contracts";
import { HearthError, UpstreamCallError } from "@hearth/core";
import { modelCheckFailure, upstreamReason } from "./model-service-failure.js";

export interface RerankClientOptions {
  /** Base URL of the model service, which serves `POST /v1/rerank`. */
  baseUrl: string;
  /** Sent to the model service when it requires a service token; never logged. */
  token?: string;
  /** How long one rerank may take before the query answers without it (RERANK_TIMEOUT_MS). */
  timeoutMs?: number;
}

/**
 * How long a query waits for its reranking: well within the 30 s the web service waits for the
 * knowledge service, so a slow reranker costs the query its new order, not its answer.
 */
export const RERANK_TIMEOUT_MS = 15_000;

/**
 * How long the check of a rerank model being set may take: its first use loads it, which takes
 * longer than a query's rerank; within the web service's 30 s wait for the knowledge service, so
 * the web UI shows this check's reason rather than its own timeout.
 */
const CHECK_TIMEOUT_MS = 25_000;

/** One passage's score from the reranker: its place in the texts sent, and its relevance (0 to 1). */
export interface RerankScore {
  index: number;
  relevance: number;
}

/**
 * Scores passages against a query with a rerank model (a cross-encoder) through the model service's
 * `POST /v1/rerank` ({model, query, documents} -> {results: [{index, relevance_score}]}), best
 * first. A query waits on it, so it is asked once (no retries) and its failures are thrown for the
 * caller to answer without it: an UpstreamCallError (its status and body kept) when the model
 * service answers a failure or does not answer, an UPSTREAM_ERROR when its answer is not a rerank.
 */
export class RerankClient {
  readonly #baseUrl: string;
  readonly #token: string | undefined;
  readonly #timeoutMs: number;

  constructor(options: RerankClientOptions) {
    this.#baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.#token = options.token;
    this.#timeoutMs = options.timeoutMs ?? RERANK_TIMEOUT_MS;
  }

  /**
   * Checks that `model` is on the model service and reranks, by reranking one short passage (as
   * EmbeddingClient.check embeds one text). Throws RERANK_MODEL_NOT_FOUND when the service does not
   * have it, MODEL_CANNOT_RERANK when it refuses to rerank with it, UPSTREAM_ERROR with the model
   * service's own reason when it answers with a failure, and UPSTREAM_UNAVAILABLE when it does not
   * answer.
   */
  async check(model: string): Promise<void> {
    try {
      await this.rerank(model, "hearth", ["hearth"], CHECK_TIMEOUT_MS);
    } catch (error) {
      if (!(error instanceof UpstreamCallError)) throw error;
      throw modelCheckFailure(model, error, {
        role: "rerank model",
        notFound: "RERANK_MODEL_NOT_FOUND",
        unusable: "MODEL_CANNOT_RERANK",
        cannot: "cannot rerank",
        choose: "choose a rerank model",
        fix: "or set rerankModel to null (none) to keep the retrieval order",
        serviceUrlKey: "services.modelUrl",
      });
    }
  }

  async rerank(
    model: string,
    query: string,
    documents: readonly string[],
    timeoutMs = this.#timeoutMs,
  ): Promise<RerankScore[]> {
    const url = `${this.#baseUrl}/v1/rerank`;
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (this.#token) headers["x-hearth-service-token"] = this.#token;
    const request: RerankRequest = { model, query, documents: [...documents] };
    let response: Response;
    try {
      response = await fetch(url, {
        method: "POST",
        headers,
        body: JSON.stringify(request),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      if (error instanceof Error && error.name === "TimeoutError")
        throw new UpstreamCallError({
          url,
          message: `The model service at ${this.#baseUrl} did not rerank within ${timeoutMs / 1000} s`,
          cause: error,
          service: "model",
        });
      throw UpstreamCallError.noAnswer({ url, service: "model", at: this.#baseUrl, cause: error });
    }
    const body = await response.text();
    if (!response.ok) {
      throw new UpstreamCallError({
        url,
        status: response.status,
        body: body.slice(0, 500),
        message: `The model service answered ${response.status}${upstreamReason(body)}`,
        service: "model",
      });
    }
    let scores: RerankScore[];
    try {
      scores = rerankResponseSchema
        .parse(JSON.parse(body))
        .results.map((result) => ({ index: result.index, relevance: result.relevance_score }));
    } catch {
      throw new HearthError("UPSTREAM_ERROR", "The model service answered without a rerank's results", {
        details: { service: "model" },
      });
    }
    const seen = new Set<number>();
    for (const { index } of scores) {
      if (index >= documents.length || seen.has(index))
        throw new HearthError(
          "UPSTREAM_ERROR",
          `The model service ranked a passage ${index} of the ${documents.length} it was sent`,
          { details: { service: "model" } },
        );
      seen.add(index);
    }
    // Best first as the contract says, sorted again so that an unsorted answer cannot mislead.
    return scores.sort((a, b) => b.relevance - a.relevance);
  }
}
