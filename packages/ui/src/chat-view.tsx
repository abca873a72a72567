import type { AnswerFeedback as Feedback } from "@hearth/contracts/answer-feedback";
import {
  CHAT_CONTROL_NAMES,
  type ChatControls,
  DEFAULT_CHAT_CONTROLS,
} from "@hearth/contracts/chat-controls";
import { isContinuable } from "@hearth/contracts/continue-answer";
import { isTooLong, textLength } from "@hearth/contracts/text-length";
import {
  type ClipboardEvent,
  type DragEvent,
  type KeyboardEvent,
  memo,
  type ReactNode,
  useCallback,
  useEffect,
  useRef,
  useState,
} from "react";
import { AnswerFeedback, type FeedbackChange } from "./answer-feedback.js";
import {
  ApiError,
  type Assistant,
  api,
  type Citation,
  type GroundingWarning,
  type ModelsAnswer,
  type Preferences,
  type Prompt,
  type StreamPart,
  streamParts,
} from "./api.js";
import { ChatControlsBar } from "./chat-controls-bar.js";
import { ChatFiles, useChatFiles } from "./chat-files.js";
import {
  answerFailureNote,
  answerFailureText,
  citationLabels,
  groundingWarningText,
  groundingWarningTitle,
  knowledgeBaseLabel,
} from "./display-text.js";
import {
  cancelOnEscape,
  focusLost,
  focusWhenShown,
  PAGE_HEADING,
  useEditFocus,
  usePageTitle,
} from "./focus.js";
import { useFoldedEditor } from "./folded-editor.js";
import { fill, useI18n } from "./i18n.js";
import { LineIcon } from "./line-icon.js";
import { liveTurns } from "./live-turns.js";
import { CopyMessage, copyText, Markdown } from "./markdown.js";
import { findMentions, hashQuery, matchingKnowledgeBases, mentionOf } from "./mentions.js";
import { lengthShown, MESSAGE_LENGTH_ID, MessageLength } from "./message-length.js";
import { ModelGuidance, noModelReason } from "./model-guidance.js";
import { type NewChatLink, readNewChatLink } from "./new-chat-link.js";
import {
  fillVariables,
  matchingPrompts,
  nextPlaceholder,
  previousPlaceholder,
  slashQuery,
  usesClipboard,
} from "./prompt-library.js";
import { ReadAloudButton, stopReading } from "./read-aloud-button.js";
import { navigate } from "./router.js";
import { keyPressOf, sendsMessage } from "./send-key.js";
import { modalDialogOpen, onMac, shortcutOf } from "./shortcuts.js";
import { opensInSourceView, SourceView } from "./source-view.js";
import { type Suggestion, SuggestionList, suggestionKey, suggestionOptionId } from "./suggestion-list.js";
import {
  keptTemporaryChat,
  leaveTemporaryChat,
  showingTemporaryChat,
  TemporaryChatBar,
} from "./temporary-chat.js";
import { ActionError, errorCode } from "./use-action.js";

export interface ChatMessage {
  id?: string;
  /** Its place in the conversation as stored (the service's `seq`). */
  seq?: number;
  /**
   * Which of the versions at its place the message begins, of how many (an edit and resend, a
   * regeneration keep what they replace as a version): shown as "‹ 2 / 3 ›" under it.
   */
  versions?: { index: number; count: number };
  /** The user's rating of the answer, as stored (absent: not rated). */
  feedback?: Feedback;
  role: "user" | "assistant";
  content: string;
  reasoning?: string | null;
  status?: "streaming" | "done" | "stopped" | "interrupted" | "error";
  queuePosition?: number;
  cached?: boolean;
  error?: string | null;
  /** The error's stable code, when the service gave one (shown in the reader's language; stored too). */
  errorCode?: string | null;
  /**
   * The error's details, as the stream's error part gave them (a used-up quota's reset, a prompt
   * too long for the token limit): not stored, so an answer read again is told by its code alone.
   */
  errorDetails?: Record<string, unknown>;
  /** The model that wrote the answer (shown with it). */
  model?: string | null;
  /** Why the model ended the answer, as it said: "length" when cut off at the length limit. */
  finishReason?: string | null;
  citations?: Citation[];
  searchQueries?: string[];
  /**
   * Grounding that could not be done for this answer (codes: knowledge-unavailable, knowledge-full-text-only,
   * knowledge-not-reranked, search-unavailable, search-partial, search-blocked, search-not-configured, sources-trimmed;
   * knowledge-gone for a knowledge-unavailable that names chosen bases gone), with the fields the stream gave them.
   */
  warnings?: GroundingWarning[];
}

export interface KnowledgeBaseOption {
  id: string;
  name: string;
  /** Its documents answers may use (indexed, switched on), shown in the message box's "#" list. */
  documentCount?: number;
  /** Its owner's user name, for another user's base (an administrator sees every private one). */
  ownerName?: string;
}

/** Applies one streamed part to the answer being written. */
export function applyPart(message: ChatMessage, part: StreamPart): ChatMessage {
  switch (part.type) {
    case "message-start":
      return { ...message, id: part.messageId };
    case "queue-position":
      return { ...message, queuePosition: part.position };
    case "text-delta":
      return { ...message, content: message.content + part.text, queuePosition: undefined };
    case "reasoning-delta":
      return { ...message, reasoning: (message.reasoning ?? "") + part.text, queuePosition: undefined };
    case "sources":
      return { ...message, citations: part.citations, searchQueries: part.searchQueries };
    case "warning": {
      // A warning that names chosen bases as gone says so (the page stops choosing them).
      const { type: _, ...warning } = part;
      return {
        ...message,
        warnings: [
          ...(message.warnings ?? []),
          part.knowledgeBaseIds?.length ? { code: "knowledge-gone" } : warning,
        ],
      };
    }
    case "finish":
      return {
        ...message,
        status: "done",
        cached: part.cached,
        finishReason: part.finishReason,
        queuePosition: undefined,
      };
    case "error":
      return {
        ...message,
        status: message.content ? "interrupted" : "error",
        error: part.message,
        errorCode: part.code,
        errorDetails: part.details,
        queuePosition: undefined,
      };
    default:
      return message;
  }
}

/**
 * An answer's Markdown, rendered once it comes near the screen (plain text until then): a long
 * conversation opens without rendering every answer at once (the latest are rendered at once).
 */
function LazyMarkdown(props: {
  text: string;
  citations?: Citation[];
  eager?: boolean;
  /** Still being written: its diagrams are drawn as each is complete. */
  streaming: boolean;
  onCitation?(n: number, event: React.MouseEvent): void;
}) {
  const [near, setNear] = useState(() => props.eager === true || typeof IntersectionObserver === "undefined");
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = box.current;
    if (near || !element) return;
    const observer = new IntersectionObserver(
      (entries) => {
        if (!entries.some((entry) => entry.isIntersecting)) return;
        observer.disconnect();
        setNear(true);
      },
      { rootMargin: "1000px 0px" },
    );
    observer.observe(element);
    return () => observer.disconnect();
  }, [near]);
  if (near || props.eager)
    return (
      <Markdown
        text={props.text}
        citations={props.citations}
        onCitation={props.onCitation}
        streaming={props.streaming}
      />
    );
  return (
    <div ref={box} className="markdown plain">
      {props.text}
    </div>
  );
}

/**
 * A message, rendered again only when it changes (or the view's busy state does): a streaming
 * answer re-renders itself, not the whole conversation. Its callbacks are looked up when called
 * (the view passes ones that do), so new ones alone do not render it again.
 */
export const MessageView = memo(
  MessageViewOf,
  (before, after) =>
    before.message === after.message &&
    before.busy === after.busy &&
    before.reopenEdit === after.reopenEdit &&
    before.eager === after.eager &&
    before.versionsDisabled === after.versionsDisabled &&
    before.admin === after.admin &&
    !before.onEdit === !after.onEdit &&
    !before.onRegenerate === !after.onRegenerate &&
    !before.onContinue === !after.onContinue &&
    !before.onVersion === !after.onVersion &&
    !before.onRate === !after.onRate,
);

/**
 * "‹ 2 / 3 ›" under a message that begins several versions: the previous and next version's
 * buttons, the group named for screen readers ("Version 2 of 3"); disabled while an answer is
 * written (or a version is being switched to).
 */
function VersionSwitch(props: {
  versions: { index: number; count: number };
  disabled: boolean;
  onVersion(index: number): void;
}) {
  const { t } = useI18n();
  const { index, count } = props.versions;
  return (
    // A fieldset: a group, named for screen readers.
    <fieldset className="versions" aria-label={fill(t.versionOf, { index, count })}>
      <button
        type="button"
        className="small previous"
        aria-label={t.previousVersion}
        title={t.previousVersion}
        disabled={props.disabled || index <= 1}
        onClick={() => props.onVersion(index - 1)}
      >
        ‹
      </button>
      <span aria-hidden="true">
        {index} / {count}
      </span>
      <button
        type="button"
        className="small next"
        aria-label={t.nextVersion}
        title={t.nextVersion}
        disabled={props.disabled || index >= count}
        onClick={() => props.onVersion(index + 1)}
      >
        ›
      </button>
    </fieldset>
  );
}

