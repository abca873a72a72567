import type { SearchClient } from "@hearth/contracts";
import type { FastifyInstance } from "fastify";

/**
 * Whether the search service has a web search engine to ask (a provider configured and enabled),
 * asked of the service and kept for a while. A turn that asks for web search when none is
 * configured skips it, with a warning that says why, and "auto" spends no model call deciding
 * queries; the UI offers the search toggle only when one is.
 */
export class SearchAvailability {
  #cached: { value: boolean | undefined; expires: number } | undefined;

  constructor(
    readonly search: SearchClient,
    readonly ttlMs = 15_000,
  ) {}

  /** true or false as the search service says; undefined when it cannot tell (unreachable, older). */
  async configured(): Promise<boolean | undefined> {
    const now = Date.now();
    if (this.#cached && this.#cached.expires > now) return this.#cached.value;
    let value: boolean | undefined;
    try {
      const answer = await this.search.providers({ signal: AbortSignal.timeout(5_000) });
      value = answer.providers.some((provider) => provider.enabled);
    } catch {
      value = undefined;
    }
    this.#cached = { value, expires: now + this.ttlMs };
    return value;
  }
}

/** The grounding warning of a turn that asked for web search with no engine configured. */
export const SEARCH_NOT_CONFIGURED = "search-not-configured";

/**
 * The search mode a turn runs with: "off" when search was asked for and no engine is configured,
 * with the warning that says so.
 */
export async function effectiveSearch<Mode extends string>(
  availability: SearchAvailability | undefined,
  mode: Mode | "off",
): Promise<{ search: Mode | "off"; warnings: string[] }> {
  if (mode === "off" || (await availability?.configured()) !== false) return { search: mode, warnings: [] };
  return { search: "off", warnings: [SEARCH_NOT_CONFIGURED] };
}

/** `GET /api/search/status`: whether web search can be offered (`configured` null: cannot tell). */
export function registerSearchStatusRoute(app: FastifyInstance, deps: { availability: SearchAvailability }) {
  app.get("/api/search/status", { config: { access: "user" } }, async () => ({
    configured: (await deps.availability.configured()) ?? null,
  }));
}
