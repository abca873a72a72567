/**
 * The catalogue of Hearth error codes. Every error a user can see carries one of these codes; the
 * HTTP status is the one a request gets, and `exit` marks codes that stop start-up instead.
 * `userCaused` marks failures of what a user's request named (a URL, a model registry), expected and
 * answered by their code: logged as warnings, not errors, whatever their status (logFailure).
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
  MALFORMED_REQUEST: {
    status: 400,
    summary:
      "The request cannot be read: its URL's path is not valid percent-encoding (such as %FF), or one of its segments is longer than 100 characters (414); its headers are larger than the service reads (431); or it is not HTTP.",
  },
  REQUEST_TIMEOUT: {
    status: 408,
    summary:
      "The request's headers or body did not arrive within the service's time (a body promised by its Content-Length and not sent); the connection is closed.",
  },
  PAYLOAD_TOO_LARGE: { status: 413, summary: "The request body is larger than the configured limit." },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    summary: "The request's Content-Type is not accepted by this route.",
  },
  UNSUPPORTED_CONTENT_ENCODING: {
    status: 415,
    summary:
      "The request body is compressed (Content-Encoding gzip, deflate, br); bodies are accepted uncompressed only.",
  },
  ROUTE_NOT_FOUND: { status: 404, summary: "No route matches the method and path." },
  UNAUTHORIZED: { status: 401, summary: "No valid credentials were presented." },
  FORBIDDEN: { status: 403, summary: "The credentials do not grant access to this resource." },
  ORIGIN_NOT_ALLOWED: {
    status: 403,
    summary: "A web page from an origin the service does not allow sent the request from a browser.",
  },
  HOST_NOT_ALLOWED: {
    status: 403,
    summary:
      "A service without a service token was addressed by a name other than localhost or a loopback address.",
  },
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
  LLAMA_BINARY_UNAVAILABLE: {
    status: 500,
    summary:
      "llama.cpp, which runs embedded models, could not be loaded: its prebuilt binary failed its test on this machine.",
  },
  CONTEXT_OVERFLOW: {
    status: 400,
    summary: "The prompt and requested tokens do not fit the model's context window.",
  },
  TOOLS_NOT_SUPPORTED: {
    status: 400,
    summary: "Tools were offered to a model whose chat template cannot show them to it.",
  },
  THINKING_NOT_SUPPORTED: {
    status: 400,
    summary: "Thinking (Ollama `think`) was asked of a model whose chat template does not think.",
  },
  EMBEDDING_INPUT_EMPTY: {
    status: 400,
    summary: "An input to embed is empty: it has no embedding. The message names which input.",
  },
  MODEL_CANNOT_RERANK: {
    status: 400,
    summary:
      "A rerank was asked of a model that is not a reranker (a GGUF without a classification head), or of a runtime with no rerank API (Ollama).",
  },
  MODEL_CANNOT_CHAT: {
    status: 400,
    summary:
      "A chat or a text completion was asked of an embedded model that only embeds (its GGUF names a pooling type) or only reranks (it has a classification head).",
  },
  TOKEN_INPUT_NOT_SUPPORTED: {
    status: 400,
    summary: "The input or prompt was sent as token ids rather than text; Hearth's models read text.",
  },
  MEDIA_INPUT_NOT_SUPPORTED: {
    status: 400,
    summary:
      "A chat sent an image, audio or file (an OpenAI content part, Ollama's images); Hearth's models read text only.",
  },
  PARAMETER_NOT_SUPPORTED: {
    status: 400,
    summary: "The runtime serving the model cannot honour a parameter the request set; the message names it.",
  },
  UPSTREAM_UNAVAILABLE: {
    status: 502,
    summary:
      "An upstream service (Ollama, an OpenAI-compatible server, another Hearth service) did not answer.",
  },
  UPSTREAM_ERROR: { status: 502, summary: "An upstream service answered with an error." },
  MODEL_MEMORY_INSUFFICIENT: {
    status: 507,
    summary:
      "Loading the model and its context would need more memory than is free; the message names the need and the fixes.",
  },
  MODEL_QUEUE_FULL: {
    status: 429,
    summary: "The model's admission queue is full; retry after the time given in Retry-After.",
  },
  MODEL_QUEUE_TIMEOUT: {
    status: 503,
    summary: "The request waited in the model's queue longer than the configured maximum.",
  },
  MODEL_REFERENCE_INVALID: {
    status: 400,
    summary: "The name to pull is not a model reference such as llama3.2:1b or host/namespace/model:tag.",
  },
  MODEL_PULL_FAILED: {
    status: 502,
    userCaused: true,
    summary:
      "A model pull failed: the registry or URL did not answer, a plain URL did not serve a GGUF, or the download was interrupted or stalled.",
  },
  MODEL_DIGEST_MISMATCH: {
    status: 422,
    summary: "A pulled file's content does not match the digest it was announced with; it was discarded.",
  },
  MODEL_PULL_IN_PROGRESS: {
    status: 409,
    summary:
      "Another pull of the same file holds its download (its lock under models/.hearth/pulls/ was taken from this one, or holds no record); the message names the process.",
  },
  MODEL_VERSION_NOT_FOUND: {
    status: 404,
    summary: "The model has no such version (or no earlier version to roll back to).",
  },
  MODEL_WEIGHTS_MISSING: {
    status: 409,
    summary:
      "The model's weights are not on disk (restored without them, or overwritten in place), so it cannot be tagged or switched to.",
  },
  MODEL_REGISTERING: {
    status: 409,
    summary:
      "The model's file is still being registered (hashed) by the model service; the message says how far. Try again shortly.",
  },
  MODEL_REGISTRY_CORRUPT: {
    status: 500,
    summary:
      "The model registry file (models/.hearth/registry.json) is corrupt; the message names the file and the fix.",
  },
  MODEL_REGISTRY_BUSY: {
    status: 503,
    summary:
      "Another process sharing the models dir (a replica, `hearth models`) held the registry's lock (models/.hearth/registry.lock) longer than a registry change waits; the message names it. Try again shortly.",
  },

  // Search service
  SEARCH_NO_PROVIDERS: {
    status: 503,
    summary:
      "No search provider is configured (add one under search.providers in hearth.yaml; see docs/search.md).",
  },
  SEARCH_PROVIDER_UNKNOWN: {
    status: 400,
    summary: "The request names a search provider that is not configured or is disabled.",
  },
  SEARCH_QUERY_INVALID: {
    status: 400,
    summary:
      "The search query is empty (after removing control characters) or longer than search.maxQueryLength.",
  },
  SEARCH_QUERY_BLOCKED: {
    status: 451,
    summary: "The search query contains words from a word list whose action is block.",
  },
  SEARCH_ALL_PROVIDERS_FAILED: {
    status: 502,
    summary:
      "Every chosen search provider failed, timed out or was skipped (all rate-limited: SEARCH_RATE_LIMITED); details.providers says why.",
  },
  SEARCH_RATE_LIMITED: {
    status: 429,
    summary:
      "Every chosen search provider is rate-limited or cooling down; retry after the time given in Retry-After.",
  },
  SEARCH_FETCH_BLOCKED: {
    status: 403,
    summary:
      "A page fetch was refused: its address is loopback, private, link-local or cloud metadata (SSRF protection).",
  },
  SEARCH_FETCH_FAILED: {
    status: 502,
    userCaused: true,
    summary:
      "A page could not be fetched within the time, redirect and content-type limits, or its text could not be decoded.",
  },
  SEARCH_WORD_LIST_UNREADABLE: {
    status: 500,
    summary: "A sensitive-word list file named in search.filter.lists cannot be read or is not UTF-8 text.",
    exit: true,
  },

  // Knowledge service
  KNOWLEDGE_BASE_NOT_FOUND: { status: 404, summary: "No knowledge base with that id is visible to you." },
  KNOWLEDGE_BASE_NAME_TAKEN: { status: 409, summary: "You already have a knowledge base with that name." },
  DOCUMENT_NOT_FOUND: { status: 404, summary: "No document with that id in the knowledge base." },
  JOB_NOT_FOUND: { status: 404, summary: "No ingestion job with that id." },
  JOB_CANCELLED: {
    status: 409,
    summary: "The ingestion job was cancelled before this document was indexed.",
  },
  DOCUMENT_SUPERSEDED: {
    status: 409,
    summary:
      "Recorded on a skipped job entry: a later upload of the same name replaced this version before it was indexed.",
  },
  DOCUMENT_EMPTY: { status: 422, summary: "The document is 0 bytes long." },
  DOCUMENT_NO_TEXT: {
    status: 422,
    summary:
      "The document parsed but holds no text (a scanned PDF without a text layer, an empty page, a PDF with no pages).",
  },
  DOCUMENT_TOO_LARGE: { status: 413, summary: "The document is larger than knowledge.maxUploadBytes." },
  DOCUMENT_NAME_EMPTY: { status: 400, summary: "The file has no name." },
  DOCUMENT_NAME_TOO_LONG: { status: 400, summary: "The file name is longer than 255 characters." },
  DOCUMENT_NAME_INVALID: {
    status: 400,
    summary: "The file name holds a path (../, /, \\) or control characters.",
  },
  DOCUMENT_UNSUPPORTED_FORMAT: {
    status: 415,
    summary:
      "No parser handles this format (configure HEARTH_TIKA_URL for more formats), or the file is an executable, image or archive rather than a document.",
  },
  DOCUMENT_TYPE_MISMATCH: {
    status: 422,
    summary: "The bytes are not what the file name says (e.g. an executable renamed .pdf).",
  },
  DOCUMENT_CORRUPT: { status: 422, summary: "The document is truncated or corrupt and cannot be parsed." },
  DOCUMENT_ENCRYPTED: { status: 422, summary: "The document is encrypted or password-protected." },
  DOCUMENT_EXPANDS_TOO_LARGE: {
    status: 422,
    summary: "The document expands beyond knowledge.maxExtractedBytes when unpacked (a zip bomb).",
  },
  FOLDER_UNREADABLE: {
    status: 422,
    summary:
      "A watched folder or one of its entries cannot be read (missing, permission denied, symlink loop).",
  },
  WATCH_FOLDER_IN_DATA_DIR: {
    status: 400,
    summary:
      "The watched folder is Hearth's data directory, lies inside it or holds it (it would index the databases).",
  },
  URL_FETCH_FAILED: {
    status: 502,
    userCaused: true,
    summary: "The document URL could not be fetched or answered with an error.",
  },
  EMBEDDING_FAILED: { status: 502, summary: "The embedding model did not return vectors after retries." },
  EMBEDDING_MODEL_NOT_FOUND: {
    status: 400,
    summary:
      "A knowledge base was given an embedding model the model service does not have (pull it, or leave the model empty for full text only).",
  },
  EMBEDDING_MODEL_UNUSABLE: {
    status: 400,
    summary:
      "A knowledge base was given a model that the model service will not embed text with (a chat model).",
  },
  RERANK_MODEL_NOT_FOUND: {
    status: 400,
    summary:
      "A knowledge base was given a rerank model the model service does not have (pull it, or choose none to keep the retrieval order).",
  },
  EMBEDDING_MODEL_REQUIRED: {
    status: 400,
    summary:
      'A query asked for mode "vector" on a knowledge base that has no embedding model (as a query warning, with mode "hybrid" sent by name: that base was searched on full text only).',
  },

  // Web service
  INVALID_CREDENTIALS: { status: 401, summary: "The user name or password is wrong." },
  SESSION_EXPIRED: { status: 401, summary: "The sign-in has expired or was ended; sign in again." },
  CSRF_TOKEN_INVALID: {
    status: 403,
    summary: "The request's CSRF token is missing or does not match the session.",
  },
  LOGIN_THROTTLED: {
    status: 429,
    summary: "Too many failed sign-ins; wait for the time given in Retry-After.",
  },
  ACCOUNT_PENDING: { status: 403, summary: "The account waits for an administrator's approval." },
  ACCOUNT_DISABLED: { status: 403, summary: "The account has been disabled by an administrator." },
  SIGNUP_CLOSED: { status: 403, summary: "Creating accounts is closed on this deployment." },
  USERNAME_TAKEN: { status: 409, summary: "Another account already has that user name." },
  PASSWORD_LOGIN_DISABLED: {
    status: 403,
    summary:
      "Signing in or up with a password is turned off here (web.oidc.passwordLogin): sign in with SSO; administrators still may.",
  },
  PASSWORD_NOT_SET: {
    status: 409,
    summary: "The account signs in with SSO and has no password to change.",
  },
  OIDC_NOT_CONFIGURED: { status: 404, summary: "Single sign-on is not configured on this deployment." },
  OIDC_STATE_MISMATCH: {
    status: 400,
    summary:
      "The SSO sign-in came back without the state it was started with (started in another browser, or more than 10 minutes ago); start it again.",
  },
  OIDC_PROVIDER_REFUSED: {
    status: 403,
    summary: "The identity provider refused the sign-in (cancelled, access denied, or the code refused).",
  },
  OIDC_TOKEN_INVALID: {
    status: 401,
    summary:
      "The identity provider's ID token failed a check (signature, issuer, audience, expiry or nonce).",
  },
  OIDC_PROVIDER_UNAVAILABLE: {
    status: 502,
    summary:
      "The identity provider's discovery, token or key endpoint did not answer, or answered with an error.",
  },
  OIDC_DISCOVERY_INVALID: {
    status: 502,
    summary:
      "The identity provider's discovery document is unusable: another issuer, an endpoint off the issuer's origin, or a field missing.",
  },
  WEAK_PASSWORD: {
    status: 400,
    summary: "The password is too weak: at least 8 characters, and not only spaces.",
  },
  CURRENT_PASSWORD_WRONG: {
    status: 403,
    summary: "The current password given to change it is wrong.",
  },
  API_KEY_INVALID: { status: 401, summary: "The API key is unknown or has been revoked." },
  API_KEY_NOT_FOUND: { status: 404, summary: "None of your active API keys has that id." },
  ADMIN_REQUIRED: { status: 403, summary: "Only administrators may do this." },
  MODEL_NOT_ALLOWED: { status: 403, summary: "Your groups may not use this model." },
  CONVERSATION_NOT_FOUND: { status: 404, summary: "No conversation with that id belongs to you." },
  FOLDER_NOT_FOUND: { status: 404, summary: "No folder with that id belongs to you." },
  FOLDER_NAME_TAKEN: {
    status: 409,
    summary: "You already have a folder with that name (names are compared without regard to case or width).",
  },
  PROMPT_NOT_FOUND: { status: 404, summary: "No prompt with that id is yours or shared with everyone." },
  PROMPT_COMMAND_TAKEN: {
    status: 409,
    summary:
      "Another of your prompts (of the shared ones, for a shared prompt) has that command (compared without regard to case or width).",
  },
  MEMORY_NOT_FOUND: { status: 404, summary: "No memory with that id is yours." },
  MEMORY_LIMIT_REACHED: {
    status: 409,
    summary: "You keep the most memories a user may (100): delete one before adding another.",
  },
  BANNER_NOT_FOUND: {
    status: 404,
    summary: "No announcement banner has that id (it may have been deleted).",
  },
  BANNER_NOT_DISMISSIBLE: {
    status: 409,
    summary: "This announcement banner cannot be dismissed: an administrator made it stay.",
  },
  ASSISTANT_NOT_FOUND: {
    status: 404,
    summary: "No assistant with that id is yours, shared with one of your groups, or public.",
  },
  ASSISTANT_NAME_TAKEN: {
    status: 409,
    summary: "You already have an assistant with that name (compared without regard to case or width).",
  },
  MESSAGE_NOT_FOUND: { status: 404, summary: "No message with that id is in the conversation." },
  ANSWER_IN_PROGRESS: {
    status: 409,
    summary: "The conversation's answer is still being written: wait for it to end, or stop it.",
  },
  ANSWER_NOT_CONTINUABLE: {
    status: 409,
    summary:
      "The conversation's last message is not an answer to continue: one cut off at the length limit, stopped or interrupted, with text to go on from.",
  },
  VERSION_OUT_OF_RANGE: {
    status: 400,
    summary:
      "The message has no version with that number: its versions are numbered from 1 to the count the conversation gives.",
  },
  MESSAGE_TOO_LONG: { status: 413, summary: "The chat message is longer than web.maxMessageChars." },
  IMPORT_FORMAT_UNKNOWN: {
    status: 422,
    summary:
      "The imported file is JSON but not a conversation export Hearth reads (Hearth's JSON export, ChatGPT's conversations.json, Open WebUI's chat export).",
  },
  IMPORT_ARCHIVE_UNRECOGNIZED: {
    status: 422,
    summary:
      "The imported ZIP is not ChatGPT's data export: it holds no conversations.json at its root or in one folder, or several.",
  },
  IMPORT_ARCHIVE_CORRUPT: {
    status: 422,
    summary:
      "The imported ZIP is truncated or corrupt (or uses what a ZIP reader here does not: ZIP64, another compression).",
  },
  SHARE_NOT_FOUND: {
    status: 404,
    summary: "No shared conversation at that link: it never was, was stopped, or share links are off.",
  },
  SHARING_DISABLED: { status: 403, summary: "An administrator has turned share links off (web.shareLinks)." },
  CONVERSATION_TEMPORARY: {
    status: 409,
    summary:
      "A temporary chat cannot be shared, pinned, filed or archived: keep it first (PATCH {temporary: false}).",
  },
  USER_NOT_FOUND: { status: 404, summary: "No user with that id (from `hearth users`: with that name)." },
  GROUP_NOT_FOUND: { status: 404, summary: "No group with that id." },
  GROUP_NAME_TAKEN: {
    status: 409,
    summary: "Another group already has that name (names are compared without regard to case or width).",
  },
  GROUP_IN_USE: {
    status: 409,
    summary:
      "The group limits models or has knowledge bases shared with it; details lists them. Delete with ?force=true to go on (those models become admin-only).",
  },
  LAST_ADMIN: { status: 409, summary: "The last administrator cannot be demoted, disabled or deleted." },
  QUOTA_EXCEEDED: {
    status: 429,
    summary:
      "A request or token limit is used up; details.resetAt and Retry-After say when it resets (a prompt that alone reaches a token limit has neither: shorten it).",
  },
  CONTENT_BLOCKED: {
    status: 422,
    summary: "The message, or a name (details.field), contains words the sensitive-word filter blocks.",
  },
  DATABASE_UNAVAILABLE: { status: 503, summary: "The web service's database cannot be opened or reached." },
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
  WEB_WORD_LIST_UNREADABLE: {
    status: 500,
    summary: "A sensitive-word list file named in web.filter.lists cannot be read or is not UTF-8 text.",
    exit: true,
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
  DATA_DIR_IN_USE: {
    status: 500,
    summary: "Another Hearth (the message names its pid) already runs on this data directory.",
    exit: true,
  },
  PORT_IN_USE: { status: 500, summary: "A service's port is already taken by another process.", exit: true },

  // Storage: backup, restore and schema migrations (deploy)
  BACKUP_FAILED: {
    status: 500,
    summary: "A backup could not be written (destination exists, disk full, data directory unreadable).",
  },
  BACKUP_IN_PROGRESS: {
    status: 409,
    summary: "Another backup to the same destination is running (the message names its pid).",
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
  BACKUP_TOO_NEW: {
    status: 422,
    summary:
      "The backup was written by a newer Hearth (a newer backup format or database schema); restore it with that release. Nothing was changed.",
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
} as const satisfies Record<string, { status: number; summary: string; exit?: boolean; userCaused?: true }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Whether a code from elsewhere (another service, a worker) is one of Hearth's stable codes. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === "string" && Object.hasOwn(ERROR_CODES, code);
}
