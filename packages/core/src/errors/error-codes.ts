/**
 * The catalogue of Hearth error codes. Every error a user can see carries one of these codes; the
 * HTTP status is the one a request gets, and `exit` marks codes that stop start-up instead.
 * docs/errors.md documents each code (a test keeps the two in step).
 */
export const ERROR_CODES = {
  // Requests, any service
  INVALID_JSON: { status: 400, summary: "The request body is not valid JSON." },
  INVALID_REQUEST: { status: 400, summary: "The request is well-formed JSON but a field is missing or out of range." },
  INVALID_ENCODING: { status: 400, summary: "The request body is not valid UTF-8." },
  PAYLOAD_TOO_LARGE: { status: 413, summary: "The request body is larger than the configured limit." },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, summary: "The request's Content-Type is not accepted by this route." },
  ROUTE_NOT_FOUND: { status: 404, summary: "No route matches the method and path." },
  UNAUTHORIZED: { status: 401, summary: "No valid credentials were presented." },
  FORBIDDEN: { status: 403, summary: "The credentials do not grant access to this resource." },
  RATE_LIMITED: { status: 429, summary: "Too many requests; retry after the time given in Retry-After." },
  SERVICE_NOT_READY: { status: 503, summary: "The service is starting or shutting down." },
  INTERNAL_ERROR: { status: 500, summary: "An unexpected error; the log has the detail." },

  // Model service
  MODEL_NOT_FOUND: { status: 404, summary: "No model with that name is installed or offered by a configured upstream." },
  MODEL_FILE_INVALID: { status: 422, summary: "The model file is not a GGUF file, or it is truncated or corrupt." },
  MODEL_LOAD_FAILED: { status: 500, summary: "The runtime could not load the model." },
  CONTEXT_OVERFLOW: { status: 400, summary: "The prompt and requested tokens do not fit the model's context window." },
  UPSTREAM_UNAVAILABLE: { status: 502, summary: "An upstream service (Ollama, an OpenAI-compatible server, another Hearth service) did not answer." },
  UPSTREAM_ERROR: { status: 502, summary: "An upstream service answered with an error." },

  // Web service
  INVALID_CREDENTIALS: { status: 401, summary: "The user name or password is wrong." },
  SESSION_EXPIRED: { status: 401, summary: "The sign-in has expired or was ended; sign in again." },
  CSRF_TOKEN_INVALID: { status: 403, summary: "The request's CSRF token is missing or does not match the session." },
  LOGIN_THROTTLED: { status: 429, summary: "Too many failed sign-ins; wait for the time given in Retry-After." },
  ACCOUNT_PENDING: { status: 403, summary: "The account waits for an administrator's approval." },
  ACCOUNT_DISABLED: { status: 403, summary: "The account has been disabled by an administrator." },
  SIGNUP_CLOSED: { status: 403, summary: "Creating accounts is closed on this deployment." },
  USERNAME_TAKEN: { status: 409, summary: "Another account already has that user name." },
  WEAK_PASSWORD: { status: 400, summary: "The password is too short (at least 8 characters)." },
  API_KEY_INVALID: { status: 401, summary: "The API key is unknown or has been revoked." },
  ADMIN_REQUIRED: { status: 403, summary: "Only administrators may do this." },
  MODEL_NOT_ALLOWED: { status: 403, summary: "Your groups may not use this model." },
  CONVERSATION_NOT_FOUND: { status: 404, summary: "No conversation with that id belongs to you." },
  MESSAGE_NOT_FOUND: { status: 404, summary: "No message with that id is in the conversation." },
  MESSAGE_TOO_LONG: { status: 413, summary: "The chat message is longer than web.maxMessageChars." },
  KNOWLEDGE_BASE_NOT_FOUND: { status: 404, summary: "No knowledge base with that id is visible to you." },
  USER_NOT_FOUND: { status: 404, summary: "No user with that id." },
  GROUP_NOT_FOUND: { status: 404, summary: "No group with that id." },
  LAST_ADMIN: { status: 409, summary: "The last administrator cannot be demoted, disabled or deleted." },
  QUOTA_EXCEEDED: { status: 429, summary: "A request or token limit is used up; details.resetAt and Retry-After say when it resets." },
  CONTENT_BLOCKED: { status: 422, summary: "The message contains words the sensitive-word filter blocks." },
  DATABASE_UNAVAILABLE: { status: 503, summary: "The web service's database cannot be opened or reached." },

  // Start-up (a one-line message and a non-zero exit)
  CONFIG_INVALID: { status: 500, summary: "A configuration value is invalid; the message names the key and what is allowed.", exit: true },
  CONFIG_FILE_UNREADABLE: { status: 500, summary: "The configuration file cannot be read or is not valid YAML.", exit: true },
  MODELS_DIR_MISSING: { status: 500, summary: "The configured models directory does not exist.", exit: true },
  DATA_DIR_NOT_WRITABLE: { status: 500, summary: "The data directory cannot be created or written.", exit: true },
  PORT_IN_USE: { status: 500, summary: "A service's port is already taken by another process.", exit: true },
} as const satisfies Record<string, { status: number; summary: string; exit?: boolean }>;

export type ErrorCode = keyof typeof ERROR_CODES;
