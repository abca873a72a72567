import { setTimeout as delay } from "node:timers/promises";
import {
  CHAT_CONTROL_NAMES,
  type ChatControlName,
  type ChatControls,
  isTooLong,
  type KnowledgeClient,
  type SearchClient,
  textLength,
} from "@hearth/contracts";
import {
  abortOnShutdown,
  HearthError,
  isDatabaseUnreachable,
  type Logger,
  type ReplyStream,
  toHearthError,
} from "@hearth/core";
import type { CurrentUser } from "../accounts/account-store.js";
import type { Citation, ConversationStore, StoredMessage } from "../conversations/conversation-store.js";
import { groundTurn, type SearchMode, turnWarnings } from "../grounding/grounding.js";
import { answerReserve, estimateMessageTokens, fitPrompt } from "../grounding/prompt-budget.js";
import { askFitted } from "../model/context-window.js";
import type { ChatMessage, ChatStreamPart, ModelClient } from "../model/model-client.js";
import type { SettingsStore } from "../settings/settings-store.js";
import type { Admission } from "../usage/usage-meter.js";
import { storeProgressPeriodically } from "./answer-progress.js";
import { type ContentFilter, maskChatParts } from "./content-filter.js";
import type { RunningTurns } from "./running-turns.js";
import { effectiveSearch, type SearchAvailability } from "./search-availability.js";

export interface ChatTurnDeps {
  models: ModelClient;
  knowledge: KnowledgeClient;
  search: SearchClient;
  conversations: ConversationStore;
  settings: SettingsStore;
  /** The sensitive-word filter on user input and model output. */
  contentFilter: ContentFilter;
  shutdownSignal: AbortSignal;
  /** The turns answering now, stopped when their conversation is deleted. */
  turns: RunningTurns;
  /** Whether a web search engine is configured (absent: search is tried whenever asked for). */
  searchAvailability?: SearchAvailability;
  /** Where a failed write of an answer (so far, or as it ended) is logged. */
  logger: Logger;
}

export interface ChatTurnInput {
  user: CurrentUser;
  conversationId: string;
  model: string;
  /**
   * The conversation's system prompt: sent first, as a system message (the model service's presets
   * move it into the user's turn for models that want no system role, as DeepSeek-R1).
   */
  systemPrompt?: string | null;
  /**
   * The user's memories, newest first (MemoryStore.forChat: none unless they have memory on, and
   * none in a temporary chat): added to the system prompt as a block of their own, those the
   * model's context has room for (fitPrompt).
   */
  memories?: readonly string[];
  /**
   * The conversation's Chat controls (its sampling parameters, longest answer, seed and repetition
   * penalties: CHAT_CONTROL_NAMES), sent with the request; each null or absent: the model's own.
   */
  controls?: Partial<ChatControls>;
  /** The conversation so far, ending with the user's message to answer (or the answer it continues). */
  history: StoredMessage[];
  knowledgeBaseIds: string[];
  /** Bases chosen in the conversation that the user can no longer read: named in a warning. */
  goneKnowledgeBaseIds?: string[];
  search: SearchMode;
  /** A new answer was asked for (Regenerate): the model's inference cache is not used. */
  fresh?: boolean;
  /** The turn's place in the user's quota, counted at admission; the turn adds its tokens. */
  admission: Admission;
  /**
   * Regenerate and edit-and-resend: the version the messages this turn replaces were set aside as
   * (ConversationStore.setAside, resend). A complete answer leaves it a version to switch back to;
   * a new answer that fails or is stopped is removed with the turn's own message, and the version
   * put back as it was.
   */
  replaces?: { versionId: string };
  /**
   * Continue: the conversation's last answer (the end of `history`: cut off at the length limit,
   * stopped or interrupted), which the model goes on with from where it ends (the model service
   * continues a chat's last assistant message). The turn writes into it rather than a new message,
   * keeping its sources (give it no knowledge bases and no search: it is not grounded again). A
   * continuation that adds nothing (it failed, or was stopped, before its first word) leaves the
   * answer as it was.
   */
  continues?: StoredMessage;
}

