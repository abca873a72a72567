/** Text the pages show for what the services answer, in the reader's language (pure: unit-tested). */
import { fill, type Messages } from "./i18n.js";

/**
 * An error's code as text in the reader's language where the code is known, else the service's
 * message; what its details name is added after a translated text (the refused words of
 * CONTENT_BLOCKED), which the service's message alone would say only in English.
 */
export function errorText(
  t: Messages,
  code: string | undefined,
  message: string,
  details?: Record<string, unknown>,
): string {
  const translated = code ? t.errorCodes[code] : undefined;
  if (!translated) return message;
  const words = details?.words;
  if (Array.isArray(words) && words.length > 0)
    return fill(t.errorDetails.words, { text: translated, words: words.join(t.errorDetails.separator) });
  return translated;
}

/**
 * A model version's changelog in the reader's language: the model registry writes a few fixed
 * sentences (packages/model, model-registry.ts); anything else is shown as written.
 */
export function changelogText(t: Messages, changelog: string): string {
  if (changelog === "found in the models dir") return t.changelogs.found;
  const pulled = /^pulled from (.+)$/.exec(changelog);
  if (pulled) return fill(t.changelogs.pulled, { source: pulled[1]! });
  const imported = /^imported from the local Ollama \((.+)\)$/.exec(changelog);
  if (imported) return fill(t.changelogs.imported, { dir: imported[1]! });
  const copied = /^copied from (.+) (\S+)$/.exec(changelog);
  if (copied) return fill(t.changelogs.copied, { source: copied[1]!, version: copied[2]! });
  return changelog;
}

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
 * kept as it is), a percentage when the step has a size; a failure by its code where the code says
 * the cause (an invalid name, a corrupt download), else as a failed pull with the service's own
 * words beside it (MODEL_PULL_FAILED covers many causes, which only its message tells apart).
 */
export function pullStepText(t: Messages, step: PullStep): string {
  if (step.error) {
    const failed = fill(t.withNote, { text: t.errorCodes.MODEL_PULL_FAILED!, note: step.error });
    const reason = step.code === "MODEL_PULL_FAILED" ? failed : errorText(t, step.code, failed);
    return fill(t.fieldValue, { field: t.error, value: reason });
  }
  const status = step.status ?? "";
  const file = /^(downloading|pulling) (.+)$/.exec(status);
  let text = status;
  if (status === "pulling manifest") text = t.pullStatuses.manifest;
  else if (status.startsWith("verifying")) text = t.pullStatuses.verifying;
  else if (status === "writing manifest") text = t.pullStatuses.writing;
  else if (status === "success") text = t.pullStatuses.success;
  else if (file) text = fill(t.pullStatuses.downloading, { file: file[2]! });
  const percent = step.total ? ` ${Math.round(((step.completed ?? 0) / step.total) * 100)}%` : "";
  return `${text}${percent}`;
}

/** What a source needs to be told apart from the others (the UI's Citation, less what is not read here). */
export interface CitationSource {
  title: string;
  url: string;
  snippet?: string;
}

/** The page a document citation points at (its link ends `#page=N`), if any. */
export function citationPage(url: string): number | undefined {
  const page = /#page=(\d+)$/.exec(url)?.[1];
  return page ? Number(page) : undefined;
}

const SNIPPET_CHARS = 120;

/**
 * Each source's label: its title, with the page where it has one; and, where two sources would
 * still read the same, the start of each one's passage to tell them apart.
 */
export function citationLabels(
  t: Messages,
  citations: CitationSource[],
): Array<{ label: string; snippet?: string }> {
  const labels = citations.map((citation) => {
    const page = citationPage(citation.url);
    return page === undefined ? citation.title : fill(t.citationPage, { title: citation.title, page });
  });
  return citations.map((citation, index) => {
    const label = labels[index]!;
    const repeated = labels.filter((other) => other === label).length > 1;
    const text = citation.snippet?.replace(/\s+/g, " ").trim();
    if (!repeated || !text) return { label };
    return {
      label,
      snippet: text.length > SNIPPET_CHARS ? `${text.slice(0, SNIPPET_CHARS).trimEnd()}…` : text,
    };
  });
}

/**
 * The values some audit detail fields hold, in the reader's words: a role, an account status, a
 * sign-up mode, the names of the settings changed.
 */
function auditValueWords(t: Messages): Record<string, Record<string, string>> {
  return { role: t.roles, status: t.accountStatuses, signup: t.signupModes, keys: t.auditDetailKeys };
}

/**
 * An audit entry's details as lines a person reads, `field: value`, fields named in the reader's
 * language where known: nested fields after their parent (`Changes › Sign-up: Open → Closed`), a
 * change as `from → to`, a list joined, a role, status or sign-up mode in the reader's words. A
 * whole entry that is one change (`user.role-change`: `{from, to}`) is named by its action's field.
 */
export function auditDetailsLines(t: Messages, action: string, details: Record<string, unknown>): string[] {
  const values = auditValueWords(t);
  const value = (field: string | undefined, raw: unknown): string => {
    if (typeof raw === "boolean") return t.auditBooleans[String(raw)]!;
    if (typeof raw === "string") return (field && values[field]?.[raw]) || raw;
    if (Array.isArray(raw)) return raw.map((item) => value(field, item)).join(t.errorDetails.separator);
    if (raw === null || raw === undefined) return "—";
    if (typeof raw === "object") return JSON.stringify(raw);
    return String(raw);
  };
  const lines: string[] = [];
  const walk = (object: Record<string, unknown>, path: string[]) => {
    for (const [field, raw] of Object.entries(object)) {
      const label = [...path, t.auditDetailKeys[field] ?? field];
      const line = (text: string) => fill(t.fieldValue, { field: label.join(" › "), value: text });
      if (isChange(raw)) lines.push(line(`${value(field, raw.from)} → ${value(field, raw.to)}`));
      else if (raw && typeof raw === "object" && !Array.isArray(raw))
        walk(raw as Record<string, unknown>, label);
      else lines.push(line(value(field, raw)));
    }
  };
  const changed = /^[\w-]+\.([\w]+)-change$/.exec(action)?.[1];
  if (changed && isChange(details)) walk({ [changed]: details }, []);
  else walk(details, []);
  return lines;
}

function isChange(raw: unknown): raw is { from: unknown; to: unknown } {
  return (
    typeof raw === "object" &&
    raw !== null &&
    !Array.isArray(raw) &&
    Object.keys(raw).length === 2 &&
    "from" in raw &&
    "to" in raw
  );
}

/** A service's readiness on the Status tab, its reason in the reader's words where known. */
export function serviceReadinessText(t: Messages, ready: boolean, reason: string | undefined): string {
  if (ready) return t.serviceReady;
  return reason
    ? fill(t.serviceNotReadyBecause, { reason: t.serviceReasons[reason] ?? reason })
    : t.serviceNotReady;
}
