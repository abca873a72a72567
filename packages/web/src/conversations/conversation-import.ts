import { CHAT_CONTROL_NAMES, CHAT_CONTROL_WIRE_NAMES, type ChatControls, isTooLong } from "@hearth/contracts";
import { HearthError, isDataRefused } from "@hearth/core";
import { z } from "zod";
import type { ContentFilter } from "../chat/content-filter.js";
import { firstCodePoints } from "../text/first-code-points.js";
import { controlsReadFrom } from "./chat-controls-schema.js";
import {
  type Citation,
  type ConversationAssistant,
  ConversationStore,
  type StoredConversation,
  systemPromptMaxChars,
  titleFromMessage,
  type WebSearchMode,
} from "./conversation-store.js";
import { FOLDER_NAME_MAX_CHARS, FolderStore } from "./folder-store.js";

/**
 * Conversation import (POST /api/conversations/import): a file's JSON, in one of the formats below,
 * told apart by its shape, becomes conversations of the caller's own (new ids; the file's ids,
 * owners and users are never read). Every conversation of the file is read before anything is
 * stored; each is then stored whole or not at all. An imported conversation may be shared or
 * continued, so it is held to the sensitive-word filter as what is typed and generated here is
 * (content-filter.ts): one whose title, folder name, user message or system prompt holds a word the
 * input filter refuses is skipped ("content-blocked"); its answers (text, reasoning, citations'
 * titles and snippets) get the output filter's masking; the hits count as a message's. Every turn
 * of the conversation still checks what of it goes to the model (conversation-routes.ts), words
 * added to the lists since included.
 */

/** The formats an import reads. */
export type ImportFormat = "hearth" | "chatgpt" | "open-webui";

/**
 * Why one conversation of a file was not imported: nothing with text in it, not in the shape of the
 * file's format, a message (or its system prompt) over the length a message may have, its title,
 * folder name, a user message or its system prompt holding a word the input filter refuses (as it
 * would be typed here: CONTENT_BLOCKED), or data the database refused to store (a value it cannot hold).
 */
export type SkipReason = "empty" | "unreadable" | "message-too-long" | "content-blocked" | "unstorable";

/** What of the web service's sensitive-word filter an import holds its conversations to. */
export type ImportFilter = Pick<ContentFilter, "checkFields" | "checkInputs" | "maskOutput">;

/** What an import answers: the format read, the conversations made, those skipped and why. */
export interface ImportResult {
  format: ImportFormat;
  imported: number;
  skipped: number;
  conversations: Array<{ id: string; title: string }>;
  /** `index`: the conversation's place in the file (from 0); `title`: its title there, if any. */
  skippedConversations: Array<{ index: number; title: string | null; reason: SkipReason }>;
}

/** A message as it will be stored. */
export interface MessageToStore {
  role: "user" | "assistant";
  content: string;
  reasoning: string | null;
  model: string | null;
  status: "done" | "stopped" | "interrupted";
  citations: Citation[];
  /**
   * Why the model ended a done answer, where the copy or file says it ("length": cut off at the
   * length limit, which the answer goes on saying); null or absent for any other message.
   */
  finishReason?: string | null;
  /** ISO, or null where the file gives no time. */
  createdAt: string | null;
}

/** A conversation as a file (or a share's snapshot) has it, read into what will be stored. */
export interface ConversationToStore {
  title: string;
  model: string | null;
  systemPrompt: string | null;
  createdAt: string | null;
  messages: MessageToStore[];
  /** The name of the folder it was in (Hearth's export): it goes into the user's folder of that name. */
  folder?: string | null;
  /** Its Chat controls (model parameters) where the file gives them: those in range are kept. */
  controls?: Partial<ChatControls>;
  /** The assistant it was started with and what it took from it (a branch keeps its source's). */
  assistant?: ConversationAssistant;
  /** The knowledge bases the user chose for it (a branch keeps its source's choice). */
  chosenKnowledgeBaseIds?: string[] | null;
  /** Its web search mode as chosen (a branch keeps its source's). */
  webSearch?: WebSearchMode | null;
}