/**
 * The model request's parameters of a conversation's Chat controls: those set (null: the model's
 * own, left out). A longest answer at or past the model's whole context (`contextTokens`, when
 * known) is left out too: the model service refuses such a max_tokens (CONTEXT_OVERFLOW), and
 * without one the answer runs to the room the prompt leaves, all that cap could have given.
 */
function modelParameters(
  controls: Partial<ChatControls> | undefined,
  contextTokens?: number,
): Partial<Record<ChatControlName, number>> {
  const parameters: Partial<Record<ChatControlName, number>> = {};
  for (const name of CHAT_CONTROL_NAMES) {
    const value = controls?.[name];
    if (typeof value === "number") parameters[name] = value;
  }
  const maxTokens = parameters.maxTokens;
  if (maxTokens !== undefined && contextTokens !== undefined && maxTokens >= contextTokens)
    delete parameters.maxTokens;
  return parameters;
}

/**
 * Answers the last user message of a conversation into `stream` (or goes on with its last answer:
 * `continues`): grounding (knowledge, search), the model's streamed answer, output filtering, and
 * the stored assistant message, which holds what was sent so far while it streams (stored every
 * second) and in the end is kept with what was sent, marked interrupted when the client leaves or
 * the model fails, stopped when the user stopped it (the stop route).
 */
