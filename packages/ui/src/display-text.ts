/** Text the pages show for what the services answer, in the reader's language (pure: unit-tested). */
import type { KnowledgeDocument } from "@hearth/contracts";
import type { GroundingWarning } from "./api.js";
import { fill, type Messages } from "./i18n.js";

/**
 * A knowledge base as a chat's picker names it: another user's (shared, or any private one an
 * administrator sees) with its owner's name ("中文资料库 · bob"), one's own by its name alone.
 */
export function knowledgeBaseLabel(
  t: Messages,
  base: { name: string; ownerName?: string | undefined },
): string {
  return base.ownerName
    ? fill(t.knowledgeBaseOfOwner, { name: base.name, owner: base.ownerName })
    : base.name;
}

/** A document's passages button's name: singular for one ("Show the 1 passage of a.md"). */
export function viewPassagesText(t: Messages, n: number, name: string): string {
  return fill(n === 1 ? t.viewPassagesOne : t.viewPassages, { n, name });
}

/**
 * An error's code as text in the reader's language where the code is known, else the service's
 * message; what its details name is added after a translated text (the refused words of
 * CONTENT_BLOCKED, when a used-up quota resets, the service that did not answer), which the
 * service's message alone would say only in English.
 */
export function errorText(
  t: Messages,
  code: string | undefined,
  message: string,
  details?: Record<string, unknown>,
): string {
  const translated = code ? t.errorCodes[code] : undefined;
  if (!translated) return message;
  if (code === "INVALID_REQUEST") {
    // The field's rule where the page knows it (the rule of the issue's kind, else the field's);
    // else each field's limit; else which field and why, as the service says.
    const field = invalidField(details);
    const rule = field && (t.fieldRules[`${field}:${firstIssueCode(details)}`] ?? t.fieldRules[field]);
    if (rule) return rule;
    const issues = Array.isArray(details?.issues) ? requestIssuesText(t, details.issues) : undefined;
    if (issues) return issues;
    return message ? fill(t.withNote, { text: translated, note: message }) : translated;
  }
  if (code === "FOLDER_UNREADABLE" && typeof details?.reason === "string" && t.folderProblems[details.reason])
    return t.folderProblems[details.reason]!;
  if (code === "MODEL_PULL_FAILED" || code === "MODEL_NOT_FOUND") {
    const reason = pullFailureText(t, details);
    if (reason) return reason;
  }
  if (code === "URL_FETCH_FAILED") {
    // Why, in the reader's words where the service names a known reason; else in the service's.
    const reason = typeof details?.reason === "string" ? t.urlFetchFailures[details.reason] : undefined;
    if (reason)
      return fill(reason, { host: String(details?.host ?? ""), status: String(details?.status ?? "") });
    return message ? fill(t.withNote, { text: translated, note: message }) : translated;
  }
  const documentFormat = documentFormatText(t, code, details);
  if (documentFormat) return documentFormat;
  const service = details?.service;
  if (code === "UPSTREAM_UNAVAILABLE" && typeof service === "string" && t.unreachableServices[service])
    return t.unreachableServices[service];
  if (code === "QUOTA_EXCEEDED" && details?.reason === "prompt-too-long") return t.errorDetails.promptTooLong;
  const resetAt = typeof details?.resetAt === "string" ? new Date(details.resetAt) : undefined;
  if (code === "QUOTA_EXCEEDED" && resetAt && !Number.isNaN(resetAt.getTime()))
    return quotaResetText(t, resetAt, new Date());
  const { chars, maxChars } = details ?? {};
  if (code === "MESSAGE_TOO_LONG" && typeof chars === "number" && typeof maxChars === "number")
    return fill(t.errorDetails.tooLong, {
      n: numberText(t, chars),
      max: numberText(t, maxChars),
      over: numberText(t, chars - maxChars),
    });
  const maxBytes = details?.maxBytes;
  if (code === "DOCUMENT_TOO_LARGE" && typeof maxBytes === "number")
    return fill(t.errorDetails.fileTooLarge, { max: fileSizeText(t, maxBytes) });
  // A refused name says which it was (details.field: title, name, description, username).
  const field = details?.field;
  const refused =
    code === "CONTENT_BLOCKED" && typeof field === "string"
      ? (t.blockedFields[field] ?? translated)
      : translated;
  const words = details?.words;
  if (Array.isArray(words) && words.length > 0)
    return fill(t.errorDetails.words, { text: refused, words: words.join(t.errorDetails.separator) });
  return refused;
}

