import { useCallback, useState } from "react";
import { ApiError } from "./api.js";
import { errorText, invalidField } from "./display-text.js";
import { fill, type Messages, useI18n } from "./i18n.js";

/**
 * The code of a caught error: the service's own, or NETWORK_ERROR for a fetch that got no answer
 * at all (a TypeError); undefined for anything else.
 */
export function errorCode(error: unknown): string | undefined {
  if (error instanceof ApiError) return error.code;
  if (error instanceof TypeError) return "NETWORK_ERROR";
  return undefined;
}

/**
 * The form field a caught error is about, so the form shows it beside that field: the name for
 * USERNAME_TAKEN, the password for WEAK_PASSWORD, else the field a refused request names (a name
 * the input filter refused, CONTENT_BLOCKED, names it too).
 */
export function errorField(error: unknown): string | undefined {
  if (!(error instanceof ApiError)) return undefined;
  if (error.code === "USERNAME_TAKEN") return "username";
  if (error.code === "WEAK_PASSWORD") return "password";
  if (error.code === "CONTENT_BLOCKED")
    return typeof error.details?.field === "string" ? error.details.field : undefined;
  return error.code === "INVALID_REQUEST" ? invalidField(error.details) : undefined;
}

/** Any caught error in the reader's language: by its code where it has one (see errorText), else by its message. */
export function errorMessage(t: Messages, error: unknown): string {
  return errorText(
    t,
    errorCode(error),
    error instanceof Error ? error.message : String(error),
    error instanceof ApiError ? error.details : undefined,
  );
}

/** An error as the reader sees it (see errorMessage), after the word for error. */
export function describeError(t: Messages, error: unknown): string {
  return fill(t.fieldValue, { field: t.error, value: errorMessage(t, error) });
}

/**
 * Runs the page's actions one way: the error a failed one answers is shown in an alert beside the
 * form (in the language of the moment) instead of failing silently; the next action clears it.
 * `run` never changes, so effects that load through it run once, not again with each language.
 */
export function useAction(): { error: unknown; run(action: () => Promise<unknown>): Promise<boolean> } {
  const [error, setError] = useState<unknown>();
  const run = useCallback(async (action: () => Promise<unknown>) => {
    setError(undefined);
    try {
      await action();
      return true;
    } catch (caught) {
      setError(caught);
      return false;
    }
  }, []);
  return { error, run };
}

/** The error, if any, in an alert; `id` names it for the fields it is about (aria-describedby). */
export function ActionError({ error, id }: { error: unknown; id?: string }) {
  const { t } = useI18n();
  return error ? (
    <p id={id} className="error-text" role="alert">
      {describeError(t, error)}
    </p>
  ) : null;
}
