/** The browser side of the web service's API (docs/web.md). */

export interface ModelInfo {
  id: string;
  ownedBy: string;
}

export interface ModelsAnswer {
  /** The chat models (the pickers'). */
  models: ModelInfo[];
  /** The embedding models, for a knowledge base's settings (not offered for chat). */
  embeddingModels?: ModelInfo[];
  /** The rerankers, for a knowledge base's settings (not offered for chat). */
  rerankModels?: ModelInfo[];
  reachable: boolean;
  /** modelsDir, steps and skippedFiles: administrators only. */
  guidance?: {
    reason?: "none-installed" | "none-allowed" | "unreachable";
    modelsDir?: string;
    steps?: string[];
    skippedFiles?: SkippedModelFile[];
  };
}

/**
 * A file in the models folder that is not served (administrators only): its name is not a model name
 * (with a name to rename it to), or it is a link to no file (with where it points).
 */
export type SkippedModelFile =
  | { file: string; reason: "not-a-model-name"; suggestedFile: string }
  | { file: string; reason: "link-target-missing"; target: string };

export type StreamPart =
  | { type: "queue-position"; position: number }
  | { type: "text-delta"; text: string }
  | { type: "reasoning-delta"; text: string }
  | { type: "finish"; finishReason: string; cached: boolean }
  | { type: "error"; code: string; message: string; details?: Record<string, unknown> }
  | { type: "message-start"; messageId: string; conversationId: string }
  | { type: "sources"; citations: Citation[]; searchQueries: string[] }
  | ({ type: "warning" } & GroundingWarning);

/** Grounding an answer could not do, and why (docs/web.md, Grounding). */
export interface GroundingWarning {
  code: string;
  /** With knowledge-unavailable: the chosen bases that are gone (deleted, no longer readable). */
  knowledgeBaseIds?: string[];
  /** With search-unavailable: the search service's error code, why, and how long to wait when it said. */
  errorCode?: string;
  reason?: string;
  retryAfterSeconds?: number;
  /** With sources-trimmed: how many sources of each kind the model's context had no room for. */
  leftOut?: { knowledge: number; web: number };
}

export interface Citation {
  n: number;
  kind: "document" | "web";
  title: string;
  url: string;
  snippet?: string;
}

export interface SessionInfo {
  user: {
    id: string;
    username: string;
    role: "admin" | "user";
    /** The account signs in with single sign-on. */
    sso?: boolean;
    /** False for an account made by single sign-on: no password to change. */
    hasPassword?: boolean;
  } | null;
  signup: "open" | "approval" | "closed";
  firstUser: boolean;
  /** Single sign-on: null when off, else the button's configured text (null: the UI's own words). */
  sso?: { buttonLabel: string | null } | null;
  /** Whether the sign-in page offers user name and password (false: SSO for all but administrators). */
  passwordLogin?: boolean;
}

/**
 * The user's chat defaults and display choices, kept with the account (GET/PUT
 * /api/account/preferences); null: never chosen.
 */
export interface Preferences {
  /** Personal instructions: a new chat's system prompt. */
  instructions: string | null;
  defaultModel: string | null;
  webSearch: "off" | "auto" | "on" | null;
  language: "en" | "zh-CN" | null;
  theme: "system" | "light" | "dark" | null;
  /** Whether the user's memories go into their chats (Settings → Memory; off until turned on). */
  memory: boolean;
  /** The longest instructions the service takes (a conversation's system prompt's limit). */
  instructionsMaxChars: number;
  /** The longest chat message the service takes (web.maxMessageChars). */
  messageMaxChars: number;
}

/** A saved prompt of the prompt library (GET /api/prompts): the caller's own, or shared with everyone. */
export type { Assistant } from "@hearth/contracts/assistant";
export type { Prompt } from "@hearth/contracts/prompt-command";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** What the service's error names beyond its code (the refused words of CONTENT_BLOCKED). */
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

function csrfToken(): string {
  return decodeURIComponent(/(?:^|;\s*)hearth_csrf=([^;]+)/.exec(document.cookie)?.[1] ?? "");
}

