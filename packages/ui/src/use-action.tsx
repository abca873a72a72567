import { useCallback, useState } from "react";
import { useI18n } from "./i18n.js";

/**
 * Runs the page's actions one way: the error a failed one answers (the API's message) is shown in
 * an alert beside the form instead of failing silently; the next action clears it.
 */
export function useAction(): { error: string; run(action: () => Promise<unknown>): Promise<boolean> } {
  const { t } = useI18n();
  const [error, setError] = useState("");
  const run = useCallback(
    async (action: () => Promise<unknown>) => {
      setError("");
      try {
        await action();
        return true;
      } catch (caught) {
        setError(`${t.error}: ${(caught as Error).message}`);
        return false;
      }
    },
    [t],
  );
  return { error, run };
}

export function ActionError({ error }: { error: string }) {
  return error ? (
    <p className="error-text" role="alert">
      {error}
    </p>
  ) : null;
}