/**
 * A refused file by its details (knowledge service): what it really is where its bytes show it
 * (`detected`), whether Apache Tika could read it (`reason`: no built-in parser and no Tika) or
 * already refused it, or that a PDF holds no text because it has no pages, not for want of OCR.
 * Undefined where the details say none of these (an older failure).
 */
function documentFormatText(
  t: Messages,
  code: string | undefined,
  details: Record<string, unknown> | undefined,
): string | undefined {
  const detected = typeof details?.detected === "string" ? t.fileKinds[details.detected] : undefined;
  const words = t.documentFormats;
  if (code === "DOCUMENT_TYPE_MISMATCH" && detected) return fill(words.mismatch, { kind: detected });
  if (code === "DOCUMENT_NO_TEXT" && details?.reason === "no-pages") return words.noPages;
  if (code !== "DOCUMENT_UNSUPPORTED_FORMAT") return undefined;
  if (detected) return fill(words.notADocument, { kind: detected });
  if (details?.reason === "no-parser") return words.noParser;
  if (details?.reason === "tika-refused") return words.tikaRefused;
  return undefined;
}

/** The field an INVALID_REQUEST is about: the path of its first issue (`details.issues`), if it names one. */
export function invalidField(details: Record<string, unknown> | undefined): string | undefined {
  const issues = details?.issues;
  const first = Array.isArray(issues) ? (issues[0] as { path?: unknown } | undefined) : undefined;
  return typeof first?.path === "string" && first.path ? first.path : undefined;
}

/** The kind of an INVALID_REQUEST's first issue (`details.issues[0].code`: `too_big`, `mixed_scripts`...), if it says. */
function firstIssueCode(details: Record<string, unknown> | undefined): string | undefined {
  const issues = details?.issues;
  const first = Array.isArray(issues) ? (issues[0] as { code?: unknown } | undefined) : undefined;
  return typeof first?.code === "string" ? first.code : undefined;
}

/** One refused field of an INVALID_REQUEST as the services list it (`details.issues`, core's toHearthError). */
export interface RequestIssue {
  path?: unknown;
  code?: unknown;
  origin?: unknown;
  minimum?: unknown;
  maximum?: unknown;
  inclusive?: unknown;
}

/**
 * A refused request's issues in the reader's words, a sentence each: the field (named as the audit
 * log names it, a nested one by each part, an unknown one by its path) and its limit ("at most 200
 * characters", "cannot be empty"). Undefined when an issue is not a size this page can say (then
 * the service's own message is all there is).
 */
export function requestIssuesText(t: Messages, issues: readonly RequestIssue[]): string | undefined {
  const sentences = issues.map((issue) => {
    const rule = issueRule(t, issue);
    if (!rule || typeof issue.path !== "string" || !issue.path) return undefined;
    const field = issue.path
      .split(".")
      .map((part) => t.auditDetailKeys[part] ?? part)
      .join(" › ");
    return fill(t.requestIssues.sentence, { field, rule });
  });
  if (sentences.length === 0 || sentences.some((sentence) => sentence === undefined)) return undefined;
  return sentences.join(t.requestIssues.separator);
}

/**
 * A field's rule in words: a too-small or too-big one's limit, by what was measured (characters,
 * items, a number); a text holding a NUL character or a lone surrogate.
 */
function issueRule(t: Messages, issue: RequestIssue): string | undefined {
  const words = t.requestIssues;
  if (issue.code === "nul_character") return words.nulCharacter;
  if (issue.code === "lone_surrogate") return words.loneSurrogate;
  const small = issue.code === "too_small";
  const limit = small ? issue.minimum : issue.code === "too_big" ? issue.maximum : undefined;
  if (typeof limit !== "number") return undefined;
  const n = numberText(t, limit);
  switch (issue.origin) {
    case "string":
      return small ? (limit === 1 ? words.empty : fill(words.minChars, { n })) : fill(words.maxChars, { n });
    case "array":
      return small
        ? limit === 1
          ? words.noItems
          : fill(words.minItems, { n })
        : fill(words.maxItems, { n });
    case "number":
    case "int":
      if (issue.inclusive === false) return fill(small ? words.above : words.below, { n });
      return fill(small ? words.min : words.max, { n });
    default:
      return undefined;
  }
}