function MessageViewOf(props: {
  message: ChatMessage;
  /** Rendered at once, not when it comes near the screen (the latest messages). */
  eager?: boolean;
  onEdit?(text: string): void;
  /** An edit that was not answered: the edit box opens again with its text. */
  reopenEdit?: { text: string };
  onRegenerate?(): void;
  /** Continue: the model goes on with the answer from where it ends (one with more to write). */
  onContinue?(): void;
  /** Shows another of the versions the message begins (`message.versions`), by its number. */
  onVersion?(index: number): void;
  /** Stores a change of the answer's rating (`message.feedback`). */
  onRate?(change: FeedbackChange): Promise<void>;
  /** Branch in new chat: the conversation up to this answer, copied into a new chat that opens. */
  onBranch?(): void;
  /** Whether its version buttons are off (an answer being written, a version being switched to). */
  versionsDisabled?: boolean;
  /** Whether the reader is an administrator, shown the server's own words on a failure only they can fix. */
  admin?: boolean;
  busy: boolean;
}) {
  const { t } = useI18n();
  const { message } = props;
  /** Under a failure only an administrator can fix: the server's message (to them), else to ask one. */
  const failureNote =
    message.status === "error" || (message.status === "interrupted" && message.error)
      ? answerFailureNote(t, message.errorCode ?? undefined, message.error ?? "", props.admin === true)
      : undefined;
  /** Why an answer failed, in the reader's language where the code is known. */
  const reason = (failed: ChatMessage) =>
    answerFailureText(t, failed.errorCode ?? undefined, failed.error ?? "", failed.errorDetails);
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(message.content);
  const { field: editBox, editButton } = useEditFocus<HTMLTextAreaElement>(editing);
  useEffect(() => {
    if (!props.reopenEdit) return;
    setDraft(props.reopenEdit.text);
    setEditing(true);
  }, [props.reopenEdit]);
  const cancelEdit = () => setEditing(false);
  const streaming = message.status === "streaming";
  /** The knowledge citation opened in the source view (its passage in its document). */
  const [source, setSource] = useState<Citation>();
  /**
   * A plain click on a knowledge citation shows its passage here; a web page, or a click that asks
   * for a new tab or window, follows the link (the page; the document's file).
   */
  const openCitation = (citation: Citation | undefined, event: React.MouseEvent) => {
    if (!citation || !opensInSourceView(citation)) return;
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    setSource(citation);
  };
  return (
    <article
      className={`message ${message.role}`}
      aria-label={message.role === "user" ? t.you : t.assistant}
      data-status={message.status}
    >
      <div className="role">
        {message.role === "user" ? t.you : t.assistant}
        {/* Which model wrote the answer: a conversation may change models from one answer to the next. */}
        {message.role === "assistant" && message.model && (
          <span className="answer-model">{message.model}</span>
        )}
      </div>
      {message.queuePosition !== undefined && (
        <div className="queue" role="status">
          {fill(t.queuePosition, { n: message.queuePosition })}
        </div>
      )}
      {message.searchQueries && message.searchQueries.length > 0 && (
        <div className="queue">
          {fill(t.fieldValue, { field: t.searchQueries, value: message.searchQueries.join(" · ") })}
        </div>
      )}
      {message.reasoning && (
        <details className="reasoning" open={streaming && !message.content}>
          <summary>{streaming && !message.content ? `${t.thinking}…` : t.reasoning}</summary>
          <div className="reasoning-text">{message.reasoning}</div>
        </details>
      )}
      {editing ? (
        <form
          className="edit-form"
          onSubmit={(event) => {
            event.preventDefault();
            if (!draft.trim()) return;
            setEditing(false);
            props.onEdit?.(draft);
          }}
        >
          <label className="visually-hidden" htmlFor={`edit-${message.id}`}>
            {t.edit}
          </label>
          <textarea
            id={`edit-${message.id}`}
            ref={editBox}
            value={draft}
            onChange={(e) => setDraft(e.target.value)}
            onKeyDown={(event) => {
              // As in the message box: Enter saves and sends, Shift+Enter is a new line (an input
              // method's Enter neither); Escape cancels.
              if (sendsMessage(keyPressOf(event))) {
                event.preventDefault();
                event.currentTarget.form?.requestSubmit();
                return;
              }
              cancelOnEscape(cancelEdit)(event);
            }}
            rows={3}
          />
          {/* Saving sends the changed message again: the answers after it are written anew. */}
          <button type="submit" disabled={!draft.trim()}>
            {t.saveAndSend}
          </button>
          <button type="button" onClick={cancelEdit}>
            {t.cancel}
          </button>
        </form>
      ) : message.role === "assistant" ? (
        <LazyMarkdown
          text={message.content}
          citations={message.citations}
          eager={props.eager || streaming}
          streaming={streaming}
          onCitation={(n, event) =>
            openCitation(
              message.citations?.find((citation) => citation.n === n),
              event,
            )
          }
        />
      ) : (
        <div className="user-text">{message.content}</div>
      )}
      {message.status === "done" && message.finishReason === "length" && (
        <p className="muted length-notice">{t.answerCutOff}</p>
      )}
      {streaming && !message.content && !message.reasoning && message.queuePosition === undefined && (
        <span className="typing" aria-hidden="true">
          …
        </span>
      )}
      {message.warnings?.map((warning) => (
        <p
          key={warning.code}
          className="grounding-warning"
          role="status"
          title={groundingWarningTitle(t, warning)}
        >
          {groundingWarningText(t, warning)}
        </p>
      ))}
      {message.citations && message.citations.length > 0 && (
        <nav className="citations" aria-label={t.sources}>
          <strong>{fill(t.fieldValue, { field: t.sources, value: "" }).trimEnd()}</strong>
          <ol>
            {citationLabels(t, message.citations).map(({ label, snippet }, index) => {
              const citation = message.citations![index]!;
              return (
                <li key={citation.n} value={citation.n}>
                  <a
                    href={citation.url}
                    target="_blank"
                    rel="noopener noreferrer"
                    title={citation.snippet}
                    onClick={(event) => openCitation(citation, event)}
                  >
                    {label}
                  </a>
                  {snippet && <span className="citation-snippet"> “{snippet}”</span>}
                </li>
              );
            })}
          </ol>
        </nav>
      )}
      {source && <SourceView citation={source} onClose={() => setSource(undefined)} />}
      <div className="badges">
        {message.versions && message.versions.count > 1 && props.onVersion && (
          <VersionSwitch
            versions={message.versions}
            disabled={props.versionsDisabled === true || streaming}
            onVersion={props.onVersion}
          />
        )}
        {message.cached && <span className="badge">{t.cached}</span>}
        {message.status === "stopped" && <span className="badge">{t.stopped}</span>}
        {message.status === "interrupted" && (
          <span className="badge">
            {message.error
              ? fill(t.fieldValue, { field: t.interrupted, value: reason(message) })
              : t.interrupted}
          </span>
        )}
        {message.status === "error" && (
          <span className="badge error" role="alert">
            {fill(t.fieldValue, { field: t.error, value: reason(message) })}
          </span>
        )}
        {!streaming && !editing && message.content && <CopyMessage text={message.content} />}
        {!streaming && message.role === "assistant" && message.content && (
          <ReadAloudButton id={message.id ?? `seq-${message.seq}`} text={message.content} />
        )}
        {!props.busy && message.role === "user" && message.id && props.onEdit && !editing && (
          <button
            type="button"
            className="small"
            ref={editButton}
            onClick={() => {
              setDraft(message.content);
              setEditing(true);
            }}
          >
            {t.edit}
          </button>
        )}
        {!props.busy && props.onContinue && (
          <button type="button" className="small continue" onClick={props.onContinue}>
            {t.continueAnswer}
          </button>
        )}
        {!props.busy && props.onRegenerate && (
          <button type="button" className="small" onClick={props.onRegenerate}>
            {t.regenerate}
          </button>
        )}
        {!props.busy && !streaming && message.content && props.onRate && (
          <AnswerFeedback feedback={message.feedback} onRate={props.onRate} />
        )}
        {!props.busy && !streaming && props.onBranch && (
          <button type="button" className="small" onClick={props.onBranch}>
            {t.branchInNewChat}
          </button>
        )}
      </div>
      {failureNote && <p className="failure-note">{failureNote}</p>}
    </article>
  );
}

/**
 * Unsent messages, per conversation ("new" before one exists), in this tab's sessionStorage: kept
 * until the service takes the message, so one typed when the sign-in expired is there after
 * signing in again (and after a reload).
 */
const DRAFT_PREFIX = "hearth.draft.";

function readDraft(key: string): string {
  try {
    return sessionStorage.getItem(DRAFT_PREFIX + key) ?? "";
  } catch {
    return "";
  }
}

function writeDraft(key: string, text: string): void {
  try {
    if (text) sessionStorage.setItem(DRAFT_PREFIX + key, text);
    else sessionStorage.removeItem(DRAFT_PREFIX + key);
  } catch {
    // Storage off or full: the draft lives only in the box.
  }
}

/** Forgets every unsent draft and knowledge-base choice (signing out). */
export function clearDrafts(): void {
  try {
    for (const key of Object.keys(sessionStorage))
      if (key.startsWith(DRAFT_PREFIX) || key.startsWith("hearth.kb.")) sessionStorage.removeItem(key);
  } catch {}
}

/** A "/" or "#" typed in the message box before the caret: the list it opens, where, and what follows it. */
interface TypedTrigger {
  kind: "prompts" | "knowledge-bases";
  start: number;
  query: string;
}

/**
 * The trigger the caret is in, if any: "/" for the prompt library, "#" for a knowledge base (one of
 * `knowledgeBases`, whose names may have spaces).
 */
function triggerAt(
  text: string,
  caret: number,
  knowledgeBases: readonly KnowledgeBaseOption[],
): TypedTrigger | undefined {
  const slash = slashQuery(text, caret);
  if (slash) return { kind: "prompts", ...slash };
  const hash = hashQuery(
    text,
    caret,
    knowledgeBases.map((kb) => kb.name),
  );
  return hash && { kind: "knowledge-bases", ...hash };
}

/** A list of the message box: its listbox's id and name, its options, and what choosing one does. */
interface Picker {
  id: string;
  label: string;
  /** What the status says as it opens ({n}: how many it offers). */
  found: string;
  suggestions: Suggestion[];
  pick(index: number): void;
}

export interface ComposerOptions {
  knowledgeBaseIds: string[];
  search: "off" | "auto" | "on";
}