/** A conversation that is not in the shape of the file's format. */
class Unreadable extends Error {}

/** How one format is recognised and read. */
interface Parser {
  /** Whether an item of the file has this format's shape (its distinguishing field). */
  recognizes(item: Record<string, unknown>): boolean;
  /** The item read (throws Unreadable, or zod's error, for one that is not in the shape). */
  read(item: unknown): ConversationToStore;
}

/**
 * A time as stored (ISO, UTC): an ISO string, or a Unix time in seconds (ChatGPT, Open WebUI), or in
 * milliseconds, microseconds or nanoseconds (told apart by size); null for none or nonsense.
 */
function isoTime(value: unknown): string | null {
  let ms: number | undefined;
  if (typeof value === "string") ms = Date.parse(value);
  else if (typeof value === "number" && Number.isFinite(value) && value > 0)
    ms = value >= 1e17 ? value / 1e6 : value >= 1e14 ? value / 1e3 : value >= 1e11 ? value : value * 1000;
  if (ms === undefined || !Number.isFinite(ms)) return null;
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** A title on one line, at most 200 whole characters; "" for none. */
function cleanTitle(title: unknown): string {
  return typeof title === "string" ? firstCodePoints(title.replace(/\s+/g, " ").trim(), 200) : "";
}

/**
 * The messages from a tree's root to `leaf`, each node naming its parent under `parentKey`: the
 * branch shown when the file was written. A parent the tree lacks ends it there; a loop is unreadable.
 */
function branch(nodes: Record<string, unknown>, leaf: string, parentKey: string): unknown[] {
  const path: unknown[] = [];
  const seen = new Set<string>();
  for (let id: unknown = leaf; typeof id === "string" && Object.hasOwn(nodes, id); ) {
    if (seen.has(id)) throw new Unreadable("the message tree loops");
    seen.add(id);
    const node = nodes[id];
    path.push(node);
    id = node && typeof node === "object" ? (node as Record<string, unknown>)[parentKey] : undefined;
  }
  return path.reverse();
}

const citationSchema = z.object({
  n: z.number().int().positive(),
  kind: z.enum(["document", "web"]),
  title: z.string(),
  url: z.string(),
  snippet: z.string().nullish(),
});

/** A knowledge document's file as Hearth links it (grounding.ts), a PDF's cited page after it. */
const DOCUMENT_FILE_PATH = /^\/api\/knowledge-bases\/[^/]+\/documents\/[^/]+\/file$/;

/**
 * A citation as this site keeps it: a knowledge document's link (Hearth's JSON export writes it
 * absolute, with the exporting site's origin) is read back as the site's own path, whatever its
 * origin, as the original answer stored it, so the page opens its passage in place; a base or
 * document this site does not have (or the user may not read) is then said so there, as for a
 * deleted one. Any other link, a web page's above all, is kept as written.
 */
function siteCitation(citation: Citation): Citation {
  if (citation.kind !== "document") return citation;
  let url: URL;
  try {
    url = new URL(citation.url, "http://hearth.invalid");
  } catch {
    return citation;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return citation;
  if (!DOCUMENT_FILE_PATH.test(url.pathname) || url.search !== "" || !/^(#page=\d+)?$/.test(url.hash))
    return citation;
  return { ...citation, url: `${url.pathname}${url.hash}` };
}

/**
 * A Hearth message's status as imported: a user message is done; an answer that failed, or was
 * being written when exported, is an interrupted one here; one the file gives no status is done.
 */
export function importedStatus(
  role: "user" | "assistant",
  status: "done" | "streaming" | "stopped" | "interrupted" | "error" | null | undefined,
): MessageToStore["status"] {
  if (role === "user" || status === undefined || status === null || status === "done") return "done";
  return status === "stopped" ? "stopped" : "interrupted";
}

/**
 * Why the model ended a message, as a copy keeps it (a branch, a share, an import of Hearth's
 * export): a done answer's reason, so that one cut off at the length limit still says so; null for
 * any other.
 */
export function importedFinishReason(message: {
  role: "user" | "assistant";
  status?: string | null;
  finishReason?: string | null;
}): string | null {
  return message.role === "assistant" && message.status === "done" ? (message.finishReason ?? null) : null;
}

/** A folder's name as a file gives it, where it is one a folder may have (else none: unfiled). */
function folderName(name: string | null | undefined): string | null {
  const trimmed = name?.trim();
  return trimmed && trimmed.length <= FOLDER_NAME_MAX_CHARS ? trimmed : null;
}

/** Hearth's own JSON export (GET /api/conversations/{id}/export?format=json), or an array of them. */
const hearth: Parser = {
  recognizes: (item) => Array.isArray(item.messages),
  read(item) {
    // Loose: its Chat controls, by their names (CHAT_CONTROL_NAMES), are read from what it keeps.
    const conversation = z
      .looseObject({
        title: z.string().nullish(),
        model: z.string().nullish(),
        systemPrompt: z.string().nullish(),
        createdAt: z.string().nullish(),
        folder: z.string().nullish(),
        messages: z.array(
          z.object({
            role: z.enum(["user", "assistant"]),
            content: z.string(),
            reasoning: z.string().nullish(),
            status: z.enum(["done", "streaming", "stopped", "interrupted", "error"]).nullish(),
            // A file from before it was exported, or edited into something else: none.
            finishReason: z.string().max(40).nullish().catch(null),
            model: z.string().nullish(),
            citations: z.array(citationSchema).nullish(),
            createdAt: z.string().nullish(),
          }),
        ),
      })
      .parse(item);
    return {
      title: cleanTitle(conversation.title),
      model: conversation.model ?? null,
      systemPrompt: conversation.systemPrompt ?? null,
      createdAt: isoTime(conversation.createdAt),
      folder: folderName(conversation.folder),
      controls: controlsReadFrom(conversation),
      messages: conversation.messages.map((message) => ({
        role: message.role,
        content: message.content,
        reasoning: message.reasoning || null,
        model: message.model ?? null,
        status: importedStatus(message.role, message.status),
        finishReason: importedFinishReason(message),
        citations: (message.citations ?? []).map(({ snippet, ...citation }) =>
          siteCitation(snippet ? { ...citation, snippet } : citation),
        ),
        createdAt: isoTime(message.createdAt),
      })),
    };
  },
};

/** A message of ChatGPT's export, where it is one worth reading (others are skipped). */
const chatgptMessageSchema = z.object({
  author: z.object({ role: z.string() }),
  content: z.object({ content_type: z.string(), parts: z.array(z.unknown()).nullish() }),
  create_time: z.number().nullish().catch(null),
  recipient: z.string().nullish().catch(null),
  metadata: z
    .object({
      model_slug: z.string().nullish().catch(null),
      is_visually_hidden_from_conversation: z.boolean().nullish().catch(null),
    })
    .nullish()
    .catch(null),
});

/**
 * ChatGPT's data export, conversations.json: the thread shown (from `current_node` back to the
 * root; without one, from the root along the latest reply each time), its user and assistant
 * messages' text parts only: system, tool and hidden messages, an assistant's calls to tools
 * (`recipient` other than "all"), images, code runs and browsing are left out.
 */
const chatgpt: Parser = {
  recognizes: (item) => typeof item.mapping === "object" && item.mapping !== null,
  read(item) {
    const conversation = z
      .object({
        title: z.string().nullish(),
        create_time: z.number().nullish().catch(null),
        current_node: z.string().nullish(),
        default_model_slug: z.string().nullish().catch(null),
        mapping: z.record(
          z.string(),
          z.object({ parent: z.string().nullish(), children: z.array(z.string()).nullish().catch(null) }),
        ),
      })
      .parse(item);
    const nodes = (item as { mapping: Record<string, Record<string, unknown>> }).mapping;
    let leaf = conversation.current_node;
    if (!leaf || !Object.hasOwn(nodes, leaf)) {
      // The root, then the latest reply to each message in turn.
      const ids = Object.keys(conversation.mapping);
      leaf = ids.find((id) => {
        const parent = conversation.mapping[id]!.parent;
        return !parent || !Object.hasOwn(nodes, parent);
      });
      const seen = new Set<string>();
      while (leaf && !seen.has(leaf)) {
        seen.add(leaf);
        const next: string | undefined = conversation.mapping[leaf]!.children?.findLast((id) =>
          Object.hasOwn(nodes, id),
        );
        if (!next) break;
        leaf = next;
      }
    }
    if (!leaf) throw new Unreadable("no messages");
    const messages: MessageToStore[] = [];
    for (const node of branch(nodes, leaf, "parent")) {
      const parsed = chatgptMessageSchema.safeParse((node as { message?: unknown }).message);
      if (!parsed.success) continue;
      const message = parsed.data;
      const role = message.author.role;
      if (role !== "user" && role !== "assistant") continue;
      if (!["text", "multimodal_text"].includes(message.content.content_type)) continue;
      if (message.metadata?.is_visually_hidden_from_conversation) continue;
      if (message.recipient && message.recipient !== "all") continue;
      const content = (message.content.parts ?? [])
        .filter((part): part is string => typeof part === "string" && part.trim() !== "")
        .join("\n\n");
      messages.push({
        role,
        content,
        reasoning: null,
        model: role === "assistant" ? (message.metadata?.model_slug ?? null) : null,
        status: "done",
        citations: [],
        createdAt: isoTime(message.create_time),
      });
    }
    return {
      title: cleanTitle(conversation.title),
      model: conversation.default_model_slug ?? null,
      systemPrompt: null,
      createdAt: isoTime(conversation.create_time),
      messages,
    };
  },
};

const openWebUiMessageSchema = z.object({
  role: z.string(),
  content: z.unknown(),
  timestamp: z.number().nullish().catch(null),
  model: z.string().nullish().catch(null),
});

/**
 * Open WebUI's chat export (Settings → Chats → Export, or a chat's download as JSON): the branch
 * shown (history.currentId back to the root) when the chat has one, else chat.messages; the chat's
 * own system prompt (params.system) kept, and those of its Advanced Params that Hearth has as Chat
 * controls (temperature, top_p, top_k, min_p, max_tokens, seed, frequency_penalty, presence_penalty,
 * repeat_penalty: CHAT_CONTROL_WIRE_NAMES) as its own.
 */
const openWebUi: Parser = {
  recognizes: (item) => typeof item.chat === "object" && item.chat !== null,
  read(item) {
    const { title, created_at, chat } = z
      .object({
        title: z.string().nullish(),
        created_at: z.union([z.number(), z.string()]).nullish().catch(null),
        chat: z.object({
          title: z.string().nullish().catch(null),
          models: z.array(z.string()).nullish().catch(null),
          system: z.string().nullish().catch(null),
          params: z.looseObject({ system: z.string().nullish() }).nullish().catch(null),
          timestamp: z.number().nullish().catch(null),
          messages: z.array(z.unknown()).nullish(),
          history: z
            .object({ currentId: z.string().nullish(), messages: z.record(z.string(), z.unknown()) })
            .nullish(),
        }),
      })
      .parse(item);
    const currentId = chat.history?.currentId;
    const listed =
      chat.history && currentId && Object.hasOwn(chat.history.messages, currentId)
        ? branch(chat.history.messages, currentId, "parentId")
        : chat.messages;
    if (!listed) throw new Unreadable("no messages");
    const messages: MessageToStore[] = [];
    for (const entry of listed) {
      const message = openWebUiMessageSchema.parse(entry);
      if (message.role !== "user" && message.role !== "assistant") continue;
      if (typeof message.content !== "string") continue;
      messages.push({
        role: message.role,
        content: message.content,
        reasoning: null,
        model: message.role === "assistant" ? (message.model ?? null) : null,
        status: "done",
        citations: [],
        createdAt: isoTime(message.timestamp),
      });
    }
    return {
      title: cleanTitle(title ?? chat.title),
      model: chat.models?.[0] ?? null,
      systemPrompt: chat.params?.system ?? chat.system ?? null,
      createdAt: isoTime(created_at ?? chat.timestamp),
      messages,
      // Its Advanced Params, those Hearth has (mirostat, num_ctx and the rest are left out).
      controls: controlsReadFrom(
        Object.fromEntries(
          CHAT_CONTROL_NAMES.map((name) => [name, chat.params?.[CHAT_CONTROL_WIRE_NAMES[name]]]),
        ),
      ),
    };
  },
};

const PARSERS: Record<ImportFormat, Parser> = { hearth, chatgpt, "open-webui": openWebUi };

/** Whether a value is a JSON object (not an array, not null). */
function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The conversations of a file (one, or an array of them) and their format: the format of the first
 * one any format recognises (422 IMPORT_FORMAT_UNKNOWN when none does).
 */
function detectFormat(body: unknown): { format: ImportFormat; items: unknown[] } {
  const items = Array.isArray(body) ? body : [body];
  for (const item of items) {
    if (!isObject(item)) continue;
    // The most particular shape first: ChatGPT's tree, then Open WebUI's chat, then Hearth's list.
    for (const format of ["chatgpt", "open-webui", "hearth"] as const)
      if (PARSERS[format].recognizes(item)) return { format, items };
  }
  throw new HearthError(
    "IMPORT_FORMAT_UNKNOWN",
    "The file is not a conversation export Hearth reads: Hearth's JSON export, ChatGPT's conversations.json or Open WebUI's chat export",
  );
}

/** The conversation read, without its messages that have no text; or why it is skipped. */
function readOne(
  parser: Parser,
  item: unknown,
  maxMessageChars: number,
): { conversation: ConversationToStore } | { reason: SkipReason } {
  let conversation: ConversationToStore;
  try {
    conversation = parser.read(item);
  } catch (caught) {
    if (caught instanceof Unreadable || caught instanceof z.ZodError) return { reason: "unreadable" };
    throw caught;
  }
  const messages = conversation.messages.filter((message) => message.content.trim() !== "");
  if (messages.length === 0) return { reason: "empty" };
  const systemPrompt = conversation.systemPrompt?.trim() || null;
  if (
    messages.some((message) => isTooLong(message.content, maxMessageChars)) ||
    (systemPrompt && isTooLong(systemPrompt, systemPromptMaxChars(maxMessageChars)))
  )
    return { reason: "message-too-long" };
  return { conversation: { ...conversation, systemPrompt, messages } };
}

/**
 * The conversation held to the sensitive-word filter as what is typed and generated here is; or
 * "content-blocked" where the input filter refuses its title (the file's: one made from its first
 * user message is checked with it), its folder's name, a user message or its system prompt. Its
 * answers are masked as a generated one is: text, reasoning, and its citations' titles and snippets.
 * With the filter off for input or output, that side is left as it was.
 */
async function filtered(
  filter: ImportFilter,
  conversation: ConversationToStore,
): Promise<{ conversation: ConversationToStore } | { reason: SkipReason }> {
  try {
    await filter.checkFields({ title: conversation.title || null, folder: conversation.folder });
    await filter.checkInputs([
      ...(conversation.systemPrompt ? [conversation.systemPrompt] : []),
      ...conversation.messages.filter((message) => message.role === "user").map((message) => message.content),
    ]);
  } catch (caught) {
    if (caught instanceof HearthError && caught.code === "CONTENT_BLOCKED")
      return { reason: "content-blocked" };
    throw caught;
  }
  const shown = (text: string) => filter.maskOutput(text);
  const messages: MessageToStore[] = [];
  for (const message of conversation.messages) {
    if (message.role !== "assistant") {
      messages.push(message);
      continue;
    }
    const citations: Citation[] = [];
    for (const citation of message.citations)
      citations.push({
        ...citation,
        title: await shown(citation.title),
        ...(citation.snippet ? { snippet: await shown(citation.snippet) } : {}),
      });
    messages.push({
      ...message,
      content: await shown(message.content),
      reasoning: message.reasoning === null ? null : await shown(message.reasoning),
      citations,
    });
  }
  return { conversation: { ...conversation, messages } };
}

/**
 * Stores a conversation as the user's own, in a transaction (whole or not at all), with its title
 * (or its first message's, as a new chat takes), messages in order, roles, model names, reasoning,
 * citations, system prompt, Chat controls, chosen knowledge bases and times as given. A message
 * without a time takes the one before it (the conversation's for the first; now where there is
 * none). One that names a folder goes into the user's folder of that name (compared folded), made
 * first when they have none. An import's conversations, and a share's snapshot continued by its
 * reader (share-routes.ts).
 */
export async function storeConversation(
  store: ConversationStore,
  userId: string,
  conversation: ConversationToStore,
): Promise<StoredConversation> {
  const first = conversation.messages[0];
  const createdAt = conversation.createdAt ?? first?.createdAt ?? new Date().toISOString();
  const title =
    conversation.title ||
    (first ? titleFromMessage((conversation.messages.find((m) => m.role === "user") ?? first).content) : "");
  const folderId = conversation.folder
    ? await new FolderStore(store.db).findOrCreate(userId, conversation.folder)
    : null;
  return store.db.transaction().execute(async (trx) => {
    const scoped = new ConversationStore(trx);
    const created = await scoped.create(userId, {
      title,
      model: conversation.model,
      systemPrompt: conversation.systemPrompt,
      createdAt,
      folderId,
      ...(conversation.controls ? { controls: conversation.controls } : {}),
      ...(conversation.assistant ? { assistant: conversation.assistant } : {}),
      chosenKnowledgeBaseIds: conversation.chosenKnowledgeBaseIds,
      webSearch: conversation.webSearch,
    });
    let at = createdAt;
    for (const message of conversation.messages) {
      at = message.createdAt ?? at;
      await scoped.append(created.id, { ...message, createdAt: at });
    }
    return created;
  });
}

/**
 * Imports a file's conversations as the user's own. The file is read whole first (an unknown format
 * stores nothing); each conversation is then held to the sensitive-word filter (`filter`: the web
 * service's ContentFilter) and stored in a transaction of its own (storeConversation).
 */
export async function importConversations(
  store: ConversationStore,
  userId: string,
  body: unknown,
  maxMessageChars: number,
  filter: ImportFilter,
): Promise<ImportResult> {
  const { format, items } = detectFormat(body);
  const read = items.map((item) => readOne(PARSERS[format], item, maxMessageChars));
  const conversations: ImportResult["conversations"] = [];
  const skippedConversations: ImportResult["skippedConversations"] = [];
  const skip = (index: number, reason: SkipReason) => {
    const title = isObject(items[index]) ? cleanTitle(items[index].title) : "";
    skippedConversations.push({ index, title: title || null, reason });
  };
  for (const [index, outcome] of read.entries()) {
    const checked = "reason" in outcome ? outcome : await filtered(filter, outcome.conversation);
    if ("reason" in checked) {
      skip(index, checked.reason);
      continue;
    }
    try {
      const stored = await storeConversation(store, userId, checked.conversation);
      conversations.push({ id: stored.id, title: stored.title });
    } catch (caught) {
      // Data the database will not hold skips its conversation (rolled back whole); anything else,
      // the database out of reach above all, refuses the request as it fails.
      if (!isDataRefused(caught)) throw caught;
      skip(index, "unstorable");
    }
  }
  return {
    format,
    imported: conversations.length,
    skipped: skippedConversations.length,
    conversations,
    skippedConversations,
  };
}