/**
 * Why an answer failed: its code and message, and the details its stream's error part gave (a
 * used-up quota's reset, a prompt too long for the token limit), which the stored answer does not
 * keep. A service that did not answer is the model service, unless the details name another: the
 * one an answer needs (search and knowledge failing cost a warning, not the answer).
 */
export function answerFailureText(
  t: Messages,
  code: string | undefined,
  message: string,
  details?: Record<string, unknown>,
): string {
  return errorText(t, code, message, { service: "model", ...details });
}

/**
 * A document's stage in the reader's language, with why it stopped (`note`) and whether that was a
 * failure (`failed`, shown in the error colour). Its chunks being written are Indexing, whatever its
 * status (a base without an embedding model writes them while the document is still "parsing"). A
 * document whose import someone cancelled is listed failed with JOB_CANCELLED: it reads Cancelled,
 * not as an error, with the note saying to upload it again.
 */
export function documentStatusText(
  t: Messages,
  document: Pick<KnowledgeDocument, "status" | "error" | "progress">,
): { stage: string; note: string | undefined; failed: boolean } {
  const cancelled = document.status === "failed" && document.error?.code === "JOB_CANCELLED";
  const indexing =
    document.progress?.phase === "indexing" && ["parsing", "embedding"].includes(document.status);
  const stage = t.documentStatuses[cancelled ? "cancelled" : indexing ? "indexing" : document.status];
  const { error } = document;
  return {
    stage,
    note: error ? errorText(t, error.code, error.message, error.details) : undefined,
    failed: document.status === "failed" && !cancelled,
  };
}

/** Failures only an administrator can fix (the server's memory, its runtime), whose messages say how. */
const ADMIN_FIXES = new Set(["MODEL_MEMORY_INSUFFICIENT", "MODEL_LOAD_FAILED", "LLAMA_BINARY_UNAVAILABLE"]);

/**
 * What is shown under an answer's failure (answerFailureText) when only an administrator can fix
 * it: to an administrator, the server's own message (a model too large for memory: how much it
 * needs, how much is free and what to change), which the translated sentence leaves out; to anyone
 * else, to ask an administrator. Undefined for any other failure.
 */
export function answerFailureNote(
  t: Messages,
  code: string | undefined,
  message: string,
  admin: boolean,
): string | undefined {
  if (!code || !ADMIN_FIXES.has(code) || !t.errorCodes[code]) return undefined;
  if (!admin) return t.askAdministratorToFix;
  return message && message !== t.errorCodes[code] ? message : undefined;
}

