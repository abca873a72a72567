import { searchRequestSchema } from "@hearth/contracts";
import {
  createServiceApp,
  defaultErrorBody,
  type HearthConfig,
  HearthError,
  type Logger,
  listenService,
  type Resolver,
} from "@hearth/core";
import {
  createSensitiveWordFilter,
  type SensitiveWordFilterOptions,
  WordListUnreadableError,
} from "@hearth/sensitive-words";
import type { FastifyInstance } from "fastify";
import { SearchAgent } from "./search-agent.js";
import { SearchMetrics } from "./search-metrics.js";
import { RedisSharedState } from "./shared-state.js";

export interface SearchServiceOverrides {
  /** DNS for page fetches (tests simulate answers). */
  resolver?: Resolver;
}

/**
 * Builds the search service (not listening): `POST /v1/search`, health, readiness and metrics.
 * Starts without providers (then `/v1/search` answers SEARCH_NO_PROVIDERS); a word list file
 * that cannot be read stops start-up with SEARCH_WORD_LIST_UNREADABLE.
 */
export async function createSearchService(
  config: HearthConfig,
  logger: Logger,
  overrides: SearchServiceOverrides = {},
): Promise<{ app: FastifyInstance; close(): Promise<void> }> {
  const log = logger;
  const { app, metrics: registry } = createServiceApp({
    service: "search",
    logger: log,
    bodyLimitBytes: 1024 * 1024,
    serviceToken: config.services.token,
    listenHost: config.search.host,
    // Only the web service and the CLI call it; no page does.
    loopbackOriginsOnly: true,
    readiness: () => ({ ready: true }),
  });
  let agent: SearchAgent | undefined;
  const metrics = new SearchMetrics(registry, () => agent?.slots ?? []);
  const filter = createFilter({
    lists: config.search.filter.lists,
    reloadIntervalMs: config.search.filter.reloadIntervalMs,
    onHits: (list, action, count) => metrics.filterHits(list, action, count),
    onReload: (list, words) => log.info({ list, words }, "word list reloaded"),
    onReloadError: (list, error) =>
      log.warn({ list, reason: error.message }, "word list reload failed; keeping the previous words"),
  });
  let shared: RedisSharedState | undefined;
  if (config.search.redis) {
    shared = new RedisSharedState(config.search.redis.url, config.search.redis.keyPrefix, log);
    if (!(await shared.connect()))
      log.warn("search shared state: Redis not reachable at start; using in-process limits until it is");
  }
  agent = new SearchAgent({ config, logger: log, filter, metrics, resolver: overrides.resolver, shared });
  const searchAgent = agent;

  /** Whether "no provider configured" was logged: it is configuration, said once, not a crash per search. */
  let warnedNoProviders = false;
  app.post("/v1/search", async (request, reply) => {
    const body = searchRequestSchema.parse(request.body);
    const controller = new AbortController();
    // The response closing before it was written means the client went away: stop the fan-out.
    reply.raw.once("close", () => {
      if (!reply.raw.writableFinished) controller.abort(new Error("client went away"));
    });
    try {
      return await searchAgent.search(body, controller.signal);
    } catch (error) {
      if (!(error instanceof HearthError) || error.code !== "SEARCH_NO_PROVIDERS") throw error;
      if (!warnedNoProviders) {
        warnedNoProviders = true;
        log.warn({ code: error.code }, error.message);
      }
      return reply.code(error.status).send(defaultErrorBody(error));
    }
  });

  // Which providers are configured and enabled (no keys): the web service offers web search by it.
  // Each one's standing state (breaker, cool-down, last call) is for Admin → Search providers.
  app.get("/v1/providers", async () => ({
    providers: searchAgent.slots.map((slot) => ({
      id: slot.provider.id,
      type: slot.config.type,
      enabled: slot.config.enabled,
      state: slot.standingState(),
    })),
  }));

  log.info(
    {
      providers: config.search.providers.map((provider) => ({ id: provider.id, type: provider.type })),
      wordLists: filter.wordCounts,
    },
    config.search.providers.length > 0
      ? "search service built"
      : "search service built with no providers; /v1/search will answer SEARCH_NO_PROVIDERS",
  );

  return {
    app,
    async close() {
      filter.close();
      await app.close();
      await shared?.close();
    },
  };
}

/** Builds the search service and listens on `search.host:search.port`. */
export async function serveSearch(
  config: HearthConfig,
  logger: Logger,
): Promise<{ url: string; close(): Promise<void> }> {
  const service = await createSearchService(config, logger);
  try {
    const url = await listenService(service.app, {
      host: config.search.host,
      port: config.search.port,
      description: "search service (HEARTH_SEARCH_PORT)",
      hostSetting: "HEARTH_SEARCH_HOST",
    });
    return { url, close: service.close };
  } catch (error) {
    await service.close();
    throw error;
  }
}

/** The search agent's filter; an unreadable word list file stops start-up with SEARCH_WORD_LIST_UNREADABLE. */
function createFilter(options: SensitiveWordFilterOptions) {
  try {
    return createSensitiveWordFilter(options);
  } catch (error) {
    if (error instanceof WordListUnreadableError)
      throw new HearthError("SEARCH_WORD_LIST_UNREADABLE", error.message, { cause: error });
    throw error;
  }
}
