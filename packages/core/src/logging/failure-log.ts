import type { BaseLogger } from "pino";
import { ERROR_CODES } from "../errors/error-codes.js";
import { HearthError } from "../errors/hearth-error.js";
import { withoutUrlSecrets } from "../net/url-secrets.js";

/**
 * Whether a failure is the user's own, expected, and already answered by its code: a code the
 * catalogue marks `userCaused` (a URL or a model registry the request named that cannot be fetched:
 * URL_FETCH_FAILED, MODEL_PULL_FAILED, SEARCH_FETCH_FAILED), whatever its HTTP status.
 */
function isUserCausedFailure(error: unknown): error is HearthError {
  return error instanceof HearthError && "userCaused" in ERROR_CODES[error.code];
}

/**
 * Logs a failure at the level it calls for, the one place every service decides it (operators'
 * alerts watch the error log): a request's own mistake (a HearthError under 500) at `debug`; a
 * user-caused failure (isUserCausedFailure) at `warn`, its code and message with any URL's
 * credentials masked, without a stack; anything else (a bug, Hearth or a service it needs failing)
 * at `error`, with its stack (the cause's, where it has one). `message` says what failed, before the
 * error's own message; without it the error's message is the line.
 */
export function logFailure(
  logger: Pick<BaseLogger, "debug" | "warn" | "error">,
  error: unknown,
  context: { message?: string; [field: string]: unknown } = {},
): void {
  const { message, ...fields } = context;
  const line = (text: string) => (message ? `${message}: ${text}` : text);
  if (isUserCausedFailure(error))
    logger.warn({ ...fields, code: error.code }, line(withoutUrlSecrets(error.message)));
  else if (error instanceof HearthError && error.status < 500)
    logger.debug({ ...fields, code: error.code }, line(error.message));
  else if (error instanceof HearthError)
    logger.error({ ...fields, err: error.cause ?? error, code: error.code }, line(error.message));
  else logger.error({ ...fields, err: error }, message ?? String(error));
}