export function Composer(props: {
  /** Which conversation's draft the box holds ("new" before one exists). */
  draftKey?: string;
  /** False when no web search engine is configured: the search choice is off, with why. */
  searchConfigured?: boolean;
  admin?: boolean;
  /** The signed-in user's name: a prompt's {{USER_NAME}}. */
  userName?: string;
  busy: boolean;
  disabled?: boolean;
  /** The longest message the service takes (web.maxMessageChars): the box says the length near it. */
  maxChars: number;
  knowledgeBases: KnowledgeBaseOption[];
  options: ComposerOptions;
  onOptions(options: ComposerOptions): void;
  /** Sends a message with the options it goes with (a `#name` mention adds its base to them). */
  onSend(text: string, options: ComposerOptions): Promise<boolean>;
  onStop(): void;
  /**
   * Why the text in the box was not sent (the id of the error saying so), and whether that is
   * about the text itself (a blocked word, too long): the box points at it until it is changed.
   */
  refusal?: { errorId: string; invalid: boolean };
  /** The text in the box was changed: a refusal no longer applies to it. */
  onEdit?(): void;
  /**
   * Attaches documents to the chat (the paperclip, or files dropped or pasted on the composer);
   * absent, files are refused as images are.
   */
  onAttach?(files: File[]): void;
  /** The chat's files and their uploads, shown over the message box. */
  files?: ReactNode;
}) {
  const { t, locale } = useI18n();
  const draftKey = props.draftKey ?? "new";
  const [text, setText] = useState(() => readDraft(draftKey));
  /** Set when an image was pasted or dropped (see takeFiles); typing, sending or another conversation clears it. */
  const [filesRefused, setFilesRefused] = useState(false);
  const box = useRef<HTMLTextAreaElement>(null);
  /**
   * The prompt library (Settings → Prompts): read when the composer shows, and again each time
   * "/" opens its list, so that one saved meanwhile (in another tab) is there.
   */
  const [prompts, setPrompts] = useState<Prompt[]>([]);
  const loadPrompts = useCallback(() => {
    void api<{ prompts: Prompt[] }>("/api/prompts").then(
      (answer) => setPrompts(answer.prompts),
      () => {},
    );
  }, []);
  useEffect(() => loadPrompts(), [loadPrompts]);
  /**
   * The "/" (prompts) or "#" (knowledge bases) being typed: where it is and what follows it, while
   * its list is open.
   */
  const [typed, setTyped] = useState<TypedTrigger>();
  const [activeSuggestion, setActiveSuggestion] = useState(0);
  /**
   * A prompt was put in the box with placeholders: Tab goes from one to the next (Shift+Tab back)
   * until it is sent.
   */
  const [filling, setFilling] = useState(false);
  /** Where to put the box's selection once the text set with it is shown. */
  const pendingSelection = useRef<{ start: number; end: number } | undefined>(undefined);
  useEffect(() => {
    const selection = pendingSelection.current;
    if (!selection || !box.current) return;
    pendingSelection.current = undefined;
    box.current.focus();
    box.current.setSelectionRange(selection.start, selection.end);
  });
  /**
   * Follows the caret: a list opens on a "/" typed where a command may begin or a "#" where a
   * mention may, and closes off it.
   */
  const followCaret = (value: string, caret: number) => {
    const found = triggerAt(value, caret, props.knowledgeBases);
    if (found?.kind === "prompts" && typed?.kind !== "prompts") loadPrompts();
    if (found?.kind !== typed?.kind || found?.query !== typed?.query || found?.start !== typed?.start)
      setActiveSuggestion(0);
    setTyped(found);
  };
  const changeText = (value: string) => {
    setText(value);
    setFilesRefused(false);
    props.onEdit?.();
    writeDraft(draftKey, value);
  };
  /** Puts `content` in the box in place of the trigger and query typed at `at`; the new text. */
  const replaceTyped = (at: TypedTrigger, content: string) => {
    const value = text.slice(0, at.start) + content + text.slice(at.start + 1 + at.query.length);
    changeText(value);
    return value;
  };
  /**
   * Puts a prompt in the box in place of its "/command": its variables filled (the clipboard's
   * when the browser grants it), then its first placeholder selected for the user to type over.
   */
  const pickPrompt = async (prompt: Prompt) => {
    const at = typed;
    setTyped(undefined);
    if (!at) return;
    let clipboard: string | undefined;
    if (usesClipboard(prompt.content))
      clipboard = await navigator.clipboard?.readText?.().catch(() => undefined);
    const content = fillVariables(prompt.content, {
      clipboard,
      now: new Date(),
      locale,
      userName: props.userName ?? "",
    });
    const value = replaceTyped(at, content);
    const placeholder = nextPlaceholder(value, at.start);
    const inside = placeholder && placeholder.start < at.start + content.length ? placeholder : undefined;
    setFilling(!!inside);
    const caret = at.start + content.length;
    pendingSelection.current = inside ?? { start: caret, end: caret };
  };
  /** Puts a knowledge base's `#name ` mention in the box in place of the "#" typed, the caret after it. */
  const pickKnowledgeBase = (kb: KnowledgeBaseOption) => {
    const at = typed;
    setTyped(undefined);
    if (!at) return;
    const mention = mentionOf(kb.name);
    replaceTyped(at, mention);
    const caret = at.start + mention.length;
    pendingSelection.current = { start: caret, end: caret };
  };
  /** The list a trigger opens: its options, and what choosing one does. */
  const pickerFor = (at: TypedTrigger): Picker => {
    if (at.kind === "prompts") {
      const offered = matchingPrompts(prompts, at.query);
      return {
        id: "prompt-suggestions",
        label: t.prompts,
        found: t.promptSuggestionsOpen,
        suggestions: offered.map((prompt) => ({
          id: prompt.id,
          label: `/${prompt.command}`,
          description: prompt.title,
          ...(prompt.shared ? { note: t.promptShared } : {}),
        })),
        pick: (index) => void pickPrompt(offered[index]!),
      };
    }
    const offered = matchingKnowledgeBases(props.knowledgeBases, at.query);
    return {
      id: "knowledge-suggestions",
      label: t.knowledgeBases,
      found: t.knowledgeSuggestionsOpen,
      suggestions: offered.map((kb) => ({
        id: kb.id,
        label: `#${knowledgeBaseLabel(t, kb)}`,
        ...(kb.documentCount === undefined
          ? {}
          : {
              note:
                kb.documentCount === 1 ? t.documentCountOne : fill(t.documentCount, { n: kb.documentCount }),
            }),
      })),
      pick: (index) => pickKnowledgeBase(offered[index]!),
    };
  };
  /** The list of the trigger at the caret: shown while it offers something. */
  const list = typed && pickerFor(typed);
  const pickerOpen = !!list && list.suggestions.length > 0;
  // A list may change while open (the prompts are read again): a shorter one keeps the choice on it.
  const active = Math.min(activeSuggestion, Math.max(0, (list?.suggestions.length ?? 0) - 1));
  // Each conversation has its own draft (and no prompt's list or placeholders of another's, nor
  // its refused image).
  useEffect(() => {
    setText(readDraft(draftKey));
    setTyped(undefined);
    setFilling(false);
    setFilesRefused(false);
  }, [draftKey]);
  const send = () => {
    let value = text.trim();
    if (!value || props.busy) return;
    // `#name` mentions pick knowledge bases, for this message and the next ones.
    let options = props.options;
    const mentions = findMentions(value, props.knowledgeBases);
    const mentioned = mentions.mentioned;
    if (mentioned.length > 0) {
      options = {
        ...options,
        knowledgeBaseIds: [...new Set([...options.knowledgeBaseIds, ...mentioned.map((kb) => kb.id)])],
      };
      props.onOptions(options);
      value = mentions.text;
    }
    // Cleared at once; a message the service refused comes back to be changed and sent again.
    // The stored draft stays until the message is taken (the page may go to sign-in meanwhile).
    const typed = text;
    const sentFrom = draftKey;
    setText("");
    setFilesRefused(false);
    setTyped(undefined);
    setFilling(false);
    void props.onSend(value, options).then((sent) => {
      if (sent && readDraft(sentFrom) === typed) writeDraft(sentFrom, "");
      else setText((current) => current || typed);
    });
  };
  /** The paperclip's file picker (hidden: the button opens it). */
  const picker = useRef<HTMLInputElement>(null);
  /**
   * Files pasted or dropped onto the composer: documents are attached to the chat (onAttach), as
   * the paperclip attaches them; an image is refused, said instead of dropping it silently (the
   * model reads no images, MEDIA_INPUT_NOT_SUPPORTED).
   */
  const takeFiles = (event: ClipboardEvent<HTMLElement> | DragEvent<HTMLElement>) => {
    const data = "clipboardData" in event ? event.clipboardData : event.dataTransfer;
    if (!data?.types.includes("Files")) return;
    // Text copied with its picture (from a web page) is pasted as text.
    if (event.type === "paste" && data.types.includes("text/plain")) return;
    event.preventDefault();
    if (event.type === "dragover") return;
    const files = Array.from(data.files);
    const documents = props.onAttach ? files.filter((file) => !file.type.startsWith("image/")) : [];
    if (documents.length < files.length) setFilesRefused(true);
    if (documents.length > 0) props.onAttach?.(documents);
  };
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (
      pickerOpen &&
      suggestionKey(event, {
        count: list.suggestions.length,
        active,
        onActive: setActiveSuggestion,
        onPick: list.pick,
        onClose: () => setTyped(undefined),
      })
    )
      return;
    // A prompt's placeholders, one after another (Shift+Tab back); with none left, Tab leaves the
    // box as usual.
    if (event.key === "Tab" && filling) {
      const target = event.currentTarget;
      const next = event.shiftKey
        ? previousPlaceholder(text, target.selectionStart)
        : nextPlaceholder(text, target.selectionEnd);
      if (next) {
        event.preventDefault();
        target.setSelectionRange(next.start, next.end);
        return;
      }
      setFilling(false);
    }
    // Enter sends (not one that commits an input method's candidate); Shift+Enter is a new line.
    if (sendsMessage(keyPressOf(event))) {
      event.preventDefault();
      send();
    }
  };
  const length = textLength(text);
  const toggle = (id: string) =>
    props.onOptions({
      ...props.options,
      knowledgeBaseIds: props.options.knowledgeBaseIds.includes(id)
        ? props.options.knowledgeBaseIds.filter((k) => k !== id)
        : [...props.options.knowledgeBaseIds, id],
    });
  return (
    <form
      className="composer-wrap"
      aria-labelledby="composer-heading"
      // A file dragged over the composer is taken (not opened by the browser in place of the page), then refused.
      onDragOver={takeFiles}
      onDrop={takeFiles}
      onSubmit={(event) => {
        event.preventDefault();
        send();
      }}
    >
      <h2 id="composer-heading" className="visually-hidden">
        {t.composerHeading}
      </h2>
      <div className="composer-options">
        {props.knowledgeBases.length > 0 && (
          <fieldset className="kb-picker">
            <legend>{t.knowledgeBases}</legend>
            {props.knowledgeBases.map((kb) => (
              <label key={kb.id}>
                <input
                  type="checkbox"
                  checked={props.options.knowledgeBaseIds.includes(kb.id)}
                  onChange={() => toggle(kb.id)}
                />{" "}
                {knowledgeBaseLabel(t, kb)}
              </label>
            ))}
            <span id="mention-hint" className="muted">
              {t.mentionHint}
            </span>
          </fieldset>
        )}
        <label>
          {t.webSearch}{" "}
          <select
            disabled={props.searchConfigured === false}
            aria-describedby={props.searchConfigured === false ? "search-not-configured" : undefined}
            value={props.searchConfigured === false ? "off" : props.options.search}
            onChange={(e) =>
              props.onOptions({ ...props.options, search: e.target.value as ComposerOptions["search"] })
            }
          >
            <option value="off">{t.searchOff}</option>
            <option value="auto">{t.searchAuto}</option>
            <option value="on">{t.searchOn}</option>
          </select>
        </label>
        {/* Folded to one line (a phone has little room): why, and what to do, on opening it. */}
        {props.searchConfigured === false && (
          <details id="search-not-configured" className="muted search-hint">
            <summary>{t.searchOffSummary}</summary>
            {props.admin ? t.searchNotConfiguredHint : t.searchNotConfiguredUserHint}
          </details>
        )}
      </div>
      {props.files}
      <div className="composer">
        {props.onAttach && (
          <>
            <button
              type="button"
              className="attach"
              aria-label={t.attachFiles}
              title={t.attachFiles}
              onClick={() => picker.current?.click()}
            >
              <LineIcon size={16}>
                <path d="M21.4 11.1 12.2 20.3a6 6 0 0 1-8.5-8.5l9.2-9.2a4 4 0 0 1 5.7 5.7l-9.2 9.2a2 2 0 0 1-2.8-2.8l8.5-8.5" />
              </LineIcon>
            </button>
            <input
              ref={picker}
              type="file"
              multiple
              hidden
              aria-label={t.attachFiles}
              onChange={(event) => {
                const chosen = Array.from(event.target.files ?? []);
                // The same file may be chosen again (after removing it).
                event.target.value = "";
                if (chosen.length > 0) props.onAttach?.(chosen);
              }}
            />
          </>
        )}
        <label className="visually-hidden" htmlFor="message-input">
          {t.messagePlaceholder}
        </label>
        {pickerOpen && (
          <SuggestionList
            id={list.id}
            label={list.label}
            suggestions={list.suggestions}
            active={active}
            onActive={setActiveSuggestion}
            onPick={list.pick}
          />
        )}
        {/* Only for a user with prompts or knowledge bases: a list says how many it offers as it opens. */}
        {(prompts.length > 0 || props.knowledgeBases.length > 0) && (
          <p className="visually-hidden" role="status">
            {pickerOpen ? fill(list.found, { n: list.suggestions.length }) : ""}
          </p>
        )}
        <textarea
          id="message-input"
          ref={box}
          value={text}
          rows={2}
          placeholder={t.messagePlaceholder}
          disabled={props.disabled}
          onChange={(event) => {
            changeText(event.target.value);
            followCaret(event.target.value, event.target.selectionEnd);
          }}
          onSelect={(event) => {
            // The caret moved (a click, the arrow keys): the list follows it.
            if (typed) followCaret(event.currentTarget.value, event.currentTarget.selectionEnd);
          }}
          onBlur={() => setTyped(undefined)}
          onKeyDown={onKeyDown}
          onPaste={takeFiles}
          aria-autocomplete="list"
          aria-controls={pickerOpen ? list.id : undefined}
          aria-activedescendant={pickerOpen ? suggestionOptionId(list.id, active) : undefined}
          aria-invalid={props.refusal?.invalid || length > props.maxChars || undefined}
          aria-describedby={
            [
              prompts.length > 0 && "prompt-hint",
              props.knowledgeBases.length > 0 && "mention-hint",
              filesRefused && "files-refused",
              lengthShown(length, props.maxChars) && MESSAGE_LENGTH_ID,
              props.refusal?.errorId,
            ]
              .filter(Boolean)
              .join(" ") || undefined
          }
        />
        {/* Two buttons, not one changing: focus on Stop goes with it (then back to the message box). */}
        {props.busy ? (
          <button key="stop" type="button" className="stop" onClick={props.onStop}>
            {t.stop}
          </button>
        ) : (
          <button key="send" type="submit" disabled={props.disabled || !text.trim()}>
            {t.send}
          </button>
        )}
      </div>
      {prompts.length > 0 && (
        <p id="prompt-hint" className="visually-hidden">
          {t.promptHint}
        </p>
      )}
      {filesRefused && (
        <p id="files-refused" className="error-text composer-notice" role="alert">
          {t.filesNotSupported}
        </p>
      )}
      <MessageLength length={length} max={props.maxChars} />
    </form>
  );
}

