/** Text the pages show for what the services answer, in the reader's language (pure: unit-tested). */
import type { Messages } from "./i18n.js";

/** One line of a model pull's NDJSON progress (the Ollama shape; `error` when it failed). */
export interface PullStep {
  status?: string;
  completed?: number;
  total?: number;
  error?: string;
  code?: string;
}

/**
 * A pull's progress in the reader's language: the registry's known steps translated (a file name
 * kept as it is), a percentage when the step has a size; a failure by its code where it has one,
 * else as a failed pull with the service's own words beside it.
 */
export function pullStepText(t: Messages, step: PullStep): string {
  if (step.error) {
    const known = step.code ? t.errorCodes[step.code] : undefined;
    return `${t.error}: ${known ?? `${t.errorCodes.MODEL_PULL_FAILED} (${step.error})`}`;
  }
  const status = step.status ?? "";
  const file = /^(downloading|pulling) (.+)$/.exec(status);
  let text = status;
  if (status === "pulling manifest") text = t.pullStatuses.manifest;
  else if (status.startsWith("verifying")) text = t.pullStatuses.verifying;
  else if (status === "writing manifest") text = t.pullStatuses.writing;
  else if (status === "success") text = t.pullStatuses.success;
  else if (file) text = t.pullStatuses[file[1] as "downloading" | "pulling"].replace("{file}", file[2]!);
  const percent = step.total ? ` ${Math.round(((step.completed ?? 0) / step.total) * 100)}%` : "";
  return `${text}${percent}`;
}