/** The CSRF header every state-changing request carries (double submit of the readable cookie). */
export function csrfHeader(): Record<string, string> {
  return { "x-csrf-token": csrfToken() };
}

/** Aborted when the user signs out: every request made before then is stopped. */
let requests = new AbortController();

/**
 * Stops every request under way (a deliberate sign-out): no answer meant for the account that left
 * arrives after it, and none of them comes back as a 401 that would read as an expired session.
 */
export function abortRequests(): void {
  requests.abort();
  requests = new AbortController();
}

/** The signal a sign-out aborts, for a request made other than by `api` (an upload's). */
export function signOutSignal(): AbortSignal {
  return requests.signal;
}

/** The caller's signal (if any) joined with the one a sign-out aborts. */
function requestSignal(signal?: AbortSignal): AbortSignal {
  return signal ? AbortSignal.any([signal, requests.signal]) : requests.signal;
}

/** Calls the API; `body` is sent as JSON, a Blob (a JSON file the user chose) as it is. */
export async function api<T>(
  path: string,
  init: { method?: string; body?: unknown; signal?: AbortSignal; contentType?: string } = {},
): Promise<T> {
  const response = await fetch(path, {
    method: init.method ?? "GET",
    headers: {
      ...(init.body !== undefined ? { "content-type": init.contentType ?? "application/json" } : {}),
      "x-csrf-token": csrfToken(),
    },
    body:
      init.body === undefined ? undefined : init.body instanceof Blob ? init.body : JSON.stringify(init.body),
    signal: requestSignal(init.signal),
    credentials: "same-origin",
  });
  if (!response.ok) throw await toApiError(response);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

async function toApiError(response: Response): Promise<ApiError> {
  // An expired or ended sign-in: the app goes back to the sign-in form.
  if (response.status === 401) dispatchEvent(new Event("hearth:signed-out"));
  const body = (await response.json().catch(() => undefined)) as
    | { error?: { code?: string; message?: string; details?: Record<string, unknown> } }
    | undefined;
  return new ApiError(
    response.status,
    body?.error?.code ?? "HTTP_ERROR",
    body?.error?.message ?? response.statusText,
    body?.error?.details,
  );
}

/**
 * POSTs JSON and reads the answer's body as it arrives, cut at each `separator`; aborting the
 * signal stops it. An error status throws the API's error.
 */
async function* postAndRead(
  path: string,
  body: unknown,
  accept: string,
  separator: string,
  signal?: AbortSignal,
): AsyncGenerator<string> {
  const response = await fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json", accept, "x-csrf-token": csrfToken() },
    body: JSON.stringify(body),
    signal: requestSignal(signal),
    credentials: "same-origin",
  });
  if (!response.ok || !response.body) throw await toApiError(response);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  while (true) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let cut = buffer.indexOf(separator);
    while (cut !== -1) {
      yield buffer.slice(0, cut);
      buffer = buffer.slice(cut + separator.length);
      cut = buffer.indexOf(separator);
    }
  }
}

/** POSTs and reads the answer's SSE parts as they arrive; aborting the signal stops the answer. */
export async function* streamParts(
  path: string,
  body: unknown,
  signal: AbortSignal,
): AsyncGenerator<StreamPart> {
  for await (const event of postAndRead(path, body, "text/event-stream", "\n\n", signal)) {
    const data = event
      .split("\n")
      .filter((line) => line.startsWith("data:"))
      .map((line) => line.slice(5).trimStart())
      .join("\n");
    if (data) yield JSON.parse(data) as StreamPart;
  }
}

/** POSTs and reads an NDJSON answer a line at a time (a model pull's progress); aborting the signal stops it. */
export async function* ndjsonLines<T>(path: string, body: unknown, signal?: AbortSignal): AsyncGenerator<T> {
  for await (const line of postAndRead(path, body, "application/x-ndjson", "\n", signal)) {
    if (line) yield JSON.parse(line) as T;
  }
}