/** Whether the user's custom instructions are over the limit, so that a new chat starts without them. */
function instructionsOverLimit(preferences: Preferences): boolean {
  return !!preferences.instructions && isTooLong(preferences.instructions, preferences.instructionsMaxChars);
}

/**
 * What a new chat starts with: the chosen assistant's system prompt, knowledge bases (those the user
 * may read: the others are left out, as the service leaves them out), web search mode and
 * temperature; else the user's chat defaults (their custom instructions, left out over the limit as
 * the service leaves them out, and their web search mode). Web search is off while no engine is
 * configured.
 */
function newChatSettings(
  preferences: Preferences,
  assistant: Assistant | undefined,
  searchConfigured: boolean | undefined,
): {
  systemPrompt: string | null;
  controls: ChatControls;
  knowledgeBaseIds: string[];
  search: ComposerOptions["search"];
} {
  const search = assistant ? assistant.webSearch : (preferences.webSearch ?? "off");
  return {
    systemPrompt: assistant
      ? assistant.systemPrompt
      : instructionsOverLimit(preferences)
        ? null
        : preferences.instructions,
    controls: assistant
      ? { ...DEFAULT_CHAT_CONTROLS, temperature: assistant.temperature }
      : DEFAULT_CHAT_CONTROLS,
    knowledgeBaseIds: assistant?.knowledgeBaseIds ?? [],
    search: searchConfigured === false ? "off" : search,
  };
}

/** The longest system prompt the service takes (its SYSTEM_PROMPT_MAX_CHARS). */
const SYSTEM_PROMPT_MAX_CHARS = 10_000;

/**
 * The conversation's system prompt: one folded line at the top of the chat that shows it (its
 * start), and opens to change or clear it. In a new chat it is kept here until the first message
 * creates the conversation, which takes it.
 */
export function SystemPromptBar(props: {
  value: string | null;
  /** A new chat: nothing is stored until its first message. */
  newChat: boolean;
  /** The prompt is the user's custom instructions (a new chat's default): said so. */
  fromDefaults?: boolean;
  /** Stores the prompt (null: none); throws what the service refused. */
  onSave(text: string | null): Promise<void>;
}) {
  const { t } = useI18n();
  const { close, save, error, summary, details, draft, setDraft, firstField } = useFoldedEditor<
    string | null,
    string,
    HTMLTextAreaElement
  >(props.value, (value) => value ?? "", props.onSave);
  return (
    <details className="system-prompt" {...details}>
      <summary ref={summary}>
        {fill(t.fieldValue, { field: t.systemPrompt, value: props.value ?? t.systemPromptNone })}
      </summary>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void save(draft.trim() || null);
        }}
      >
        <label className="visually-hidden" htmlFor="system-prompt-input">
          {t.systemPrompt}
        </label>
        <textarea
          id="system-prompt-input"
          ref={firstField}
          value={draft}
          rows={3}
          maxLength={SYSTEM_PROMPT_MAX_CHARS}
          aria-describedby={[
            "system-prompt-hint",
            props.newChat && "system-prompt-new-chat",
            props.fromDefaults && "system-prompt-from-defaults",
          ]
            .filter(Boolean)
            .join(" ")}
          onChange={(event) => setDraft(event.target.value)}
        />
        <p id="system-prompt-hint" className="muted">
          {t.systemPromptHint}
        </p>
        {props.newChat && (
          <p id="system-prompt-new-chat" className="muted">
            {t.systemPromptNewChatHint}
          </p>
        )}
        {props.fromDefaults && (
          <p id="system-prompt-from-defaults" className="muted">
            {t.systemPromptFromDefaults}
          </p>
        )}
        <ActionError error={error} />
        <div className="form-buttons">
          <button type="submit" className="small">
            {t.save}
          </button>
          {props.value && (
            <button type="button" className="small" onClick={() => void save(null)}>
              {t.clear}
            </button>
          )}
          <button type="button" className="small" onClick={close}>
            {t.cancel}
          </button>
        </div>
      </form>
    </details>
  );
}

/** A conversation's Chat controls as the service gives them (absent: the model's default). */
function controlsOf(answer: Partial<ChatControls>): ChatControls {
  const controls = { ...DEFAULT_CHAT_CONTROLS };
  for (const name of CHAT_CONTROL_NAMES) controls[name] = answer[name] ?? null;
  return controls;
}

/** Refusals of a message for its text (rather than its sender's quota or the service's state). */
const REFUSED_TEXT = new Set(["CONTENT_BLOCKED", "MESSAGE_TOO_LONG"]);

/** The latest messages, rendered at once; the earlier ones' Markdown when they come near the screen. */
const EAGER_MESSAGES = 6;

/** How often a conversation whose answer is written elsewhere is read again. */
const WATCH_INTERVAL_MS = 2000;

/** A conversation as the service gives it, with its Chat controls (each null: the model's default). */
interface ConversationAnswer extends Partial<ChatControls> {
  id: string;
  title: string;
  model: string | null;
  systemPrompt: string | null;
  /** When it was archived (null: in the list). */
  archivedAt?: string | null;
  /** A temporary chat: in no list, deleted when left. */
  temporary?: boolean;
  /** The assistant it was started with (its name then), if one. */
  assistant?: { id: string; name: string } | null;
  /** The knowledge bases it took from its assistant: its choice while none was ever made for it. */
  knowledgeBaseIds?: string[] | null;
  /** The knowledge bases chosen for it (those the user may still read); null: never chosen. */
  chosenKnowledgeBaseIds?: string[] | null;
  /** Its web search mode as last chosen (its assistant's to start with); null: never chosen. */
  webSearch?: ComposerOptions["search"] | null;
  messages: Array<ChatMessage & { id: string }>;
}

/**
 * The conversation as read again, each message that did not change kept as shown, so that only
 * the answer being written renders again (a new citations array would render a message anew).
 */
function keepUnchanged(shown: ChatMessage[], stored: ChatMessage[]): ChatMessage[] {
  return stored.map((message, i) => {
    const before = shown[i];
    return before &&
      before.id === message.id &&
      before.status === message.status &&
      before.content === message.content &&
      before.reasoning === message.reasoning &&
      before.citations?.length === message.citations?.length &&
      before.versions?.index === message.versions?.index &&
      before.versions?.count === message.versions?.count &&
      before.feedback?.ratedAt === message.feedback?.ratedAt
      ? before
      : message;
  });
}

