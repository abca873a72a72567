import { HearthError, UpstreamCallError } from "@hearth/core";
import { z } from "zod";
import { modelCheckFailure } from "./model-service-failure.js";

const embedResponseSchema = z.object({ embeddings: z.array(z.array(z.number())) });

export interface EmbeddingClientOptions {
  /** Base URL of an Ollama-style API (the model service, or an Ollama server). */
  baseUrl: string;
  batchSize: number;
  /** Extra attempts after a retryable failure (408, 409, 429, 5xx, unreachable). */
  retries?: number;
  /** Sent to the model service when it requires a service token; never logged. */
  token?: string;
  /** Delay before the first retry; doubled each time. */
  retryDelayMs?: number;
}

/**
 * Embeds texts through `POST /api/embed` ({model, input: [...]} -> {embeddings}), in batches, with
 * retries and exponential backoff on retryable errors. Vectors come back unit-length so that cosine
 * is a dot product in every index backend.
 */
export class EmbeddingClient {
  readonly #options: Required<Omit<EmbeddingClientOptions, "token">> & { token?: string };

  constructor(options: EmbeddingClientOptions) {
    this.#options = {
      retries: 3,
      retryDelayMs: 250,
      ...options,
      baseUrl: options.baseUrl.replace(/\/+$/, ""),
    };
  }

  async embed(
    model: string,
    texts: readonly string[],
    signal?: AbortSignal,
    /** Told how many texts are embedded so far, after each batch. */
    onProgress?: (done: number) => void,
  ): Promise<Float32Array[]> {
    const vectors: Float32Array[] = [];
    for (let i = 0; i < texts.length; i += this.#options.batchSize) {
      const batch = texts.slice(i, i + this.#options.batchSize);
      vectors.push(...(await this.#withRetries(() => this.#embedBatch(model, batch, signal), signal)));
      onProgress?.(vectors.length);
    }
    return vectors;
  }

  /**
   * Checks that `model` is on the model service and embeds text, by embedding one short text (the
   * model service has no cheaper question that also tells a model that cannot embed). Throws
   * EMBEDDING_MODEL_NOT_FOUND when the service does not have it, EMBEDDING_MODEL_UNUSABLE when it
   * refuses to embed with it, UPSTREAM_ERROR with the model service's own reason when it answers
   * with a failure (its upstream refusing Hearth's credentials, say), and UPSTREAM_UNAVAILABLE when
   * it does not answer.
   */
  async check(model: string): Promise<void> {
    try {
      await this.#withRetries(() => this.#embedBatch(model, ["hearth"]), undefined, 1);
    } catch (error) {
      const cause = error instanceof HearthError ? error.cause : undefined;
      throw modelCheckFailure(model, cause instanceof UpstreamCallError ? cause : (error as Error), {
        role: "embedding model",
        notFound: "EMBEDDING_MODEL_NOT_FOUND",
        unusable: "EMBEDDING_MODEL_UNUSABLE",
        cannot: "cannot embed text",
        choose: "choose an embedding model",
        fix: "or leave embeddingModel empty for full-text search only",
        serviceUrlKey: "knowledge.embeddingUrl",
      });
    }
  }

  async #withRetries<T>(
    attempt: () => Promise<T>,
    signal?: AbortSignal,
    retries = this.#options.retries,
  ): Promise<T> {
    let delay = this.#options.retryDelayMs;
    for (let tries = 0; ; tries++) {
      try {
        return await attempt();
      } catch (error) {
        const retryable = error instanceof UpstreamCallError && error.isRetryable;
        if (!retryable || tries >= retries || signal?.aborted) {
          if (error instanceof UpstreamCallError) {
            throw new HearthError(
              "EMBEDDING_FAILED",
              `Embedding failed after ${tries + 1} attempt(s): ${error.message}`,
              { cause: error },
            );
          }
          throw error;
        }
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay *= 2;
      }
    }
  }

  async #embedBatch(model: string, input: string[], signal?: AbortSignal): Promise<Float32Array[]> {
    const url = `${this.#options.baseUrl}/api/embed`;
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (this.#options.token) headers["x-hearth-service-token"] = this.#options.token;
    let response: Response;
    try {
      response = await fetch(url, {
        method: "POST",
        headers,
        body: JSON.stringify({ model, input, truncate: true }),
        signal: signal
          ? AbortSignal.any([signal, AbortSignal.timeout(120_000)])
          : AbortSignal.timeout(120_000),
      });
    } catch (error) {
      if (signal?.aborted) throw new HearthError("JOB_CANCELLED", "The job was cancelled");
      throw UpstreamCallError.noAnswer({
        url,
        upstream: `The embedding service at ${this.#options.baseUrl}`,
        cause: error,
      });
    }
    const body = await response.text();
    if (!response.ok) {
      throw new UpstreamCallError({
        url,
        status: response.status,
        body: body.slice(0, 500),
        message:
          response.status === 404
            ? `The embedding service answered 404: it has no model "${model}" (pull it, or change the knowledge base's embedding model)`
            : `The embedding service answered ${response.status}`,
      });
    }
    let parsed: z.infer<typeof embedResponseSchema>;
    try {
      parsed = embedResponseSchema.parse(JSON.parse(body));
    } catch {
      throw new HearthError("EMBEDDING_FAILED", "The embedding service answered without an embeddings array");
    }
    if (parsed.embeddings.length !== input.length) {
      throw new HearthError(
        "EMBEDDING_FAILED",
        `Asked for ${input.length} embeddings, got ${parsed.embeddings.length}`,
      );
    }
    return parsed.embeddings.map((values) => {
      const vector = Float32Array.from(values);
      let norm = 0;
      for (const value of vector) norm += value * value;
      norm = Math.sqrt(norm);
      if (!Number.isFinite(norm) || norm === 0)
        throw new HearthError("EMBEDDING_FAILED", "The embedding service returned a zero or invalid vector");
      for (let i = 0; i < vector.length; i++) vector[i]! /= norm;
      return vector;
    });
  }
}