export async function runChatTurn(
  deps: ChatTurnDeps,
  input: ChatTurnInput,
  stream: ReplyStream,
): Promise<void> {
  const upstream = new AbortController();
  const abort = () => upstream.abort(new Error("stopped"));
  stream.signal.addEventListener("abort", abort, { once: true });
  const forget = abortOnShutdown(deps.shutdownSignal, { abort });
  // Deleting the conversation stops its answer: the model's generation, then this stream.
  // Stop (the user's, through the stop route) ends it too, stored as stopped rather than interrupted.
  let deleted = false;
  let stopped = false;
  const untrack = deps.turns.track(input.conversationId, (reason) => {
    if (reason === "stopped") stopped = true;
    else deleted = true;
    upstream.abort(new Error(reason === "stopped" ? "stopped" : "conversation deleted"));
  });
  const continued = input.continues;
  const assistant = await (continued
    ? deps.conversations.resume(input.conversationId, continued, input.model).then(() => continued)
    : deps.conversations.append(input.conversationId, {
        role: "assistant",
        content: "",
        status: "streaming",
        model: input.model,
      })
  ).catch(async (caught: unknown) => {
    // No answer begun: what it was to replace is put back (it stays a version should that fail too).
    untrack();
    forget();
    if (input.replaces)
      await deps.conversations.restoreVersion(input.conversationId, input.replaces.versionId).catch(() => {});
    throw caught;
  });
  await stream.send({ type: "message-start", messageId: assistant.id, conversationId: input.conversationId });

  /**
   * The answer and the reasoning as the user saw them (masked by the output filter when it is on),
   * written by this turn: a continued answer's text goes before them.
   */
  let content = "";
  let reasoning = "";
  const before = { content: continued?.content ?? "", reasoning: continued?.reasoning ?? "" };
  /** A continued answer keeps the sources it cites. */
  let citations: Citation[] = continued?.citations ?? [];
  let status: "done" | "interrupted" | "error" = "interrupted";
  /** Whether the stream to the user is over (stopped, closed, deleted): nothing more is kept from then. */
  const over = () => upstream.signal.aborted || stream.ended;
  let error: { code: string; message: string } | null = null;
  let usage = { promptTokens: 0, completionTokens: 0 };
  /** The model's finish, sent to the client once the answer is stored. */
  let finish: Extract<ChatStreamPart, { type: "finish" }> | undefined;
  /** The estimated tokens of the prompt sent, to compare with what the model reports. */
  let estimatedPrompt = 0;
  /** The system prompt sent (the conversation's, with the memories that fit), once the prompt is fitted. */
  let systemPrompt = input.systemPrompt ?? undefined;
  const maskers = await deps.contentFilter.outputMaskers();
  const progress = storeProgressPeriodically(
    () => ({ content: before.content + content, reasoning: before.reasoning + reasoning, citations }),
    async (soFar) => {
      // A Stop sent to a process that could not tell this one (the peer bus's notice lost).
      const { stopRequested } = await deps.conversations.saveProgress(assistant.id, soFar);
      if (stopRequested) deps.turns.stop(input.conversationId, "stopped", true);
    },
    deps.logger,
  );

  try {
    const last = input.history[input.history.length - 1];
    const searching = await effectiveSearch(deps.searchAvailability, input.search);
    const grounding = await groundTurn(
      {
        query: last?.content ?? "",
        model: input.model,
        knowledgeBaseIds: input.knowledgeBaseIds,
        goneKnowledgeBaseIds: input.goneKnowledgeBaseIds,
        search: searching.search,
        user: input.user.id,
        signal: upstream.signal,
      },
      {
        knowledge: deps.knowledge,
        search: deps.search,
        model: deps.models,
        contentFilter: deps.contentFilter,
      },
    );
    // Earlier reasoning is not sent back to the model (DeepSeek-R1 guidance); only answers are.
    // The prompt is sized to the model's context: the sources that fit, then the recent history.
    const windows = deps.models.windows;
    const contextTokens = await windows.contextTokens(input.model);
    // The conversation's system prompt comes first and is always sent, with the memories that fit
    // (fitPrompt); the sources' system message, when there are sources, goes before it.
    const history: ChatMessage[] = input.history
      .filter((m) => m.status !== "error" && m.content !== "")
      .map((m): ChatMessage => ({ role: m.role, content: m.content }));
    const { prompt, answer: parts } = await askFitted(
      windows,
      input.model,
      () =>
        fitPrompt({
          messages: history,
          systemPrompt: input.systemPrompt,
          memories: input.memories,
          sources: grounding.sources,
          size: (m) => estimateMessageTokens(m.content),
          contextTokens,
          // A shorter answer asked for (Chat controls) leaves more room for sources and history.
          answerTokens: answerReserve(contextTokens, input.controls?.maxTokens),
          scale: windows.scale(input.model),
        }),
      async (fitted) => {
        // A token limit bounds the answer: the longest answer asked for, or less.
        const maxTokens = await input.admission.answerTokens({
          promptTokens: fitted.estimatedTokens,
          asked: input.controls?.maxTokens ?? undefined,
          contextTokens,
        });
        return deps.models.streamChat({
          model: input.model,
          user: input.user.id,
          messages: fitted.messages,
          ...modelParameters({ ...input.controls, maxTokens }, contextTokens),
          bypassCache: input.fresh,
          signal: upstream.signal,
        });
      },
    );
    estimatedPrompt = prompt.estimatedTokens;
    systemPrompt = prompt.systemPrompt;
    // Only the sources the model is given are cited, numbered as it sees them.
    if (!continued) citations = prompt.citations;
    if (citations.length > 0 || grounding.searchQueries.length > 0) {
      await stream.send({ type: "sources", citations, searchQueries: grounding.searchQueries });
    }
    // With their fields: the page drops the bases named gone from the conversation's choice, and
    // says why web search failed and what the context had no room for.
    for (const warning of turnWarnings(searching.warnings, grounding, prompt))
      await stream.send({ type: "warning", ...warning });
    for await (const part of maskChatParts(parts, maskers)) {
      // What arrives after the user stopped or left was never shown: the stored answer ends where
      // the stream to them did.
      if (over()) break;
      if (part.type === "text-delta") content += part.text;
      else if (part.type === "reasoning-delta") reasoning += part.text;
      else if (part.type === "finish") {
        if (part.usage) {
          usage = part.usage;
          deps.models.windows.noteUsage(input.model, estimatedPrompt, part.usage.promptTokens);
        }
        status = "done";
        // Sent once the answer it ends is stored (below).
        finish = part;
        continue;
      }
      await stream.send(part);
    }
  } catch (caught) {
    // A prompt refused mid-stream as too long (it waited in the queue first) teaches the next turn.
    deps.models.windows.learnFromOverflow(input.model, estimatedPrompt, caught);
    if (!upstream.signal.aborted) {
      const failure = toHearthError(caught);
      // Nothing answered, by the service's fault (the model service down or too busy): not counted.
      if (!content && !reasoning) await input.admission.failed(failure.status);
      // A continued answer that fails keeps its text: interrupted, not failed.
      status = before.content + content ? "interrupted" : "error";
      error = { code: failure.code, message: failure.message };
      // With its details, as the error's JSON answer has them: a used-up quota says when it resets,
      // or that the prompt alone is past the limit (reason "prompt-too-long"), so the page says so.
      await stream.send({
        type: "error",
        code: failure.code,
        message: failure.message,
        ...(failure.details ? { details: failure.details } : {}),
      });
    }
  } finally {
    try {
      // No write of the answer so far comes after its final one (below).
      await progress.stop();
      stream.signal.removeEventListener("abort", abort);
      forget();
      untrack();
      if (deleted)
        await stream.send({
          type: "error",
          code: "CONVERSATION_NOT_FOUND",
          message: "The conversation was deleted while it was answered",
        });
      // An answer cut short by the service stopping says so, as /v1/chat/completions does: no client
      // takes it for whole, and the stored message keeps the code.
      else if (deps.shutdownSignal.aborted && status !== "done" && !error) {
        error = { code: "SERVICE_NOT_READY", message: "The service is shutting down" };
        await stream.send({ type: "error", ...error });
      }
      // What was shown, and, when the model broke off (not the user), the masked rest of what arrived.
      const cut = upstream.signal.aborted;
      const final: Parameters<ConversationStore["finishMessage"]>[1] = {
        content: before.content + content + (cut ? "" : (maskers?.content.flush() ?? "")),
        reasoning: before.reasoning + reasoning + (cut ? "" : (maskers?.reasoning.flush() ?? "")),
        status: stopped && status !== "done" ? "stopped" : status,
        citations,
        error: error?.message ?? null,
        errorCode: error?.code ?? null,
        // Kept for a done answer: one cut off at the length limit is said to be after a reload too.
        finishReason: status === "done" ? (finish?.finishReason ?? null) : null,
      };
      const storeFailure = await storeFinalAnswer(deps.logger, assistant.id, async () => {
        if (continued && status !== "done" && !content && !reasoning)
          await deps.conversations.putBack(continued);
        else await deps.conversations.finishMessage(assistant.id, final);
        if (input.replaces && status !== "done")
          await deps.conversations.restoreVersion(input.conversationId, input.replaces.versionId);
      });
      // The finish goes out once the answer it ends is stored (a failed one's version put back). When
      // it could not be, the client is told so instead: the answer stays as last stored, streaming,
      // until the abandoned-answer sweep marks it interrupted.
      if (storeFailure)
        await stream.send({ type: "error", code: storeFailure.code, message: storeFailure.message });
      else if (finish) await stream.send(finish);
    } finally {
      try {
        await input.admission.settle(
          usageOrEstimate(
            usage,
            [...(systemPrompt ? [systemPrompt] : []), ...input.history.map((m) => m.content)],
            content + reasoning,
          ),
        );
      } finally {
        stream.end();
      }
    }
  }
}

