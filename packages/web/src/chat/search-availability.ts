import type { SearchClient } from "@hearth/contracts";
import type { FastifyInstance } from "fastify";
import { ExpiringPromises } from "../caching/expiring-promises.js";

/**
 * Whether the search service has a web search engine to ask (a provider configured and enabled),
 * asked of the service and kept for a while. A turn that asks for web search when none is
 * configured skips it, with a warning that says why, and "auto" spends no model call deciding
 * queries; the UI offers the search toggle only when one is.
 */
export class SearchAvailability {
  readonly #answer: ExpiringPromises;

  constructor(
    readonly search: SearchClient,
    ttlMs = 15_000,
  ) {
    this.#answer = new ExpiringPromises(ttlMs);
  }

  /** true or false as the search service says; undefined when it cannot tell (unreachable, older). */
  configured(): Promise<boolean | undefined> {
    return this.#answer.get("configured", async () => {
      try {
        const answer = await this.search.providers({ signal: AbortSignal.timeout(5_000) });
        return answer.providers.some((provider) => provider.enabled);
      } catch {
        return undefined;
      }
    });
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