/** One stored conversation: its messages, the composer, streaming, stop, edit and regenerate. */
export function ChatView(props: {
  models: ModelsAnswer;
  model: string;
  /** The user's chat defaults: a new chat's system prompt, web search mode and model. */
  preferences: Preferences;
  conversationId: string | undefined;
  knowledgeBases: KnowledgeBaseOption[];
  /** The largest file the knowledge service takes (unknown until the bases are listed): a larger one is not sent. */
  maxUploadBytes?: number;
  /**
   * The assistant a new chat starts with (chosen in the picker): its system prompt, knowledge bases
   * and web search mode are the new chat's (changeable before and after its first message).
   */
  assistant?: Assistant;
  /**
   * The chosen assistant turned out to be gone (deleted, or no longer shared with the user, since
   * the picker read them): the list of assistants is read again.
   */
  onAssistantsChanged?(): void;
  onConversationCreated(id: string): void;
  onChanged(): void;
  /** A chosen knowledge base turned out to be gone: the list of bases is read again. */
  onKnowledgeBasesChanged(): void;
  /** The model a conversation was last answered with, when one is opened (the picker follows it). */
  onModel(id: string): void;
  /** The last conversation renamed in the list: its new title, if it is this one. */
  renamed?: { id: string; title: string };
  /** The last conversation archived from the list, if it is this one: it says so. */
  archived?: { id: string; archivedAt: string };
  /** Whether the reader is an administrator (who can configure what is missing, and is told how). */
  admin?: boolean;
  /** The reader's name: a prompt's {{USER_NAME}}. */
  userName?: string;
}) {
  const { t } = useI18n();
  const [messages, setMessages] = useState<ChatMessage[]>([]);
  /** The open conversation's title as stored (undefined while it loads). */
  const [title, setTitle] = useState<string>();
  /** Its system prompt (null: none); a new chat's, until its first message stores it. */
  const [systemPrompt, setSystemPrompt] = useState<string | null>(null);
  /** Its Chat controls (model parameters); a new chat's, until its first message stores them. */
  const [controls, setControls] = useState<ChatControls>(DEFAULT_CHAT_CONTROLS);
  /** The assistant the open conversation was started with (its name then), shown in its header. */
  const [assistantName, setAssistantName] = useState<string>();
  /** When the open conversation was archived (null: it is in the list). */
  const [archivedAt, setArchivedAt] = useState<string | null>(null);
  /**
   * Whether the open conversation is a temporary chat; for a new chat, whether it will be one (the
   * switch stays as set from one new chat to the next, as ChatGPT's does).
   */
  const [temporary, setTemporary] = useState(false);
  /** The open conversation's last model, not offered when it was opened: picked once it is. */
  const modelWhenOffered = useRef<string | undefined>(undefined);
  /** What a link to a new chat asked for (`/?q=…`), until its question is sent. */
  const linked = useRef<NewChatLink | undefined>(undefined);
  // Left for another page (Knowledge, Settings, Admin, …), the view goes and the chat with it: it is
  // in no list to come back to.
  useEffect(
    () => () => {
      void leaveTemporaryChat();
    },
    [],
  );
  // An answer being read aloud stops when the chat is left (another conversation, another page).
  // biome-ignore lint/correctness/useExhaustiveDependencies: stops on each change of conversation
  useEffect(() => stopReading, [props.conversationId]);
  const [busy, setBusy] = useState(false);
  /** Why the last message was not taken (shown beside the composer, which gets the text back). */
  const [sendError, setSendError] = useState<unknown>();
  /**
   * Whether sendError refused the text in the message box (not an edit's, nor a regeneration):
   * the box points at it until its text is changed.
   */
  const [boxRefused, setBoxRefused] = useState(false);
  /** Why a regeneration or an edit left the conversation as it was (shown beside the composer). */
  const [notice, setNotice] = useState("");
  /** The edit that was not answered, given back to its message's edit box. */
  const [reopenEdit, setReopenEdit] = useState<{ id: string; text: string }>();
  /** Whether another version of a message is being switched to (its buttons are off meanwhile). */
  const [switching, setSwitching] = useState(false);
  /**
   * The version buttons that had focus when a version was switched to (the message's place in the
   * list, and which of its buttons): focus goes back to them once the other version is shown.
   */
  const versionFocus = useRef<{ position: number; which: "previous" | "next" }>(undefined);
  /** What the status region tells a screen reader: an answer being written, then written. */
  const [announcement, setAnnouncement] = useState("");
  const [options, setOptions] = useState<ComposerOptions>(() => ({
    knowledgeBaseIds: [],
    search: props.preferences.webSearch ?? "off",
  }));
  /** The conversation asked for is not the user's (deleted, someone else's, never was): said so. */
  const [notFound, setNotFound] = useState(false);
  /** Why the conversation could not be loaded otherwise (the service unreachable). */
  const [loadError, setLoadError] = useState<unknown>();
  /**
   * The stored answer is being written elsewhere (another tab or device, or this tab before a
   * reload): shown as such, and the conversation read again until it is done; no second answer.
   */
  const [watching, setWatching] = useState(false);
  /** Whether a web search engine is configured (undefined until known, or when it cannot be told). */
  const [searchConfigured, setSearchConfigured] = useState<boolean>();
  /** searchConfigured, for a new chat's defaults (set where the conversation changes). */
  const searchConfiguredNow = useRef<boolean>(undefined);
  useEffect(() => {
    void api<{ configured: boolean | null }>("/api/search/status").then(
      (answer) => {
        setSearchConfigured(answer.configured ?? undefined);
        searchConfiguredNow.current = answer.configured ?? undefined;
        if (answer.configured === false) setOptions((current) => ({ ...current, search: "off" }));
      },
      () => {},
    );
  }, []);
  const creating = useRef<string | undefined>(undefined);
  /** The files attached to the open chat, and those being attached. */
  const files = useChatFiles(props.conversationId, props.maxUploadBytes);
  /**
   * Which conversation the view shows, counted up at each switch: a stream or a load begun for an
   * earlier one no longer touches this view.
   */
  const generation = useRef(0);
  const list = useRef<HTMLDivElement>(null);
  /** Whether the reader is at the end: only then does a streaming answer scroll the view. */
  const pinned = useRef(true);
  /** The latest props, for the conversation loader, which runs only when the conversation changes. */
  const latest = useRef(props);
  latest.current = props;
  /** The conversation the view shows: the one opened, or the one being made for a first message. */
  const shownId = useCallback(() => latest.current.conversationId ?? creating.current, []);
  const { renamed, archived } = props;
  useEffect(() => {
    if (renamed && renamed.id === latest.current.conversationId) setTitle(renamed.title);
  }, [renamed]);
  useEffect(() => {
    if (archived && archived.id === latest.current.conversationId) setArchivedAt(archived.archivedAt);
  }, [archived]);
  // The service names a conversation "New chat" until it has a title: shown in the reader's language.
  const shownTitle = notFound
    ? t.conversationNotFound
    : !props.conversationId || title === "New chat"
      ? t.newChat
      : title;
  usePageTitle(shownTitle);
  /** Whether focus goes back to the message box when the answer ends (it was on Stop, or nowhere). */
  const refocus = useRef(false);
  useEffect(() => {
    // The button an answer was asked from went with it (Send, Regenerate, an edit's Save and send):
    // focus goes to Stop, which is there while the answer is written, then back to the message box.
    if (busy) {
      if (focusLost()) document.querySelector<HTMLElement>(".composer button.stop")?.focus();
      return;
    }
    if (!refocus.current) return;
    refocus.current = false;
    if (focusLost()) document.getElementById("message-input")?.focus();
  }, [busy]);

  /** The assistant whose settings the new chat shows (undefined: the user's chat defaults). */
  const applied = useRef<string | undefined>(undefined);
  const showNewChatSettings = useCallback((assistant: Assistant | undefined) => {
    applied.current = assistant?.id;
    const settings = newChatSettings(latest.current.preferences, assistant, searchConfiguredNow.current);
    setSystemPrompt(settings.systemPrompt);
    // An assistant's temperature is the new chat's (changeable in Chat controls before the first message).
    setControls(settings.controls);
    setOptions((current) => ({
      ...current,
      knowledgeBaseIds: settings.knowledgeBaseIds,
      search: settings.search,
    }));
  }, []);
  useEffect(() => {
    // A temporary chat left goes (its answer, if one is being written, stops with it).
    void leaveTemporaryChat(props.conversationId);
    // The conversation this view just created and is streaming into: nothing to load (once; opened
    // again later, it loads like any other).
    if (props.conversationId && creating.current === props.conversationId) {
      creating.current = undefined;
      return;
    }
    // A first message's conversation that was left before it began opens like any other.
    creating.current = undefined;
    const current = ++generation.current;
    const id = props.conversationId;
    // A stream still running for the conversation left goes on (liveTurns), shown again when it is
    // opened again.
    const live = id ? liveTurns.get(id) : undefined;
    setBusy(live !== undefined);
    modelWhenOffered.current = undefined;
    setWatching(false);
    setNotFound(false);
    setLoadError(undefined);
    pinned.current = true;
    setMessages(live?.messages ?? []);
    setSendError(undefined);
    setBoxRefused(false);
    setNotice("");
    setReopenEdit(undefined);
    setAnnouncement("");
    setTitle(undefined);
    setAssistantName(undefined);
    setArchivedAt(null);
    const { preferences, models, onModel } = latest.current;
    if (!id) {
      // A new chat starts from the user's chat defaults (an assistant chosen for it is applied
      // below), with their default model while it is offered to them (else the model picked as before).
      showNewChatSettings(undefined);
      const { defaultModel } = preferences;
      if (defaultModel && models.models.some((model) => model.id === defaultModel)) onModel(defaultModel);
      // A link to a new chat (`/?q=…&models=…&temporary-chat=true`): read once, then taken out of
      // the address, so that a reload or Back does not ask again.
      const link = readNewChatLink(
        location.search,
        models.models.map((model) => model.id),
      );
      if (location.search) history.replaceState(null, "", location.pathname);
      if (!link) return;
      if (link.temporary) setTemporary(true);
      if (link.model) onModel(link.model);
      linked.current = link;
      return;
    }
    // A conversation opened before a link's question was sent: the question is not sent later.
    linked.current = undefined;
    setSystemPrompt(null);
    setControls(DEFAULT_CHAT_CONTROLS);
    setOptions((current) => ({ ...current, knowledgeBaseIds: [] }));
    void api<ConversationAnswer>(`/api/conversations/${id}`).then(
      (answer) => {
        if (generation.current !== current) return;
        setTitle(answer.title);
        setSystemPrompt(answer.systemPrompt ?? null);
        setControls(controlsOf(answer));
        setAssistantName(answer.assistant?.name);
        // Its knowledge bases as chosen, kept with it (on any device; those the user may no longer
        // read left out by the service, those no longer listed here too); never chosen: those it took
        // from its assistant, as far as the user can see them.
        const listed = latest.current.knowledgeBases;
        const chosen = answer.chosenKnowledgeBaseIds?.filter(
          (kb) => listed.length === 0 || listed.some((option) => option.id === kb),
        );
        const shown =
          chosen ?? (answer.knowledgeBaseIds ?? []).filter((kb) => listed.some((option) => option.id === kb));
        // Its web search mode as kept with it (one never chosen: the user's default); off while no
        // engine is configured.
        const search =
          searchConfiguredNow.current === false
            ? "off"
            : (answer.webSearch ?? latest.current.preferences.webSearch ?? "off");
        setOptions((current) => ({
          ...current,
          search,
          ...(shown.length > 0 ? { knowledgeBaseIds: shown } : {}),
        }));
        setArchivedAt(answer.archivedAt ?? null);
        setTemporary(answer.temporary === true);
        if (answer.temporary) showingTemporaryChat(id);
        if (!liveTurns.get(id)) {
          setMessages(answer.messages);
          setWatching(answer.messages.some((message) => message.status === "streaming"));
        }
        const used = [...answer.messages].reverse().find((message) => message.model)?.model ?? answer.model;
        const { models, onModel } = latest.current;
        if (used && models.models.some((model) => model.id === used)) onModel(used);
        else modelWhenOffered.current = used ?? undefined;
      },
      (error: unknown) => {
        if (generation.current !== current) return;
        if (error instanceof ApiError && error.status === 404) setNotFound(true);
        else setLoadError(error);
      },
    );
  }, [props.conversationId, showNewChatSettings]);

  // A conversation opened while its model was not offered (the model service could not be reached):
  // the picker follows it once it is.
  useEffect(() => {
    const used = modelWhenOffered.current;
    if (!used || !props.models.models.some((model) => model.id === used)) return;
    modelWhenOffered.current = undefined;
    latest.current.onModel(used);
  }, [props.models]);

  // Choosing an assistant for a new chat shows its settings; choosing a plain model again brings
  // back the user's chat defaults.
  useEffect(() => {
    if (props.conversationId) {
      applied.current = undefined;
      return;
    }
    if (props.assistant?.id !== applied.current) showNewChatSettings(props.assistant);
  }, [props.assistant, props.conversationId, showNewChatSettings]);

  // The answers this tab streams are shown as they are written, whichever view began them; when
  // one ends, the stored ids are read (the new user message's is needed to edit it).
  useEffect(
    () =>
      liveTurns.subscribe((id, turn, final) => {
        if (id !== shownId()) return;
        if (turn) {
          setMessages(turn.messages);
          setBusy(true);
          setWatching(false);
          return;
        }
        if (final) setMessages(final);
        setBusy(false);
        void api<ConversationAnswer>(`/api/conversations/${id}`).then(
          (answer) => {
            if (id !== shownId() || liveTurns.get(id)) return;
            setTitle(answer.title);
            // Only the ids, places and versions: a stopped answer may not be stored yet when
            // this reads, and what was shown stays as it was.
            setMessages((current) =>
              current.length === answer.messages.length
                ? current.map((message, i) => {
                    const stored = answer.messages[i];
                    return { ...message, id: stored?.id, seq: stored?.seq, versions: stored?.versions };
                  })
                : current,
            );
          },
          () => {},
        );
      }),
    [shownId],
  );

  // An answer being written elsewhere: read the conversation again every few seconds until it is
  // done, showing the answer as stored so far (the service stores it every second as it grows).
  useEffect(() => {
    const id = props.conversationId;
    if (!watching || !id) return;
    const timer = setInterval(() => {
      void api<ConversationAnswer>(`/api/conversations/${id}`).then(
        (answer) => {
          if (latest.current.conversationId !== id || liveTurns.get(id)) return;
          setMessages((shown) => keepUnchanged(shown, answer.messages));
          if (!answer.messages.some((message) => message.status === "streaming")) setWatching(false);
        },
        () => {},
      );
    }, WATCH_INTERVAL_MS);
    return () => clearInterval(timer);
  }, [watching, props.conversationId]);

  // Focus goes back to the version buttons a switch began from (the message there is another one
  // now): the one pressed, or the other where it is off (the first or last version reached).
  // biome-ignore lint/correctness/useExhaustiveDependencies: once the switched messages are shown
  useEffect(() => {
    const focus = versionFocus.current;
    if (!focus || switching) return;
    versionFocus.current = undefined;
    const group = list.current
      ?.querySelectorAll("article.message")
      [focus.position]?.querySelector(".versions");
    const pressed = group?.querySelector<HTMLButtonElement>(`button.${focus.which}`);
    const other = group?.querySelector<HTMLButtonElement>(
      `button.${focus.which === "previous" ? "next" : "previous"}`,
    );
    (pressed && !pressed.disabled ? pressed : other)?.focus();
  }, [messages, switching]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: follow the answer as it grows
  useEffect(() => {
    const element = list.current;
    if (element && pinned.current) element.scrollTop = element.scrollHeight;
  }, [messages]);

  // Ctrl+Shift+C (⌘ on a Mac), as ChatGPT's: copies the last answer's Markdown, and says so.
  const shownMessages = useRef(messages);
  shownMessages.current = messages;
  useEffect(() => {
    const onKey = (event: globalThis.KeyboardEvent) => {
      if (event.defaultPrevented || modalDialogOpen() || shortcutOf(event, onMac()) !== "copy-last-answer")
        return;
      const last = [...shownMessages.current]
        .reverse()
        .find((message) => message.role === "assistant" && message.content);
      if (!last) return;
      event.preventDefault();
      void copyText(last.content).then((copied) => {
        if (copied) setAnnouncement(t.lastAnswerCopied);
      });
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [t]);

  // What lays out after it is shown (formulas, highlighting, diagrams, an answer rendered as it comes
  // near) grows the messages after the view went to the end: while the reader is at the end (until
  // they scroll up), the view stays there.
  // Set up once the list is shown (not while the model guidance or a not-found page stands in for
  // it): a message's element added later is observed as it comes, so a streamed token sets nothing up.
  const listShown = !notFound && (props.models.models.length > 0 || props.conversationId !== undefined);
  useEffect(() => {
    const element = list.current;
    if (!listShown || !element || typeof ResizeObserver === "undefined") return;
    const resized = new ResizeObserver(() => {
      if (pinned.current) element.scrollTop = element.scrollHeight;
    });
    resized.observe(element);
    for (const child of element.children) resized.observe(child);
    const added = new MutationObserver((records) => {
      for (const record of records)
        for (const node of record.addedNodes) if (node instanceof Element) resized.observe(node);
    });
    added.observe(element, { childList: true });
    return () => {
      added.disconnect();
      resized.disconnect();
    };
  }, [listShown]);

  /**
   * Reads the conversation as stored and shows it (an answer still being written there is watched
   * until it is done), unless the view has moved on since `mine` or this tab writes an answer there.
   */
  const showStored = (id: string, mine: number) =>
    void api<ConversationAnswer>(`/api/conversations/${id}`).then(
      (answer) => {
        if (generation.current !== mine || liveTurns.get(id)) return;
        setMessages(answer.messages);
        setWatching(answer.messages.some((message) => message.status === "streaming"));
      },
      () => {},
    );

  /**
   * Streams a turn after `base`. When nothing was taken (a refusal before the service stored
   * anything: a blocked word, a used-up quota; or no answer at all: the server cannot be reached),
   * the view is put back as it was and why is said beside the composer. When the stream broke after
   * the service took the turn, the conversation is read again as stored rather than guessed. The
   * result says whether the turn was taken (`onStarted` runs then) and whether this view still
   * shows its conversation. `continued`: the answer the turn goes on with (Continue), written into
   * rather than after `base`; one that gains nothing is left as it was, saying why.
   */
  const stream = async (
    conversationId: string,
    path: string,
    body: unknown,
    base: ChatMessage[],
    onStarted?: () => void,
    replacing?: "regenerate" | "edit",
    continued?: ChatMessage,
  ) => {
    const mine = generation.current;
    const before = messages;
    let started = false;
    /** The answer as it starts: the model asked for writes it (a continued one goes on from its text). */
    const answer: ChatMessage = continued
      ? {
          ...continued,
          status: "streaming",
          finishReason: null,
          error: null,
          errorCode: null,
          errorDetails: undefined,
          cached: undefined,
          model: continued.model ?? props.model,
        }
      : { role: "assistant", content: "", status: "streaming", model: props.model };
    /** The new answer as it stands (its last state decides whether it replaced what it was to). */
    let written = answer;
    /** Whether the stream broke after the turn was taken: the conversation is read again once it ends. */
    let broken = false;
    setSendError(undefined);
    setBoxRefused(false);
    setNotice("");
    setAnnouncement(t.answering);
    pinned.current = true;
    const abort = new AbortController();
    /** Set by Stop: the answer ends as stopped, however its stream ends. */
    let stopRequested = false;
    let stopTimer: ReturnType<typeof setTimeout> | undefined;
    // Stop asks the service to end the answer where its stream is (stored as stopped, as shown) and
    // reads the stream to its end; if the service does not answer, the stream is dropped.
    const stop = () => {
      if (stopRequested) return;
      stopRequested = true;
      if (!started) return abort.abort();
      void api<{ stopped: boolean }>(`/api/conversations/${conversationId}/stop`, {
        method: "POST",
        body: {},
      }).then(
        ({ stopped }) => {
          stopTimer = setTimeout(() => abort.abort(), stopped ? 5000 : 1500);
        },
        () => abort.abort(),
      );
    };
    // The answer lives in liveTurns while it is written: the view showing this conversation (this
    // one, or one opened later) follows it there.
    liveTurns.start(conversationId, { messages: [...base, answer], stop });
    /** Whether the turn put the conversation back as it was (a refusal, an answer that replaced nothing). */
    let restore = false;
    const update = (change: (message: ChatMessage) => ChatMessage) => {
      written = change(written);
      liveTurns.update(conversationId, (current) =>
        current.length > 0 ? [...current.slice(0, -1), change(current[current.length - 1]!)] : current,
      );
    };
    try {
      for await (const part of streamParts(path, body, abort.signal)) {
        update((message) => applyPart(message, part));
        // Bases gone since they were chosen leave the conversation's choice (the service keeps it
        // without them), and the list is read again.
        const gone = part.type === "warning" ? (part.knowledgeBaseIds ?? []) : [];
        if (gone.length > 0) {
          if (shownId() === conversationId)
            setOptions((current) => ({
              ...current,
              knowledgeBaseIds: current.knowledgeBaseIds.filter((id) => !gone.includes(id)),
            }));
          props.onKnowledgeBasesChanged();
        }
        // The new conversation appears in the list as soon as it is stored.
        if (part.type === "message-start") {
          started = true;
          onStarted?.();
          props.onChanged();
        }
      }
      // Ended with neither a finish nor an error (the connection closed on the way): not guessed at.
      broken = started && written.status === "streaming" && !stopRequested;
      update((message) =>
        message.status === "streaming"
          ? { ...message, status: stopRequested ? "stopped" : "interrupted" }
          : message,
      );
    } catch (error) {
      if (abort.signal.aborted) update((message) => ({ ...message, status: "stopped" }));
      else if (!started) {
        // Nothing stored: nothing goes into the thread (no question the service never took).
        restore = true;
        if (generation.current === mine) setSendError(error);
      } else {
        // Shown as what arrived, cut off, until the conversation as stored is read (below).
        broken = true;
        const code = errorCode(error);
        update((message) => ({
          ...message,
          status: message.content ? "interrupted" : "error",
          error: (error as Error).message,
          ...(code ? { errorCode: code } : {}),
        }));
      }
    } finally {
      // A regeneration or an edit that did not complete replaced nothing: the service kept the
      // answer (or the conversation) as it was, and so does the view, saying why.
      clearTimeout(stopTimer);
      const kept = replacing && started && written.status !== "done";
      /** A continuation that added nothing: the service left the answer as it was, and so does the view. */
      const unchanged =
        continued !== undefined &&
        started &&
        written.status !== "done" &&
        written.content === continued.content &&
        (written.reasoning ?? "") === (continued.reasoning ?? "");
      if (kept || unchanged) restore = true;
      liveTurns.end(conversationId, restore ? before : (liveTurns.get(conversationId)?.messages ?? before));
      if (broken) showStored(conversationId, mine);
      /** Why an answer that changed nothing ended, for the notices below. */
      const reason =
        answerFailureText(t, written.errorCode ?? undefined, written.error ?? "", written.errorDetails) ||
        t.interrupted;
      if (unchanged && written.status !== "stopped" && generation.current === mine)
        setNotice(fill(t.continueFailedKept, { reason }));
      if (kept && generation.current === mine) {
        const stopped = written.status === "stopped";
        setNotice(
          replacing === "regenerate"
            ? stopped
              ? t.regenerateStoppedKept
              : fill(t.regenerateFailedKept, { reason })
            : stopped
              ? t.editStoppedKept
              : fill(t.editFailedKept, { reason }),
        );
      }
      if (generation.current === mine) {
        // Focus on the Stop button (about to go) comes back to the composer once it has gone; focus
        // elsewhere is not moved (on a phone that would open the keyboard after every answer).
        refocus.current = focusLost() || document.activeElement!.matches(".composer button.stop");
        // Said once, for how it ended: complete only when it is; a stopped or failed regeneration or
        // edit is said by its notice alone.
        setAnnouncement(
          !started || kept || unchanged
            ? ""
            : written.status === "done"
              ? t.answerDone
              : written.status === "stopped"
                ? t.answerStopped
                : t.answerIncomplete,
        );
      }
      props.onChanged();
    }
    return {
      taken: started,
      shown: generation.current === mine,
      replaced: started && written.status === "done",
    };
  };

  /**
   * Makes the new chat shown, as it is shown: its system prompt, none (null) included (the service
   * would otherwise give it the user's custom instructions, which were cleared here), its knowledge
   * bases as ticked (kept with it, which it opens with), and temporary when the switch says so (then
   * deleted when left).
   */
  const createChat = async (chosen: ComposerOptions) => {
    const conversation = await api<{ id: string; title: string }>("/api/conversations", {
      method: "POST",
      body: {
        model: props.model,
        systemPrompt,
        chosenKnowledgeBaseIds: chosen.knowledgeBaseIds,
        webSearch: chosen.search,
        // Its Chat controls as set here (null: the model's default; an assistant's temperature too).
        ...controls,
        ...(temporary ? { temporary } : {}),
        // Started with an assistant: the conversation remembers it (its bases, search and temperature).
        ...(props.assistant ? { assistantId: props.assistant.id } : {}),
      },
    });
    if (props.assistant) setAssistantName(props.assistant.name);
    if (temporary) showingTemporaryChat(conversation.id);
    return conversation;
  };

  /**
   * Shows a new chat's title (heading and tab) as soon as the service has named it after its first
   * message, which it does as it takes the message: not only once the answer is written.
   */
  const showTitle = (id: string) =>
    void api<ConversationAnswer>(`/api/conversations/${id}`).then(
      (answer) => {
        if (shownId() === id) setTitle(answer.title);
      },
      () => {},
    );

  const send = async (
    text: string,
    editMessageId?: string,
    sendOptions: ComposerOptions = options,
  ): Promise<boolean> => {
    let id = props.conversationId;
    /** A conversation made for this first message: opened once the message is taken, else removed. */
    let created: string | undefined;
    if (!id) {
      try {
        const conversation = await createChat(sendOptions);
        id = conversation.id;
        // Its heading and the tab's title while the first answer is written (then its own title).
        setTitle(conversation.title);
      } catch (error) {
        setSendError(error);
        setBoxRefused(true);
        // Said why; the picker then no longer offers it (its base model stays chosen).
        if (errorCode(error) === "ASSISTANT_NOT_FOUND") props.onAssistantsChanged?.();
        return false;
      }
      created = id;
      creating.current = id;
    }
    const editIndex = editMessageId ? messages.findIndex((m) => m.id === editMessageId) : -1;
    const base = editIndex >= 0 ? messages.slice(0, editIndex) : messages;
    setReopenEdit(undefined);
    const { taken, shown, replaced } = await stream(
      id,
      `/api/conversations/${id}/messages`,
      { content: text, model: props.model, ...sendOptions, ...(editMessageId ? { editMessageId } : {}) },
      [...base, { role: "user", content: text, status: "done" }],
      created
        ? () => {
            props.onConversationCreated(created);
            showTitle(created);
          }
        : undefined,
      editMessageId ? "edit" : undefined,
    );
    if (!editMessageId && !taken && shown) setBoxRefused(true);
    // An edit that was not taken or not answered: the conversation is as it was, the edit box has
    // the text again.
    if (editMessageId && !replaced) {
      if (shown) setReopenEdit({ id: editMessageId, text });
      return taken;
    }
    if (created && !taken) {
      // A first message the service did not take (refused for a blocked word or a used-up quota,
      // stopped or cut off before it began) leaves no empty "New chat" behind.
      // Removed in the background: the composer has the text back as the reason shows.
      if (creating.current === created) creating.current = undefined;
      void api(`/api/conversations/${created}`, { method: "DELETE" })
        .catch(() => {})
        .then(props.onChanged);
    }
    // The stored ids (needed to edit the new message) are read when the turn ends (liveTurns).
    return taken;
  };

  const regenerate = async () => {
    if (!props.conversationId) return;
    const lastUser = messages.map((m) => m.role).lastIndexOf("user");
    // An answer worth keeping (the service's rule too) stays unless the new one is complete.
    const keepable = messages.slice(lastUser + 1).some((m) => m.content !== "" && m.status !== "error");
    setReopenEdit(undefined);
    await stream(
      props.conversationId,
      `/api/conversations/${props.conversationId}/regenerate`,
      { model: props.model, ...options },
      messages.slice(0, lastUser + 1),
      undefined,
      keepable ? "regenerate" : undefined,
    );
  };

  /**
   * Continue: the model goes on with the last answer from where it ends (the model that wrote it,
   * else the one picked), and the answer grows as it streams.
   */
  const continueAnswer = async () => {
    const last = messages.at(-1);
    if (!props.conversationId || !last) return;
    setReopenEdit(undefined);
    await stream(
      props.conversationId,
      `/api/conversations/${props.conversationId}/continue`,
      { model: last.model ?? props.model },
      messages.slice(0, -1),
      undefined,
      undefined,
      last,
    );
  };

  /**
   * Shows version `index` of those the message at `position` (stored at `seq`) begins: the service
   * switches and answers the conversation as it now is. A refusal (an answer being written
   * elsewhere, versions changed in another tab) is said beside the composer, and the conversation
   * is read again.
   */
  const switchVersion = async (position: number, seq: number, index: number, which: "previous" | "next") => {
    const id = props.conversationId;
    if (!id || busy || watching || switching) return;
    const mine = generation.current;
    setSwitching(true);
    setSendError(undefined);
    setBoxRefused(false);
    setNotice("");
    versionFocus.current = { position, which };
    try {
      const answer = await api<{ messages: ConversationAnswer["messages"] }>(
        `/api/conversations/${id}/versions`,
        {
          method: "POST",
          body: { seq, index },
        },
      );
      if (generation.current !== mine) return;
      setMessages(answer.messages);
    } catch (error) {
      if (generation.current !== mine) return;
      setSendError(error);
      showStored(id, mine);
    } finally {
      if (generation.current === mine) setSwitching(false);
    }
  };

  /**
   * Attaches files to the open chat; a new chat is made for them first (with its system prompt and
   * knowledge bases as shown, as its first message would make it) and opened, the draft going with it.
   */
  const attach = async (chosen: File[]) => {
    let id = props.conversationId;
    if (!id) {
      try {
        id = (await createChat(options)).id;
      } catch (error) {
        setSendError(error);
        return;
      }
      writeDraft(id, readDraft("new"));
      writeDraft("new", "");
      props.onConversationCreated(id);
      props.onChanged();
    }
    await files.attach(id, chosen);
  };

  /** Stores the open conversation's system prompt; a new chat's waits for its first message. */
  const saveSystemPrompt = async (text: string | null) => {
    const id = props.conversationId;
    if (!id) {
      setSystemPrompt(text);
      return;
    }
    const answer = await api<{ systemPrompt: string | null }>(`/api/conversations/${id}`, {
      method: "PATCH",
      body: { systemPrompt: text },
    });
    if (latest.current.conversationId !== id) return;
    setSystemPrompt(answer.systemPrompt);
    props.onChanged();
  };

  /** Stores the open conversation's Chat controls; a new chat's wait for its first message. */
  const saveControls = async (changed: ChatControls) => {
    const id = props.conversationId;
    if (!id) {
      setControls(changed);
      return;
    }
    const answer = await api<ConversationAnswer>(`/api/conversations/${id}`, {
      method: "PATCH",
      body: { ...changed },
    });
    if (latest.current.conversationId !== id) return;
    setControls(controlsOf(answer));
  };

  /**
   * Keeps the knowledge bases ticked and the web search mode chosen for a conversation with it, as
   * they are chosen, so that it opens with them on any device. Should the service not take them
   * (unreachable), they go with the next message all the same, which keeps them: nothing to tell
   * the user.
   */
  const keepChoice = (id: string, choice: { chosenKnowledgeBaseIds?: string[]; webSearch?: string }) =>
    void api(`/api/conversations/${id}`, { method: "PATCH", body: choice }).catch(() => undefined);

  /**
   * Brings the open archived conversation back to the list; focus goes to the message box (the
   * button goes with the note).
   */
  const unarchive = async () => {
    const id = props.conversationId;
    if (!id) return;
    await api(`/api/conversations/${id}`, { method: "PATCH", body: { archived: false } });
    if (latest.current.conversationId !== id) return;
    setArchivedAt(null);
    props.onChanged();
    // The banner (and its button) goes: focus goes on to the message box, and the status line says
    // what happened, as the Archived chats page's button does.
    setAnnouncement(fill(t.conversationUnarchived, { title: shownTitle ?? "" }));
    document.getElementById("message-input")?.focus();
  };

  /** "Keep this chat": the open temporary chat becomes one of the list's; focus goes to the message box. */
  const keep = async () => {
    const id = props.conversationId;
    if (!id) return;
    await api(`/api/conversations/${id}`, { method: "PATCH", body: { temporary: false } });
    keptTemporaryChat(id);
    if (latest.current.conversationId !== id) return;
    setTemporary(false);
    props.onChanged();
    setAnnouncement(t.chatKept);
    document.getElementById("message-input")?.focus();
  };

  /**
   * Stores a change of the rating of the answer `messageId` (stored at `seq`) and shows it; a
   * refusal is the caller's to show (beside the buttons).
   */
  const rate = async (messageId: string, seq: number, change: FeedbackChange) => {
    const id = props.conversationId;
    if (!id) return;
    const path = `/api/conversations/${id}/messages/${seq}/feedback`;
    const feedback = change ? await api<Feedback>(path, { method: "PUT", body: change }) : undefined;
    if (!change) await api(path, { method: "DELETE" });
    if (latest.current.conversationId !== id) return;
    setMessages((current) =>
      current.map((message) => (message.id === messageId ? { ...message, feedback } : message)),
    );
  };

  /**
   * Branch in new chat: the conversation as shown up to an answer, copied into a new chat (titled
   * in the reader's language) that opens; this one stays as it is.
   */
  const branch = async (seq: number) => {
    const id = props.conversationId;
    if (!id) return;
    try {
      const branchTitle = title ? fill(t.branchTitle, { title }).slice(0, 200) : undefined;
      const created = await api<{ id: string }>(`/api/conversations/${encodeURIComponent(id)}/branch`, {
        method: "POST",
        body: { seq, ...(branchTitle ? { title: branchTitle } : {}) },
      });
      props.onConversationCreated(created.id);
      props.onChanged();
      // As opening a conversation from the list does: the reader starts at its heading.
      focusWhenShown(`#${PAGE_HEADING}`);
    } catch (error) {
      setSendError(error);
    }
  };

  // What the messages' buttons call: looked up when clicked (MessageView is not rendered again for new callbacks).
  // The question of a link to a new chat is sent once the chat is as the link asked (its model
  // picked, temporary when asked), as Open WebUI sends it.
  useEffect(() => {
    const link = linked.current;
    if (!link?.query || props.conversationId || !props.model) return;
    if ((link.model && props.model !== link.model) || (link.temporary && !temporary)) return;
    linked.current = undefined;
    void send(link.query);
  });

  const actions = useRef({ send, regenerate, continueAnswer, switchVersion, rate, branch });
  actions.current = { send, regenerate, continueAnswer, switchVersion, rate, branch };

  /**
   * Whether a model is offered to send to: none while the model service cannot be reached (or none
   * is installed, or none is for this user). A new chat then shows why instead; a conversation
   * stays readable, only sending (edit and resend, regenerate too) paused.
   */
  const canSend = props.models.models.length > 0;
  if (!canSend && !props.conversationId) return <ModelGuidance answer={props.models} />;
  if (notFound)
    return (
      <div className="chat not-found">
        <h2 id={PAGE_HEADING} tabIndex={-1}>
          {t.conversationNotFound}
        </h2>
        <p>{t.conversationNotFoundHint}</p>
        <p>
          <button type="button" onClick={() => navigate("/")}>
            {t.newChat}
          </button>
        </p>
      </div>
    );
  const lastAssistant = messages.map((m) => m.role).lastIndexOf("assistant");
  /** The refusal of the message in the box, which it points at (see Composer). */
  const refusal =
    boxRefused && sendError && !loadError
      ? { errorId: "send-error", invalid: REFUSED_TEXT.has(errorCode(sendError) ?? "") }
      : undefined;
  return (
    <div className="chat">
      {/* Where navigating to the conversation puts focus; a screen reader's heading list starts here. */}
      <h2 id={PAGE_HEADING} className="visually-hidden" tabIndex={-1}>
        {shownTitle}
      </h2>
      {/* Screen readers hear that an answer is being written and when it is done (then read it),
          not every token, nor the whole thread each time a conversation opens. */}
      <p className="visually-hidden" role="status">
        {announcement}
      </p>
      <TemporaryChatBar
        conversationId={props.conversationId}
        temporary={temporary}
        onSwitch={setTemporary}
        onKeep={() => void keep().catch(setSendError)}
      />
      {archivedAt && (
        <div className="archived-note">
          <p>{t.conversationIsArchived}</p>
          <button type="button" onClick={() => void unarchive().catch(setSendError)}>
            {t.unarchive}
          </button>
        </div>
      )}
      {/* The assistant the chat is (or will be) started with; its bases the user may not read said. */}
      {(props.conversationId ? assistantName : props.assistant?.name) && (
        <p className="chat-assistant">
          {fill(t.chatAssistant, {
            name: (props.conversationId ? assistantName : props.assistant?.name) ?? "",
          })}
          {!props.conversationId && props.assistant && props.assistant.unavailableKnowledgeBases > 0 && (
            <span className="muted">
              {" "}
              {fill(t.assistantUnavailableBases, { n: props.assistant.unavailableKnowledgeBases })}
            </span>
          )}
        </p>
      )}
      {/* Once the conversation is loaded (a new chat at once). */}
      {(!props.conversationId || title !== undefined) && (
        <SystemPromptBar
          key={props.conversationId ?? "new"}
          value={systemPrompt}
          newChat={!props.conversationId}
          fromDefaults={
            !props.conversationId && systemPrompt !== null && systemPrompt === props.preferences.instructions
          }
          onSave={saveSystemPrompt}
        />
      )}
      {(!props.conversationId || title !== undefined) && (
        <ChatControlsBar
          key={`controls-${props.conversationId ?? "new"}`}
          value={controls}
          newChat={!props.conversationId}
          onSave={saveControls}
        />
      )}
      {!props.conversationId && instructionsOverLimit(props.preferences) && (
        <p className="muted instructions-over-limit">
          {fill(t.instructionsOverLimit, { max: props.preferences.instructionsMaxChars })}
        </p>
      )}
      <div
        className="messages"
        ref={list}
        onScroll={(event) => {
          const element = event.currentTarget;
          pinned.current = element.scrollHeight - element.scrollTop - element.clientHeight < 40;
        }}
      >
        {messages.length === 0 && !loadError && (!props.conversationId || title !== undefined) && (
          <p className="empty">{t.emptyChat}</p>
        )}
        {messages.map((message, index) => (
          <MessageView
            // A stored message by its id; one being written (no id yet) by its position.
            key={message.id ?? `new-${index}`}
            message={message}
            busy={busy || watching}
            eager={index >= messages.length - EAGER_MESSAGES}
            onEdit={
              canSend && message.role === "user" && message.id
                ? (text) => void actions.current.send(text, message.id)
                : undefined
            }
            reopenEdit={reopenEdit && reopenEdit.id === message.id ? reopenEdit : undefined}
            onRegenerate={
              canSend && index === lastAssistant && index === messages.length - 1
                ? () => void actions.current.regenerate()
                : undefined
            }
            onContinue={
              canSend && index === messages.length - 1 && isContinuable(message)
                ? () => void actions.current.continueAnswer()
                : undefined
            }
            onVersion={
              message.versions && message.seq !== undefined
                ? (chosen) =>
                    void actions.current.switchVersion(
                      index,
                      message.seq!,
                      chosen,
                      chosen < message.versions!.index ? "previous" : "next",
                    )
                : undefined
            }
            onRate={
              message.role === "assistant" && message.id && message.seq !== undefined && props.conversationId
                ? (change) => actions.current.rate(message.id!, message.seq!, change)
                : undefined
            }
            onBranch={
              message.role === "assistant" && message.seq !== undefined && props.conversationId && !temporary
                ? () => void actions.current.branch(message.seq!)
                : undefined
            }
            versionsDisabled={busy || watching || switching}
            admin={props.admin}
          />
        ))}
      </div>
      {watching && (
        <p className="muted answer-in-progress" role="status">
          {t.answerInProgress}
        </p>
      )}
      {/* A message the server never got: said so, not only that it cannot be reached. */}
      {refusal && errorCode(sendError) === "NETWORK_ERROR" ? (
        <p id={refusal.errorId} className="error-text" role="alert">
          {t.messageNotSent}
        </p>
      ) : (
        <ActionError id={refusal?.errorId} error={loadError ?? sendError} />
      )}
      {notice && (
        <p className="error-text" role="alert">
          {notice}
        </p>
      )}
      {!canSend && (
        <p className="muted sending-paused" role="status">
          {props.models.reachable ? noModelReason(t, props.models) : t.sendingPaused}
        </p>
      )}
      <Composer
        draftKey={props.conversationId ?? "new"}
        searchConfigured={searchConfigured}
        admin={props.admin}
        userName={props.userName}
        busy={busy}
        disabled={watching || !canSend}
        maxChars={props.preferences.messageMaxChars}
        knowledgeBases={props.knowledgeBases}
        options={options}
        onOptions={(next) => {
          setOptions(next);
          const id = shownId();
          // A base ticked or unticked makes a new list; a change of search mode keeps the one there.
          const bases = next.knowledgeBaseIds !== options.knowledgeBaseIds;
          const search = next.search !== options.search;
          if (id && (bases || search))
            keepChoice(id, {
              ...(bases ? { chosenKnowledgeBaseIds: next.knowledgeBaseIds } : {}),
              ...(search ? { webSearch: next.search } : {}),
            });
        }}
        onSend={(text, sendOptions) => send(text, undefined, sendOptions)}
        refusal={refusal}
        onEdit={() => setBoxRefused(false)}
        onAttach={(chosen) => void attach(chosen)}
        files={<ChatFiles files={files} />}
        onStop={() => {
          const id = shownId();
          if (id) liveTurns.get(id)?.stop();
        }}
      />
    </div>
  );
}