/**
 * How long an answer's final store is tried while the database cannot be reached (a failover, a
 * restart), waiting twice as long between tries from FIRST_RETRY_MS: well inside ANSWER_SILENCE_MS.
 */
const FINAL_STORE_PATIENCE_MS = 10_000;
const FIRST_RETRY_MS = 500;

/**
 * Stores an answer as it ends (`store`: its final write, and the putting back of what a failed one
 * was to replace, both safe to repeat), tried again while the database cannot be reached; the
 * failure when it could not be stored (DATABASE_UNAVAILABLE once FINAL_STORE_PATIENCE_MS ran out),
 * logged, else undefined.
 */
async function storeFinalAnswer(
  logger: Logger,
  messageId: string,
  store: () => Promise<void>,
): Promise<HearthError | undefined> {
  const giveUpAt = Date.now() + FINAL_STORE_PATIENCE_MS;
  for (let wait = FIRST_RETRY_MS; ; wait *= 2) {
    try {
      await store();
      return undefined;
    } catch (caught) {
      if (!isDatabaseUnreachable(caught) || Date.now() + wait > giveUpAt) {
        logger.error(
          { reason: (caught as { code?: string }).code ?? (caught as Error).message, messageId },
          "could not store an answer as it ended; the client is told it was not kept",
        );
        return toHearthError(caught);
      }
      await delay(wait);
    }
  }
}

