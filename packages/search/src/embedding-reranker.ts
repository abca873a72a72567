import { describeNetworkError, linkedSignal } from "@hearth/core";
import { z } from "zod";

const embeddingsResponse = z.object({
  data: z.array(z.object({ index: z.number().int(), embedding: z.array(z.number()) })),
});

export interface EmbeddingRerankerOptions {
  /** The model service's base URL (`services.modelUrl`). */
  modelUrl: string;
  model: string;
  token?: string;
  timeoutMs: number;
}

/**
 * Scores texts against a query with the model service's embeddings (OpenAI-compatible
 * `POST /v1/embeddings`): cosine similarity, one number per text.
 */
export class EmbeddingReranker {
  readonly #options: EmbeddingRerankerOptions;

  constructor(options: EmbeddingRerankerOptions) {
    this.#options = options;
  }

  async similarities(query: string, texts: readonly string[], signal?: AbortSignal): Promise<number[]> {
    const linked = linkedSignal([signal], this.#options.timeoutMs);
    try {
      return await this.#similarities(query, texts, linked.signal);
    } finally {
      linked.dispose();
    }
  }

  async #similarities(query: string, texts: readonly string[], signal: AbortSignal): Promise<number[]> {
    const response = await fetch(`${this.#options.modelUrl.replace(/\/+$/, "")}/v1/embeddings`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(this.#options.token ? { "x-hearth-service-token": this.#options.token } : {}),
      },
      body: JSON.stringify({ model: this.#options.model, input: [query, ...texts] }),
      signal,
    }).catch((error: unknown) => {
      throw new Error(`the model service did not answer: ${describeNetworkError(error)}`, { cause: error });
    });
    if (!response.ok) throw new Error(`the model service answered HTTP ${response.status} to /v1/embeddings`);
    const body = embeddingsResponse.parse(await response.json());
    const vectors = [...body.data].sort((a, b) => a.index - b.index).map((item) => item.embedding);
    if (vectors.length !== texts.length + 1)
      throw new Error("the model service returned the wrong number of embeddings");
    const [queryVector, ...textVectors] = vectors;
    return textVectors.map((vector) => cosine(queryVector!, vector));
  }
}

function cosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    dot += a[i]! * b[i]!;
    normA += a[i]! * a[i]!;
    normB += b[i]! * b[i]!;
  }
  return normA === 0 || normB === 0 ? 0 : dot / Math.sqrt(normA * normB);
}
