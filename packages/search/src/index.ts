export { createProvider } from "./providers/create-provider.js";
export { ProviderCallError } from "./providers/provider-call-error.js";
export type {
  EngineAnswer,
  ProviderHit,
  ProviderRequest,
  SearchProvider,
} from "./providers/search-provider.js";
export { type RankedResult, rankResults } from "./ranking/rank-results.js";
export { SearchAgent, type SearchAgentOptions } from "./search-agent.js";
export { createSearchService, type SearchServiceOverrides, serveSearch } from "./search-service.js";
