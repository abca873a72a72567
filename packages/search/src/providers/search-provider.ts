import type { SearchRequest } from "@hearth/contracts";

export type Freshness = NonNullable<SearchRequest["freshness"]>;

/** One call to one engine. */
export interface ProviderRequest {
  query: string;
  limit: number;
  freshness?: Freshness;
  signal: AbortSignal;
}

/** One result as an engine gave it, text already stripped of markup. */
export interface ProviderHit {
  url: string;
  title: string;
  snippet: string;
  /** ISO 8601 when the engine gave a date we could read. */
  publishedAt?: string;
}

/** What an engine answered: its results in its order, and what is missing from them. */
export interface EngineAnswer {
  hits: ProviderHit[];
  /**
   * Part of the answer is missing though the engine answered, e.g. a meta-search engine's own
   * engines that did not answer; shown as the provider's `warning`.
   */
  warning?: string;
}

/**
 * The contract every search engine adapter keeps: one method, results in the engine's order.
 * Failures throw ProviderCallError (rate limits carry the engine's Retry-After).
 */
export interface SearchProvider {
  readonly id: string;
  readonly type: string;
  search(request: ProviderRequest): Promise<EngineAnswer>;
}
