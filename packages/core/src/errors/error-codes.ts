/**
 * The catalogue of Hearth error codes. Every error a user can see carries one of these codes; the
 * HTTP status is the one a request gets, and `exit` marks codes that stop start-up instead.
 * docs/errors.md documents each code (a test keeps the two in step).
 */
export const ERROR_CODES = {
  // Requests, any service
  INVALID_JSON: { status: 400, summary: "The request body is not valid JSON." },
  INVALID_REQUEST: {
    status: 400,
    summary: "The request is well-formed JSON but a field is missing or out of range.",
  },
  INVALID_ENCODING: { status: 400, summary: "The request body is not valid UTF-8." },
  PAYLOAD_TOO_LARGE: { status: 413, summary: "The request body is larger than the configured limit." },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    summary: "The request's Content-Type is not accepted by this route.",
  },
  ROUTE_NOT_FOUND: { status: 404, summary: "No route matches the method and path." },
  UNAUTHORIZED: { status: 401, summary: "No valid credentials were presented." },
  FORBIDDEN: { status: 403, summary: "The credentials do not grant access to this resource." },
  RATE_LIMITED: { status: 429, summary: "Too many requests; retry after the time given in Retry-After." },
  SERVICE_NOT_READY: { status: 503, summary: "The service is starting or shutting down." },
  INTERNAL_ERROR: { status: 500, summary: "An unexpected error; the log has the detail." },

  // Model service
  MODEL_NOT_FOUND: {
    status: 404,
    summary: "No model with that name is installed or offered by a configured upstream.",
  },
  MODEL_FILE_INVALID: {
    status: 422,
    summary: "The model file is not a GGUF file, or it is truncated or corrupt.",
  },
  MODEL_LOAD_FAILED: { status: 500, summary: "The runtime could not load the model." },
  CONTEXT_OVERFLOW: {
    status: 400,
    summary: "The prompt and requested tokens do not fit the model's context window.",
  },
  UPSTREAM_UNAVAILABLE: {
    status: 502,
    summary:
      "An upstream service (Ollama, an OpenAI-compatible server, another Hearth service) did not answer.",
  },
  UPSTREAM_ERROR: { status: 502, summary: "An upstream service answered with an error." },

  // Search service
  SEARCH_NO_PROVIDERS: { status: 503, summary: "No search provider is configured (add one under search.providers in hearth.yaml; see docs/search.md)." },
  SEARCH_PROVIDER_UNKNOWN: { status: 400, summary: "The request names a search provider that is not configured or is disabled." },
  SEARCH_QUERY_INVALID: { status: 400, summary: "The search query is empty (after removing control characters) or longer than search.maxQueryLength." },
  SEARCH_QUERY_BLOCKED: { status: 451, summary: "The search query contains words from a word list whose action is block." },
  SEARCH_ALL_PROVIDERS_FAILED: { status: 502, summary: "Every chosen search provider failed, timed out, was rate-limited or skipped; details.providers says why." },
  SEARCH_FETCH_BLOCKED: { status: 403, summary: "A page fetch was refused: its address is loopback, private, link-local or cloud metadata (SSRF protection)." },
  SEARCH_FETCH_FAILED: { status: 502, summary: "A page could not be fetched within the size, time, redirect and content-type limits." },
  SEARCH_WORD_LIST_UNREADABLE: { status: 500, summary: "A sensitive-word list file named in search.filter.lists cannot be read.", exit: true },

  // Knowledge index and retrieval
  INDEX_DIMENSION_MISMATCH: {
    status: 400,
    summary: "A vector's length differs from the dimensions the index holds, or it has a non-finite value.",
  },
  INDEX_INVALID_CHUNK: {
    status: 400,
    summary: "A chunk sent to the index is missing a field or has one out of range.",
  },
  INDEX_UNAVAILABLE: {
    status: 503,
    summary: "The index backend (SQLite, PostgreSQL, Elasticsearch/OpenSearch) cannot be reached or used.",
  },

  // Start-up (a one-line message and a non-zero exit)
  CONFIG_INVALID: {
    status: 500,
    summary: "A configuration value is invalid; the message names the key and what is allowed.",
    exit: true,
  },
  CONFIG_FILE_UNREADABLE: {
    status: 500,
    summary: "The configuration file cannot be read or is not valid YAML.",
    exit: true,
  },
  MODELS_DIR_MISSING: { status: 500, summary: "The configured models directory does not exist.", exit: true },
  DATA_DIR_NOT_WRITABLE: {
    status: 500,
    summary: "The data directory cannot be created or written.",
    exit: true,
  },
  PORT_IN_USE: { status: 500, summary: "A service's port is already taken by another process.", exit: true },

  // Storage: backup, restore and schema migrations (deploy)
  BACKUP_FAILED: {
    status: 500,
    summary: "A backup could not be written (destination exists, disk full, data directory unreadable).",
  },
  BACKUP_INVALID: {
    status: 422,
    summary:
      "The directory is not a Hearth backup: its manifest is missing, unreadable or names unsafe paths.",
  },
  BACKUP_CORRUPT: {
    status: 422,
    summary: "A file in the backup is missing or does not match its checksum; nothing was restored.",
  },
  RESTORE_FAILED: {
    status: 500,
    summary: "The verified backup could not be written into the data directory (permissions, disk space).",
  },
  MIGRATION_FAILED: {
    status: 500,
    summary: "A schema migration failed and was rolled back; the message names the automatic backup.",
    exit: true,
  },
  SCHEMA_TOO_NEW: {
    status: 500,
    summary:
      "A database was written by a newer Hearth; upgrade, or restore the backup taken before the upgrade.",
    exit: true,
  },
  ALERT_DELIVERY_FAILED: {
    status: 502,
    summary:
      "An alert webhook did not accept a notification (logged; the monitor retries at the next change).",
  },
} as const satisfies Record<string, { status: number; summary: string; exit?: boolean }>;

export type ErrorCode = keyof typeof ERROR_CODES;
