import type { FastifyInstance } from "fastify";

/** A signed-in browser as the API sees it: the session cookie plus the CSRF token header. */
export interface Session {
  cookie: string;
  csrf: string;
  userId: string;
  headers: Record<string, string>;
}

export function signUp(
  app: FastifyInstance,
  username: string,
  password = "correct horse battery",
): Promise<Session> {
  return authenticate(app, "/api/auth/signup", 201, username, password);
}

export function signIn(
  app: FastifyInstance,
  username: string,
  password = "correct horse battery",
): Promise<Session> {
  return authenticate(app, "/api/auth/login", 200, username, password);
}

async function authenticate(
  app: FastifyInstance,
  url: string,
  expectedStatus: number,
  username: string,
  password: string,
): Promise<Session> {
  const response = await app.inject({ method: "POST", url, payload: { username, password } });
  if (response.statusCode !== expectedStatus)
    throw new Error(`${url} failed: ${response.statusCode} ${response.body}`);
  return sessionFrom(response.headers["set-cookie"], (response.json() as { user: { id: string } }).user.id);
}

/** Starts an empty conversation of the signed-in user's; returns its id. */
export async function newConversation(app: FastifyInstance, session: Session): Promise<string> {
  const created = await app.inject({
    method: "POST",
    url: "/api/conversations",
    headers: session.headers,
    payload: {},
  });
  return (created.json() as { id: string }).id;
}

/** Starts a conversation and sends its first message over HTTP; the response streams the turn. */
export async function sendInNewConversation(
  app: FastifyInstance,
  url: string,
  session: Session,
  message: { model: string; content: string },
): Promise<{ conversationId: string; response: Response }> {
  const id = await newConversation(app, session);
  const response = await fetch(`${url}/api/conversations/${id}/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", ...session.headers },
    body: JSON.stringify(message),
  });
  return { conversationId: id, response };
}

/** Creates an API key for the signed-in user; returns the key (shown once). */
export async function createApiKey(app: FastifyInstance, session: Session, name = "sdk"): Promise<string> {
  const response = await app.inject({
    method: "POST",
    url: "/api/account/api-keys",
    headers: session.headers,
    payload: { name },
  });
  if (response.statusCode !== 201 && response.statusCode !== 200)
    throw new Error(`creating an API key failed: ${response.statusCode} ${response.body}`);
  return (response.json() as { key: string }).key;
}

/** An admin sets the sensitive-word list, applied to input and output. */
export async function setFilterWords(app: FastifyInstance, admin: Session, words: string[]): Promise<void> {
  const response = await app.inject({
    method: "PATCH",
    url: "/api/admin/settings",
    headers: admin.headers,
    payload: { filter: { words, applyToInput: true, applyToOutput: true } },
  });
  if (response.statusCode !== 200)
    throw new Error(`setting the word list failed: ${response.statusCode} ${response.body}`);
}

/** The session a response's Set-Cookie headers start (a sign-in, a sign-up, an SSO callback). */
export function sessionFrom(setCookie: string | string[] | undefined, userId: string): Session {
  const cookies = [setCookie ?? []].flat().map((c) => c.split(";")[0]!);
  const csrf = cookies.find((c) => c.startsWith("hearth_csrf="))!.slice("hearth_csrf=".length);
  const cookie = cookies.join("; ");
  return { cookie, csrf, userId, headers: { cookie, "x-csrf-token": decodeURIComponent(csrf) } };
}

/** The JSON events of an SSE stream (OpenAI's closing `data: [DONE]` is not JSON and is left out). */
export function parseSse(text: string): Array<Record<string, unknown>> {
  return text
    .split("\n\n")
    .filter((event) => event.startsWith("data: {"))
    .map((event) => JSON.parse(event.slice(6)) as Record<string, unknown>);
}

/**
 * A message sent to a conversation over HTTP, its answer read as it streams: `until(text)` reads on
 * until the stream holds `text`, `rest()` to its end; `seen` is what was read so far. `cancel()`
 * closes the stream as a closed tab does.
 */
export async function streamTurn(url: string, session: Session, conversationId: string, content: string) {
  const response = await fetch(`${url}/api/conversations/${conversationId}/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", ...session.headers },
    body: JSON.stringify({ model: "tiny-story", content }),
  });
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const read = async () => {
    const { done, value } = await reader.read();
    if (!done) turn.seen += decoder.decode(value, { stream: true });
    return done;
  };
  const turn = {
    seen: "",
    async until(text: string) {
      while (!turn.seen.includes(text))
        if (await read()) throw new Error(`the answer ended before "${text}": ${turn.seen}`);
    },
    async rest() {
      while (!(await read()));
      return turn.seen;
    },
    cancel: () => reader.cancel(),
  };
  return turn;
}