/** A size in memory as `ollama ps` says it: GiB from one GiB on, else MiB (binary units, as the model service's messages). */
export function memorySizeText(bytes: number): string {
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(1)} GiB` : `${Math.round(bytes / 2 ** 20)} MiB`;
}

/**
 * A file's size, or the largest one taken, in the largest binary unit it reaches (KiB, MiB, GiB), to
 * a tenth at most, as the services' limits are set (knowledge.maxUploadBytes: 100 MiB).
 */
export function fileSizeText(t: Messages, bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB"];
  const power = Math.min(units.length - 1, Math.floor(Math.log2(Math.max(1, bytes)) / 10));
  const amount = new Intl.NumberFormat(t.dateLocale, { maximumFractionDigits: 1 }).format(
    bytes / 1024 ** power,
  );
  return `${amount} ${units[power]}`;
}

/** A reset this close is said to the second: a time to the minute would be the same minute, or the next. */
const QUOTA_RESET_TO_SECOND_MS = 120_000;

/**
 * A used-up quota with when it resets, in the reader's time: at a time today, tomorrow at a time,
 * or on a date further off. The time is to the second when the reset is under two minutes away
 * (a clock time, which stays true while the page shows it, where a countdown would go stale), else
 * to the minute; rounded up either way, never one already past when the quota has not reset yet (a
 * per-minute limit lifting at 11:10:40 is not said at 11:10), and at least the next second.
 */
export function quotaResetText(t: Messages, resetAt: Date, now: Date): string {
  const toSecond = resetAt.getTime() - now.getTime() < QUOTA_RESET_TO_SECOND_MS;
  const unit = toSecond ? 1000 : 60_000;
  const moment = new Date(
    Math.max(Math.ceil(resetAt.getTime() / unit), Math.floor(now.getTime() / unit) + 1) * unit,
  );
  const time = moment.toLocaleTimeString(t.dateLocale, { timeStyle: toSecond ? "medium" : "short" });
  const tomorrow = new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1);
  if (moment.toDateString() === now.toDateString()) return fill(t.quotaResets.today, { time });
  if (moment.toDateString() === tomorrow.toDateString()) return fill(t.quotaResets.tomorrow, { time });
  return fill(t.quotaResets.later, { date: dateTimeText(t, moment) });
}

/** A moment as the reader's language writes a date with its time to the minute ("Nov 28, 2026, 6:15 AM"). */
export function dateTimeText(t: Messages, moment: Date | string): string {
  return new Date(moment).toLocaleString(t.dateLocale, { dateStyle: "medium", timeStyle: "short" });
}

/**
 * Whether switching a model from version `from` to `to` goes back (an older version) or forward (a
 * newer one): by their numbers (1.10.0 after 1.9.0), as the model registry numbers them.
 */
export function versionDirection(from: string, to: string): "back" | "forward" {
  const parts = (version: string) => version.split(".").map((part) => Number.parseInt(part, 10) || 0);
  const [a, b] = [parts(from), parts(to)];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const difference = (b[i] ?? 0) - (a[i] ?? 0);
    if (difference !== 0) return difference > 0 ? "forward" : "back";
  }
  return "back";
}

/** A model switch's button and question, by its direction: a rollback, or a roll forward to a newer version. */
export function versionSwitchText(
  t: Messages,
  switching: { model: string; from: string; to: string },
): { action: string; question: string } {
  const forward = versionDirection(switching.from, switching.to) === "forward";
  return {
    action: forward ? t.rollForwardAction : t.rollbackAction,
    question: fill(forward ? t.rollForwardConfirm : t.rollbackConfirm, switching),
  };
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
  const linked = /^linked to (.+)$/.exec(changelog);
  if (linked) return fill(t.changelogs.linked, { path: linked[1]! });
  const copied = /^copied from (.+) (\S+)$/.exec(changelog);
  if (copied) return fill(t.changelogs.copied, { source: copied[1]!, version: copied[2]! });
  return changelog;
}

/** One line of a model pull's NDJSON progress (the Ollama shape; `error`, `code` and `details` when it failed). */
export interface PullStep {
  status?: string;
  completed?: number;
  total?: number;
  error?: string;
  code?: string;
  details?: Record<string, unknown>;
  /** On `success`: the model installed, its version, and whether it served those weights already. */
  name?: string;
  version?: string;
  digest?: string;
  unchanged?: boolean;
}

/** A pull's failure by the reason the model service names (details.reason), in the reader's words. */
function pullFailureText(t: Messages, details: Record<string, unknown> | undefined): string | undefined {
  const reason = typeof details?.reason === "string" ? t.pullFailures[details.reason] : undefined;
  return reason && fill(reason, stringValues(details));
}

/** An error's details as the words filled into its text: each string or number, as a string. */
function stringValues(details: Record<string, unknown> | undefined): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [key, value] of Object.entries(details ?? {}))
    if (typeof value === "string" || typeof value === "number") values[key] = String(value);
  return values;
}

/**
 * A download the server answered with an HTTP error (MODEL_PULL_FAILED with `details.status` and
 * `details.url`): the URL, the status, and what it means where that says more than its number.
 */
function pullAnsweredText(t: Messages, details: Record<string, unknown> | undefined): string | undefined {
  const { status, url, credentials } = details ?? {};
  if (typeof status !== "number" || typeof url !== "string") return undefined;
  const words = t.pullAnswered;
  const meaning =
    credentials === "refused"
      ? words.credentialsRefused
      : credentials === "required"
        ? words.credentialsRequired
        : status === 404
          ? words.notFound
          : status === 429
            ? words.tooManyRequests
            : status >= 500
              ? words.serverError
              : undefined;
  return fill(words.text, {
    url,
    status,
    meaning: meaning ? fill(words.meaning, { meaning }) : "",
  });
}

/**
 * A pull's progress in the reader's language: the registry's known steps translated (a file name
 * kept as it is), a percentage when the step has a size; a failure by its code where the code says
 * the cause (an invalid name, a corrupt download), by the HTTP status a download got where the
 * server answered one, else as a failed pull with the service's own words beside it
 * (MODEL_PULL_FAILED covers many causes, which only its message tells apart).
 */
export function pullStepText(t: Messages, step: PullStep): string {
  if (step.error) {
    const failed = fill(t.withNote, { text: t.errorCodes.MODEL_PULL_FAILED!, note: step.error });
    // A known reason (details.reason) in the reader's words; a catch-all without one keeps the
    // service's words beside it, which alone tell its causes apart.
    const reason =
      step.code === "MODEL_PULL_FAILED"
        ? (pullAnsweredText(t, step.details) ?? pullFailureText(t, step.details) ?? failed)
        : errorText(t, step.code, failed, step.details);
    return fill(t.fieldValue, { field: t.error, value: reason });
  }
  const status = step.status ?? "";
  const file = /^(downloading|pulling) (.+)$/.exec(status);
  const waiting = /^waiting for another pull of the same file \(process (\d+)(?: on (.+))?\)$/.exec(status);
  let text = status;
  if (status === "pulling manifest") text = t.pullStatuses.manifest;
  else if (status.startsWith("verifying")) text = t.pullStatuses.verifying;
  else if (status === "writing manifest") text = t.pullStatuses.writing;
  else if (status === "success")
    text = step.name
      ? fill(step.unchanged ? t.pullStatuses.upToDate : t.pullStatuses.installed, {
          model: step.name,
          version: step.version ?? "",
        })
      : t.pullStatuses.success;
  else if (file) text = fill(t.pullStatuses.downloading, { file: file[2]! });
  else if (waiting)
    text = fill(t.pullStatuses.waiting, {
      process: fill(waiting[2] ? t.pullStatuses.processOnHost : t.pullStatuses.process, {
        pid: waiting[1]!,
        host: waiting[2] ?? "",
      }),
    });
  const percent = step.total ? ` ${Math.round(((step.completed ?? 0) / step.total) * 100)}%` : "";
  return `${text}${percent}`;
}

/** A search engine's test outcome as the web service reports it (POST /api/admin/search/test). */
export interface ProviderOutcomeRow {
  status: string;
  /** How many results it answered with (an engine that answered). */
  results?: number | null;
  error?: string | null;
  /** What went wrong behind an engine that answered (a SearXNG's own engines that did not), in the search service's words. */
  warning?: string | null;
}

/**
 * Statuses whose service message says no more than the note does (a breaker's skip names no URL,
 * no HTTP status, no wait): it is not shown under the note.
 */
const SELF_EXPLAINED_STATUSES = new Set(["skipped-by-breaker"]);

/**
 * A search engine's test outcome in the reader's words: its status, why it found nothing, and the
 * search service's own message (in English) where it says more: the URL it could not reach, the
 * HTTP status it got, the wait it was asked for. A status this page does not know is shown as sent.
 * An engine that answered with no results gets a warning: a wrong path to a custom engine's results
 * answers just so, and is the mistake the test is there to catch.
 */
export function providerOutcomeText(
  t: Messages,
  row: ProviderOutcomeRow,
): { status: string; note?: string; detail?: string; warning?: string } {
  const note = t.providerStatusNotes[row.status];
  const shown = row.error && !SELF_EXPLAINED_STATUSES.has(row.status);
  return {
    status: t.providerStatuses[row.status] ?? row.status,
    ...(note ? { note } : {}),
    ...(shown ? { detail: fill(t.serverDetail, { detail: row.error! }) } : {}),
    ...(row.warning
      ? { warning: t.providerEngineWarning, detail: fill(t.serverDetail, { detail: row.warning }) }
      : row.status === "ok" && row.results === 0
        ? { warning: t.providerNoResults }
        : {}),
  };
}

/**
 * A knowledge base's badge in the list: "Unowned" for one to adopt; its visibility to its manager;
 * to anyone else a shared or public base says what they may do with it ("Shared · read only",
 * "Shared · can edit"), so a read-only member is not left to find out from a refusal.
 */
export function knowledgeBaseBadgeText(
  t: Messages,
  base: { unowned?: boolean; visibility?: string; permission: "read" | "write" | "manage" },
): string {
  if (base.unowned) return t.unowned;
  const visibility =
    base.visibility === "private" || base.visibility === "shared" || base.visibility === "public"
      ? t[base.visibility]
      : undefined;
  if (!visibility) return t.permissions[base.permission];
  if (base.permission === "manage" || base.visibility === "private") return visibility;
  return fill(t.visibilityWithAccess, {
    visibility,
    access: base.permission === "write" ? t.accessCanEdit : t.accessReadOnly,
  });
}

/** A search engine's standing state (GET /api/admin/search/providers, `state`), as the search service keeps it. */
export interface ProviderStanding {
  breaker: "closed" | "open" | "half-open";
  consecutiveFailures: number;
  breakerRetryAt: string | null;
  coolDownUntil: string | null;
  lastCall: { status: string; at: string; error?: string } | null;
}

/**
 * An engine's standing state in the reader's language, for the Status column before (or without) a
 * test: a running cool-down (its 429's Retry-After) and an open circuit breaker come first, with the
 * clock time they end; else its last call's status; "not asked yet" when none went out since the
 * search service started. `detail` is the last call's error, in the service's words, with its time.
 */
export function providerStandingText(
  t: Messages,
  state: ProviderStanding,
  now: Date,
): { status: string; detail?: string } {
  const time = (moment: string) =>
    new Date(moment).toLocaleTimeString(t.dateLocale, { hour: "2-digit", minute: "2-digit" });
  const last = state.lastCall;
  const detail =
    last?.error && last.status !== "ok"
      ? { detail: fill(t.providerLastError, { time: time(last.at), detail: last.error }) }
      : {};
  if (state.coolDownUntil && Date.parse(state.coolDownUntil) > now.getTime())
    return { status: fill(t.providerStanding.coolingDown, { time: time(state.coolDownUntil) }), ...detail };
  if (state.breaker === "open") {
    const count = { count: numberText(t, state.consecutiveFailures) };
    const retry = state.breakerRetryAt && Date.parse(state.breakerRetryAt) > now.getTime();
    return {
      status: retry
        ? fill(t.providerStanding.breakerOpenUntil, { ...count, time: time(state.breakerRetryAt!) })
        : fill(t.providerStanding.breakerOpen, count),
      ...detail,
    };
  }
  if (state.breaker === "half-open") return { status: t.providerStanding.breakerProbing, ...detail };
  if (!last) return { status: t.providerStanding.notAsked };
  const status = t.providerStatuses[last.status] ?? last.status;
  if (last.status !== "ok" && state.consecutiveFailures > 1)
    return {
      status: fill(t.providerStanding.failingInARow, {
        status,
        count: numberText(t, state.consecutiveFailures),
      }),
      ...detail,
    };
  return { status, ...detail };
}

/** One of the config file's word lists (web.filter.lists), as the settings answer shows it: never its words. */
export interface WordListFile {
  id: string;
  file: string;
  action: "block" | "drop" | "mask" | "flag" | "allow";
  words: number;
  /** A message holding one of its words is refused. */
  input: boolean;
  /** Its words are masked in answers. */
  output: boolean;
}

/**
 * A config file's word list in the reader's language: its action in words, then what it does in
 * chat, as its input and output flags say. The action's keyword, as the config file spells it,
 * goes between `before` and `after` (the page shows it as code), so an operator finds the list there.
 */
export function wordListText(t: Messages, list: WordListFile): { before: string; after: string } {
  const effect = list.input
    ? t.wordListEffects.refusesAndMasks
    : list.output
      ? t.wordListEffects.masks
      : list.action === "allow"
        ? t.wordListEffects.allows
        : t.wordListEffects.counts;
  const values = {
    id: list.id,
    file: list.file,
    action: t.wordListActions[list.action],
    n: numberText(t, list.words),
    effect,
  };
  const [before = "", after = ""] = t.wordListFile.split("{keyword}");
  return { before: fill(before, values), after: fill(after, values) };
}

/** A count as the reader's language writes it (thousands grouped: 2,363). */
export function numberText(t: Messages, value: number): string {
  return new Intl.NumberFormat(t.dateLocale).format(value);
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
 * `text` cut to its first `count` code points with "…" after them, or whole when it fits: a
 * character outside the Basic Multilingual Plane (𠮷, an emoji) is never cut in half ("�").
 */
export function shortened(text: string, count: number): string {
  const kept = Array.from(text).slice(0, count).join("");
  return kept.length < text.length ? `${kept.trimEnd()}…` : text;
}

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
      snippet: shortened(text, SNIPPET_CHARS),
    };
  });
}

/**
 * The values some audit detail fields hold, in the reader's words: a role, an account status, a
 * sign-up mode, who may open share links, the names of the settings changed, a base's visibility
 * and a share's permission, where an owner was recorded from.
 */
function auditValueWords(t: Messages): Record<string, Record<string, string>> {
  return {
    role: t.roles,
    status: t.accountStatuses,
    signup: t.signupModes,
    shareLinks: t.shareLinkModes,
    keys: t.auditDetailKeys,
    visibility: { private: t.private, shared: t.shared, public: t.public },
    permission: t.permissions,
    via: t.auditVia,
    format: t.importFormats,
    type: t.bannerTypes,
  };
}

/** The detail fields that hold a set of limits (`{}`: no limit). */
const LIMIT_FIELDS = new Set(["userLimits", "groupLimits"]);

/** A set of limits as a person reads it: "5 requests/min, 500 tokens/day", or no limit. */
export function limitsText(t: Messages, limits: Record<string, unknown> | undefined): string {
  const set = Object.entries(limits ?? {}).filter(
    (entry): entry is [keyof Messages["limitAmounts"], number] =>
      entry[0] in t.limitAmounts && typeof entry[1] === "number",
  );
  if (set.length === 0) return t.noLimit;
  return set.map(([key, n]) => fill(t.limitAmounts[key], { n })).join(t.errorDetails.separator);
}

/** Fields that list accounts or groups by id, and the fields that name them (null: since deleted). */
const NAMED_IDS = [
  ["userIds", "users"],
  ["groupIds", "groups"],
] as const;

/** Names in place of ids where the entry has them; an id stays where its name is not known. */
function namesForIds(details: Record<string, unknown>): Record<string, unknown> {
  const out = { ...details };
  for (const [idsField, namesField] of NAMED_IDS) {
    const ids = out[idsField];
    const names = out[namesField];
    if (!Array.isArray(ids) || !Array.isArray(names)) continue;
    out[namesField] = names.map((name, index) => name ?? ids[index]);
    delete out[idsField];
  }
  return out;
}

/** The fields of a listed object that only identify it (shown when nothing names it). */
const ITEM_NAMES = ["name", "model", "group", "id", "groupId"];

/**
 * An audit entry's details as lines a person reads, `field: value`, fields named in the reader's
 * language where known: nested fields after their parent (`Changes › Sign-up: Open → Closed`), a
 * change as `from → to`, a list joined, a role, status or sign-up mode in the reader's words, limits
 * as amounts (`5 requests/min`), group limits a line per group, accounts and groups by name where
 * the entry has their names. A listed object (a group delete's models) is its name with what else
 * it says in brackets. An entry that is one change (`user.role-change`: `{from, to}`, with notes such
 * as `via`) is named by its action's field.
 */
export function auditDetailsLines(t: Messages, action: string, details: Record<string, unknown>): string[] {
  const values = auditValueWords(t);
  const item = (raw: Record<string, unknown>): string => {
    const nameField = ITEM_NAMES.find((field) => typeof raw[field] === "string" && raw[field]);
    const notes = Object.entries(raw)
      .filter(([field, note]) => !ITEM_NAMES.includes(field) && note !== false && note != null)
      .map(([field, note]) => (note === true ? (t.auditDetailKeys[field] ?? field) : value(field, note)));
    const text = nameField ? String(raw[nameField]) : "—";
    return notes.length ? fill(t.withNote, { text, note: notes.join(t.errorDetails.separator) }) : text;
  };
  const value = (field: string | undefined, raw: unknown): string => {
    if (typeof raw === "boolean") return t.auditBooleans[String(raw)]!;
    if (typeof raw === "string") return (field && values[field]?.[raw]) || raw;
    if (Array.isArray(raw))
      return raw
        .map((entry) =>
          entry && typeof entry === "object" ? item(entry as Record<string, unknown>) : value(field, entry),
        )
        .join(t.errorDetails.separator);
    if (raw === null || raw === undefined) return "—";
    if (typeof raw === "object")
      return field && LIMIT_FIELDS.has(field)
        ? limitsText(t, raw as Record<string, unknown>)
        : JSON.stringify(raw);
    return String(raw);
  };
  const lines: string[] = [];
  const walk = (object: Record<string, unknown>, path: string[]) => {
    for (const [field, raw] of Object.entries(object)) {
      const label = [...path, t.auditDetailKeys[field] ?? field];
      const line = (text: string, at = label) => fill(t.fieldValue, { field: at.join(" › "), value: text });
      if (field === "groupLimits" && isChange(raw)) {
        // Keyed by group: a line for each group whose limits changed.
        const from = (raw.from ?? {}) as Record<string, Record<string, unknown>>;
        const to = (raw.to ?? {}) as Record<string, Record<string, unknown>>;
        for (const group of new Set([...Object.keys(from), ...Object.keys(to)])) {
          const was = limitsText(t, from[group]);
          const now = limitsText(t, to[group]);
          if (was !== now) lines.push(line(`${was} → ${now}`, [...label, group]));
        }
      } else if (isChange(raw)) lines.push(line(`${value(field, raw.from)} → ${value(field, raw.to)}`));
      else if (raw && typeof raw === "object" && !Array.isArray(raw) && !LIMIT_FIELDS.has(field))
        walk(raw as Record<string, unknown>, label);
      else lines.push(line(value(field, raw)));
    }
  };
  const named = namesForIds(details);
  const changed = /^[\w-]+\.([\w]+)-change$/.exec(action)?.[1];
  if (changed && "from" in named && "to" in named) {
    // The change, then what else the entry says of it (a role set by single sign-on: via, issuer).
    const { from, to, ...rest } = named;
    walk({ [changed]: { from, to }, ...rest }, []);
  } else walk(named, []);
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

/** A grounding warning's tooltip: the error code behind it, for whoever reports it; none without one. */
export function groundingWarningTitle(t: Messages, warning: GroundingWarning): string | undefined {
  const code =
    warning.errorCode ?? (warning.code === "search-not-configured" ? "SEARCH_NO_PROVIDERS" : undefined);
  return code ? fill(t.errorCodeTitle, { code }) : undefined;
}

/**
 * A grounding warning as the chat shows it under an answer: why web search failed (rate-limited,
 * for how long; timed out; not reachable; else the search service's code), how many sources of
 * each kind the context had no room for; otherwise the code's own text (an unknown code as itself).
 */
export function groundingWarningText(t: Messages, warning: GroundingWarning): string {
  const { code } = warning;
  if (code === "search-unavailable" && warning.reason) {
    const failures = t.searchFailures;
    if (warning.reason === "rate-limited")
      return warning.retryAfterSeconds !== undefined
        ? fill(failures["rate-limited"]!, { seconds: warning.retryAfterSeconds })
        : failures["rate-limited-later"]!;
    // A sentence a reader can act on; the service's code goes in the tooltip (groundingWarningTitle).
    return failures[warning.reason] ?? failures.failed!;
  }
  if (code === "sources-trimmed" && warning.leftOut) {
    const words = t.sourcesTrimmed;
    const { knowledge, web } = warning.leftOut;
    const parts = [
      ...(knowledge > 0
        ? [knowledge === 1 ? words.knowledgeOne : fill(words.knowledge, { count: knowledge })]
        : []),
      ...(web > 0 ? [web === 1 ? words.webOne : fill(words.web, { count: web })] : []),
    ];
    if (parts.length > 0) return fill(words.text, { list: parts.join(words.separator) });
  }
  return t.groundingWarnings[code] ?? code;
}
