/**
 * Environment variables and the configuration keys they set. This table is the single source for
 * parsing the environment and for the configuration reference (`hearth config --reference`).
 */
export interface EnvironmentBinding {
  env: string;
  /** Dotted path in the configuration file. */
  key: string;
  /** `list`: comma-separated values. */
  type: "string" | "integer" | "boolean" | "url" | "list";
  description: string;
  /**
   * A secret whose absence switches a protection off (`protects`): set but empty, or still an
   * example file's placeholder, it is refused with `fix`, not taken as unset.
   */
  guard?: { protects: string; fix: string };
}

export const ENVIRONMENT: readonly EnvironmentBinding[] = [
  {
    env: "HEARTH_DATA_DIR",
    key: "dataDir",
    type: "string",
    description: "Directory for all stored data (databases, indexes, uploads).",
  },
  {
    env: "HEARTH_LOG_LEVEL",
    key: "logLevel",
    type: "string",
    description: "Log level: fatal, error, warn, info, debug, trace or silent.",
  },
  {
    env: "HEARTH_HOST",
    key: "web.host",
    type: "string",
    description: "Address the web service (UI and public API) listens on.",
  },
  {
    env: "HEARTH_PORT",
    key: "web.port",
    type: "integer",
    description: "Port of the web service (UI and public API).",
  },
  // Web service
  {
    env: "HEARTH_DATABASE_URL",
    key: "web.databaseUrl",
    type: "string",
    description:
      "postgres:// URL for the web service's users and conversations (default: SQLite in the data dir); never logged.",
  },
  {
    env: "HEARTH_SIGNUP",
    key: "web.signup",
    type: "string",
    description:
      "Who may create an account: open, approval or closed (the first account is always allowed and becomes admin).",
  },
  {
    env: "HEARTH_SHARE_LINKS",
    key: "web.shareLinks",
    type: "string",
    description:
      "Who may open a conversation's share link: signed-in (any signed-in user) or off; admins change it at run time.",
  },
  {
    env: "HEARTH_SECURE_COOKIES",
    key: "web.secureCookies",
    type: "string",
    description: "Secure session cookies: auto (when served over TLS), always or never.",
  },
  {
    env: "HEARTH_TRUST_PROXY",
    key: "web.trustProxy",
    type: "boolean",
    description: "Trust X-Forwarded-* headers from a reverse proxy in front of the web service.",
  },
  {
    env: "HEARTH_WEB_WORKERS",
    key: "web.workers",
    type: "integer",
    description:
      "Processes serving the web service's port (node:cluster), to spread streaming over the cores.",
  },
  {
    env: "HEARTH_WEB_REQUEST_TIMEOUT",
    key: "web.requestTimeoutSeconds",
    type: "integer",
    description:
      "Seconds a request to the web service may take to arrive, headers and body (an upload, an import); later: 408 REQUEST_TIMEOUT. Answers and streams are not timed.",
  },
  {
    env: "HEARTH_SESSION_HOURS",
    key: "web.sessionHours",
    type: "integer",
    description: "How long a sign-in lasts, in hours.",
  },
  {
    env: "HEARTH_OIDC_ISSUER",
    key: "web.oidc.issuer",
    type: "url",
    description:
      "Issuer URL of the OpenID Connect provider for single sign-on (SSO is on when it and the client id are set).",
  },
  {
    env: "HEARTH_OIDC_CLIENT_ID",
    key: "web.oidc.clientId",
    type: "string",
    description: "Client id Hearth is registered under at the OpenID Connect provider.",
  },
  {
    env: "HEARTH_OIDC_CLIENT_SECRET",
    key: "web.oidc.clientSecret",
    type: "string",
    description: "Client secret for the OpenID Connect provider; never logged.",
  },
  {
    env: "HEARTH_OIDC_PASSWORD_LOGIN",
    key: "web.oidc.passwordLogin",
    type: "boolean",
    description: "With SSO on, false refuses password sign-in and sign-up to everyone but administrators.",
  },
  {
    env: "HEARTH_OIDC_GROUPS_CLAIM",
    key: "web.oidc.groupsClaim",
    type: "string",
    description:
      "The ID token's claim listing the user's groups or roles (a dotted path for a nested one, as realm_access.roles).",
  },
  {
    env: "HEARTH_OIDC_SYNC_GROUPS",
    key: "web.oidc.syncGroups",
    type: "boolean",
    description:
      "At each SSO sign-in, set the account's Hearth groups to those the groups claim names (groups are never created).",
  },
  {
    env: "HEARTH_OIDC_ADMIN_GROUPS",
    key: "web.oidc.adminGroups",
    type: "list",
    description:
      "Groups or roles of the groups claim that make an SSO account an administrator at sign-in, else a user (comma-separated; empty: roles are not managed).",
  },
  {
    env: "HEARTH_MODEL_HOST",
    key: "model.host",
    type: "string",
    description: "Address the model service listens on.",
  },
  {
    env: "HEARTH_MODEL_PORT",
    key: "model.port",
    type: "integer",
    description: "Port of the model service (Ollama and OpenAI APIs).",
  },
  {
    env: "HEARTH_MODEL_ORIGINS",
    key: "model.allowedOrigins",
    type: "list",
    description:
      "Web pages allowed to call the model service from a browser, beside loopback and desktop apps (comma-separated; `*` wildcards), as Ollama's OLLAMA_ORIGINS.",
  },
  {
    env: "HEARTH_MODELS_DIR",
    key: "model.modelsDir",
    type: "string",
    description: "Directory searched for .gguf models (default: <dataDir>/models).",
  },
  {
    env: "HEARTH_THREADS",
    key: "model.threads",
    type: "integer",
    description: "CPU threads llama.cpp uses per model (default: cores - 1, and 1 on 2 cores).",
  },
  {
    env: "HEARTH_CONTEXT_SIZE",
    key: "model.contextSize",
    type: "integer",
    description: "Context window in tokens for embedded models (capped at the model's own).",
  },
  {
    env: "HEARTH_PARALLEL",
    key: "model.parallel",
    type: "integer",
    description: "Parallel generation slots per embedded model.",
  },
  {
    env: "OLLAMA_HOST",
    key: "model.ollamaHost",
    type: "url",
    description: "An Ollama server whose models are listed and proxied (e.g. http://127.0.0.1:11434).",
  },
  {
    env: "HEARTH_OLLAMA_AUTODETECT",
    key: "model.ollamaAutodetect",
    type: "boolean",
    description: "Look for an Ollama on 127.0.0.1:11434 when OLLAMA_HOST is unset.",
  },
  // Model service
  {
    env: "HEARTH_KEEP_ALIVE",
    key: "model.keepAliveSeconds",
    type: "integer",
    description: "Seconds an idle embedded model stays loaded (-1: forever).",
  },
  {
    env: "HEARTH_STREAM_INTERVAL_MS",
    key: "model.streamIntervalMs",
    type: "integer",
    description:
      "Shortest time between two streamed writes of an embedded model's answer; faster tokens go out together, the first never waits (0: every token).",
  },
  {
    env: "HEARTH_QUEUE_MAX",
    key: "model.queue.maxQueue",
    type: "integer",
    description: "Requests that may wait per model before new ones get 429.",
  },
  {
    env: "HEARTH_QUEUE_MAX_WAIT_MS",
    key: "model.queue.maxWaitMs",
    type: "integer",
    description: "Longest a request waits in a model's queue, in milliseconds.",
  },
  {
    env: "HEARTH_MODEL_CONCURRENCY",
    key: "model.queue.concurrency",
    type: "integer",
    description: "Concurrent generations per model (default: HEARTH_PARALLEL).",
  },
  {
    env: "HEARTH_CACHE_ENABLED",
    key: "model.cache.enabled",
    type: "boolean",
    description: "Answer repeated identical deterministic requests from the inference cache.",
  },
  {
    env: "HEARTH_CACHE_TTL",
    key: "model.cache.ttlSeconds",
    type: "integer",
    description: "Seconds an inference cache entry lives.",
  },
  {
    env: "HEARTH_CACHE_MAX_BYTES",
    key: "model.cache.maxBytes",
    type: "integer",
    description: "Size limit of the inference cache in bytes.",
  },
  {
    env: "HEARTH_OLLAMA_MODELS_DIR",
    key: "model.ollamaModelsDir",
    type: "string",
    description: "A local Ollama's models dir to import from (default ~/.ollama/models).",
  },
  {
    env: "HEARTH_SEARCH_HOST",
    key: "search.host",
    type: "string",
    description: "Address the search service listens on.",
  },
  {
    env: "HEARTH_SEARCH_PORT",
    key: "search.port",
    type: "integer",
    description: "Port of the search service.",
  },
  {
    env: "HEARTH_SEARCH_DEADLINE_MS",
    key: "search.deadlineMs",
    type: "integer",
    description:
      "Deadline in milliseconds for one search fan-out; the answer holds whatever arrived by then.",
  },
  {
    env: "HEARTH_SEARCH_REDIS_URL",
    key: "search.redis.url",
    type: "string",
    description:
      "Redis (redis://host:6379/0) shared by search replicas for rate limits, cool-downs and the result cache; in process when unset. Never logged.",
  },
  {
    env: "HEARTH_KNOWLEDGE_HOST",
    key: "knowledge.host",
    type: "string",
    description: "Address the knowledge service listens on.",
  },
  {
    env: "HEARTH_KNOWLEDGE_PORT",
    key: "knowledge.port",
    type: "integer",
    description: "Port of the knowledge service.",
  },
  // Knowledge service
  {
    env: "HEARTH_TIKA_URL",
    key: "knowledge.tikaUrl",
    type: "url",
    description:
      "An Apache Tika server the knowledge service may use to parse documents (e.g. http://127.0.0.1:9998).",
  },
  {
    env: "HEARTH_KNOWLEDGE_MAX_UPLOAD_BYTES",
    key: "knowledge.maxUploadBytes",
    type: "integer",
    description: "Largest document the knowledge service accepts, per file, in bytes.",
  },
  {
    env: "HEARTH_KNOWLEDGE_REQUEST_TIMEOUT",
    key: "knowledge.requestTimeoutSeconds",
    type: "integer",
    description:
      "Seconds a request to the knowledge service may take to arrive, headers and body (an upload of many files); later: 408 REQUEST_TIMEOUT.",
  },
  {
    env: "HEARTH_KNOWLEDGE_SYNC_INTERVAL",
    key: "knowledge.syncIntervalSeconds",
    type: "integer",
    description: "Seconds between automatic syncs of watched folders (0: only on demand).",
  },
  {
    env: "HEARTH_EMBEDDING_URL",
    key: "knowledge.embeddingUrl",
    type: "url",
    description:
      "Ollama-style /api/embed endpoint base for knowledge embeddings (default: the model service); the service token goes only to the model service.",
  },
  {
    env: "HEARTH_KNOWLEDGE_INDEX",
    key: "knowledge.indexBackend",
    type: "string",
    description:
      "Where the knowledge index lives: sqlite (default, in <dataDir>), postgres or elasticsearch.",
  },
  {
    env: "HEARTH_KNOWLEDGE_POSTGRES_URL",
    key: "knowledge.indexPostgresUrl",
    type: "string",
    description:
      "PostgreSQL for the knowledge index (postgres://user:password@host:5432/db; pgvector used when installed); never logged.",
  },
  {
    env: "HEARTH_KNOWLEDGE_ELASTICSEARCH_URL",
    key: "knowledge.indexElasticsearchUrl",
    type: "url",
    description:
      "Elasticsearch 8+ or OpenSearch 2+ node for the knowledge index (user:password@ allowed); never logged.",
  },
  {
    env: "HEARTH_MODEL_URL",
    key: "services.modelUrl",
    type: "url",
    description:
      "URL other services use to reach the model service (default: its host and port on loopback).",
  },
  {
    env: "HEARTH_SEARCH_URL",
    key: "services.searchUrl",
    type: "url",
    description: "URL other services use to reach the search service.",
  },
  {
    env: "HEARTH_KNOWLEDGE_URL",
    key: "services.knowledgeUrl",
    type: "url",
    description: "URL other services use to reach the knowledge service.",
  },
  {
    env: "HEARTH_SERVICE_TOKEN",
    key: "services.token",
    type: "string",
    description: "Shared secret services present to each other (at least 16 characters); never logged.",
    guard: {
      protects: "service authentication",
      fix: "set at least 16 random characters (openssl rand -hex 24), or unset the variable",
    },
  },
  // Alerts (the web service's built-in monitor; deploy)
  {
    env: "HEARTH_ALERTS",
    key: "alerts.enabled",
    type: "boolean",
    description: "Run the built-in alert monitor when a webhook is configured.",
  },
  {
    env: "HEARTH_ALERT_WEBHOOK_URL",
    key: "alerts.webhook.url",
    type: "url",
    description: "Webhook the built-in alert monitor notifies; never logged (it often carries a token).",
  },
  {
    env: "HEARTH_ALERT_WEBHOOK_KIND",
    key: "alerts.webhook.kind",
    type: "string",
    description: "Format of that webhook: generic, dingtalk, feishu, wecom or slack.",
  },
  {
    env: "HEARTH_ALERT_WEBHOOK_SECRET",
    key: "alerts.webhook.secret",
    type: "string",
    description: "Signing secret of a DingTalk or Feishu robot; never logged.",
  },
  {
    env: "HEARTH_KNOWLEDGE_STALE_HOURS",
    key: "alerts.knowledgeStaleHours",
    type: "integer",
    description: "Hours without an update after which a knowledge base raises HearthKnowledgeStale.",
  },
  {
    env: "HEARTH_ALERT_FIRST_TOKEN_MS",
    key: "alerts.firstTokenP99Ms",
    type: "integer",
    description:
      "HearthInferenceLatencyHigh threshold: P99 time to first token in milliseconds (default 5000, for CPU inference).",
  },
];