/**
 * Refuses (413 MESSAGE_TOO_LONG) when any of a request's message texts is over `limit` characters,
 * counted as every text limit of Hearth is (`@hearth/contracts`' textLength: UTF-16 code units);
 * its details say the limit (`maxChars`) and the length of the text refused (`chars`), and, where
 * `fieldOf` names it by its place among `texts`, its field (`field`: `messages.0.content`, which
 * the OpenAI-shaped answer of /v1 gives as `param`).
 */
export function assertMessageLengths(
  texts: Iterable<string>,
  limit: number,
  fieldOf?: (at: number) => string,
): void {
  let at = 0;
  for (const text of texts) {
    if (isTooLong(text, limit))
      throw new HearthError(
        "MESSAGE_TOO_LONG",
        `A message may have at most ${limit} characters; this one has ${textLength(text)}`,
        { details: { maxChars: limit, chars: textLength(text), ...(fieldOf ? { field: fieldOf(at) } : {}) } },
      );
    at++;
  }
}

/** Characters of text, and how many of them are wide (U+0800 and above: Chinese, Japanese, Korean...). */
export interface TextSize {
  chars: number;
  wide: number;
}

/** The size of a text as the token estimate reads it (a surrogate pair is one wide character). */
export function textSize(text: string): TextSize {
  let chars = 0;
  let wide = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0xdc00 && code <= 0xdfff) continue;
    chars++;
    if (code >= 0x800) wide++;
  }
  return { chars, wide };
}

/**
 * Tokens estimated from a text's size: about four characters a token for alphabetic text, one a
 * token for wide characters (a Chinese character is one to two tokens in the models we serve), so
 * that an estimate never lets Chinese text through a quota at a quarter of its cost.
 */
export function estimateTokens(size: TextSize): number {
  return Math.ceil((size.chars - size.wide) / 4) + size.wide;
}

/**
 * The usage the model reported or, when it reported none (a stream the client stopped or that
 * broke off, an upstream that does not say), an estimate (estimateTokens): the prompt's messages,
 * and what was sent of the answer and reasoning (its text, or its size where only that was counted:
 * a relayed stream, StreamedTextCounter).
 */
export function usageOrEstimate(
  reported: { promptTokens: number; completionTokens: number } | undefined,
  promptTexts: readonly string[],
  sent: string | TextSize,
): { promptTokens: number; completionTokens: number } {
  if (reported && (reported.promptTokens > 0 || reported.completionTokens > 0)) return reported;
  return {
    promptTokens: estimateTokens(textSize(promptTexts.join(""))),
    completionTokens: estimateTokens(typeof sent === "string" ? textSize(sent) : sent),
  };
}
