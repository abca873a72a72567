import { CHAT_CONTROL_NAMES, type ChatControls, isContinuable, isTooLong } from "@hearth/contracts";
import { type HearthConfig, HearthError, ReplyStream } from "@hearth/core";
import type { FastifyInstance, FastifyReply } from "fastify";
import { z } from "zod";
import type { CurrentUser } from "../accounts/account-store.js";
import { usableDefaultModel } from "../accounts/preference-routes.js";
import { readPreferences, WEB_SEARCH_MODES } from "../accounts/preferences-store.js";
import type { AssistantStore } from "../assistants/assistant-store.js";
import { audit } from "../audit/audit-log.js";
import { requestOrigin } from "../auth/request-origin.js";
import { currentUser } from "../auth/route-access.js";
import { assertMessageLengths, type ChatTurnDeps, runChatTurn } from "../chat/chat-turn.js";
import { distinctIds } from "../knowledge/distinct-ids.js";
import type { KnowledgeAccess } from "../knowledge/knowledge-access.js";
import type { MemoryStore } from "../memories/memory-store.js";
import type { ModelAccess } from "../models/model-access.js";
import type { UsageMeter } from "../usage/usage-meter.js";
import { chatControlsFields, controlsGiven, separateControls } from "./chat-controls-schema.js";
import {
  absoluteCitation,
  assertTimeZone,
  attachment,
  exportFileName,
  exportMarkdown,
  exportQuerySchema,
} from "./conversation-export.js";
import type { ConversationFiles } from "./conversation-files.js";
import {
  importConversations,
  importedFinishReason,
  importedStatus,
  storeConversation,
} from "./conversation-import.js";
import {
  isBeingWritten,
  type StoredConversation,
  type StoredMessage,
  systemPromptMaxChars,
  titleFromMessage,
  type WebSearchMode,
} from "./conversation-store.js";
import { FolderStore } from "./folder-store.js";
import { conversationsJsonOf, registerZipBodyParser } from "./import-archive.js";
import { shareOf } from "./share-routes.js";
import type { ShareStore } from "./share-store.js";

/** At most 20 different ids: a repeated one counts once. */
const knowledgeBaseIdsSchema = distinctIds(z.array(z.string().min(1).max(200)).max(20));

/**
 * What a turn is grounded in. The knowledge bases given (none: an empty list) become the
 * conversation's choice; a turn without the field searches none and leaves the choice as it was.
 */
const grounding = {
  knowledgeBaseIds: knowledgeBaseIdsSchema.optional(),
  /** Absent: off for this turn, the conversation's mode left as it was. */
  search: z.enum(WEB_SEARCH_MODES).optional(),
};

/** Whether a text is a time as the service stores and lists it (`Date#toISOString`'s form). */
const isListedTime = (text: string) => {
  const time = new Date(text);
  return !Number.isNaN(time.getTime()) && time.toISOString() === text;
};

/**
 * The conversation list's query. The `next` of a page comes back whole, as `afterUpdatedAt` and
 * `afterId` (with `afterPinned` when it has one): a time that is not one or a cursor with a part
 * missing is refused, naming the parameter, as is a parameter the list does not take, for the list
 * would otherwise start again from its first page and a client paging on would never end.
 */
const listQuerySchema = z
  .strictObject({
    q: z.string().max(200).optional(),
    /** true: the archived conversations (Archived chats) instead of those in the list. */
    archived: z.enum(["true", "false"]).optional(),
    /** One folder's conversations; `none`: the unfiled ones; absent: any folder or none. */
    folderId: z.string().min(1).max(100).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(200),
    /** The `next` of the previous page. */
    afterUpdatedAt: z
      .string()
      .max(40)
      .refine(isListedTime, "not a time as the list gives it (the previous page's next.updatedAt)")
      .optional(),
    afterId: z.string().min(1).max(100).optional(),
    /** Whether that page ended among the pinned conversations (absent: it did not). */
    afterPinned: z.enum(["true", "false"]).optional(),
  })
  .superRefine((query, context) => {
    const cursor = [query.afterUpdatedAt, query.afterId, query.afterPinned];
    if (cursor.every((part) => part === undefined)) return;
    for (const name of ["afterUpdatedAt", "afterId"] as const)
      if (query[name] === undefined)
        context.addIssue({
          code: "custom",
          path: [name],
          message: "missing: afterUpdatedAt and afterId, the previous page's next, are given together",
        });
  });

interface Deps extends ChatTurnDeps {
  config: HearthConfig;
  /** The assistants a conversation may be started with. */
  assistants: AssistantStore;
  shares: ShareStore;
  modelAccess: ModelAccess;
  knowledgeAccess: KnowledgeAccess;
  usage: UsageMeter;
  /** The files attached to each chat, searched on its every turn. */
  files: ConversationFiles;
  /** The user's memories, added to their turns while they have memory on. */
  memories: MemoryStore;
}

/** Whether the conversation's answer is being written (by this process or another). */
function isAnswering(history: StoredMessage[]): boolean {
  return history.some(isBeingWritten);
}

/**
 * Conversations: list, search, rename, pin, move to a folder, archive (one or all), delete, export,
 * import; send, edit and resend, regenerate (SSE), and the versions these keep. Share links are
 * share-routes.ts's, folders folder-routes.ts's.
 */
export function registerConversationRoutes(app: FastifyInstance, deps: Deps) {
  const store = deps.conversations;
  const folders = new FolderStore(store.db);
  const access = { config: { access: "user" as const } };
  const messageBody = z.strictObject({
    content: z.string().min(1),
    model: z.string().min(1).max(200),
    /** Edit and resend: replaces this user message and what followed it, kept as a version. */
    editMessageId: z.string().optional(),
    ...grounding,
  });

  /**
   * A conversation's system prompt as given (null or blank: none), refused as a message would be:
   * over its length (413 MESSAGE_TOO_LONG), or holding a word the input filter blocks.
   */
  const systemPromptSchema = z.string().nullable().optional();
  const checkSystemPrompt = async (text: string | null | undefined) => {
    if (!text?.trim()) return;
    assertMessageLengths([text], systemPromptMaxChars(deps.config.web.maxMessageChars));
    await deps.contentFilter.checkInputs([text]);
  };

  /**
   * The custom instructions a new conversation inherits: none when they are over the system
   * prompt's limit (stored under a larger web.maxMessageChars, or before the limit was counted as it
   * is now), so that they never make every new chat fail; the conversation says it has none, and
   * Settings shows them over the limit until they are shortened.
   */
  const inherited = (instructions: string | null | undefined) =>
    instructions && isTooLong(instructions, systemPromptMaxChars(deps.config.web.maxMessageChars))
      ? null
      : instructions;

  /** Of the knowledge bases `ids`, those the user may read, in their order. */
  const readableBases = async (user: CurrentUser, ids: readonly string[]) => {
    const permissions = await deps.knowledgeAccess.permissionsOf(user, ids);
    return ids.filter((kb) => permissions.has(kb));
  };

  /**
   * The conversation as its user is given it: of the knowledge bases chosen for it, those they may
   * still read. A base deleted or no longer shared with them since is left out, as a turn leaves it
   * out, so that the page never ticks a base it does not list.
   */
  const asShown = async (
    user: CurrentUser,
    conversation: StoredConversation,
  ): Promise<StoredConversation> => {
    const chosen = conversation.chosenKnowledgeBaseIds;
    return chosen?.length
      ? { ...conversation, chosenKnowledgeBaseIds: await readableBases(user, chosen) }
      : conversation;
  };

  app.get("/api/conversations", access, async (request) => {
    const user = currentUser(request);
    const { q, limit, afterUpdatedAt, afterId, afterPinned, archived, folderId } = listQuerySchema.parse(
      request.query,
    );
    const folder = folderId === undefined ? undefined : folderId === "none" ? null : folderId;
    if (folder) await store.assertOwnFolder(user.id, folder);
    return store.list(user.id, {
      query: q,
      limit,
      archived: archived === "true",
      ...(folder !== undefined ? { folderId: folder } : {}),
      ...(afterUpdatedAt && afterId
        ? { after: { updatedAt: afterUpdatedAt, id: afterId, pinned: afterPinned === "true" } }
        : {}),
    });
  });

  /**
   * A new conversation. Without a system prompt of its own (null: none) it starts with the user's
   * personal instructions, held to the same rules; without a model, with their default model while
   * they may still use it (else none, as before: the model is chosen with each message). A model it
   * names must be one the user's groups may use (403 MODEL_NOT_ALLOWED), as for an assistant or a
   * default model saved, rather than refused only at the first message.
   * `temporary: true` makes a temporary chat: out of the list and its search, deleted when left.
   * Its Chat controls (CHAT_CONTROL_NAMES; null or absent: the model's own) and its chosen knowledge
   * bases (kept with it, as a turn keeps them) may be set before its first message.
   */
  app.post("/api/conversations", access, async (request, reply) => {
    const user = currentUser(request);
    const parsed = z
      .strictObject({
        title: z.string().max(200).optional(),
        model: z.string().max(200).optional(),
        systemPrompt: systemPromptSchema,
        temporary: z.boolean().optional(),
        /** Started with an assistant: its model, system prompt, knowledge bases and web search mode. */
        assistantId: z.string().min(1).max(100).optional(),
        /** The knowledge bases chosen for it before its first message: those the user may read are kept. */
        chosenKnowledgeBaseIds: knowledgeBaseIdsSchema.optional(),
        /** Its web search mode as chosen before its first message (over its assistant's). */
        webSearch: z.enum(WEB_SEARCH_MODES).optional(),
        ...chatControlsFields,
      })
      .parse(request.body ?? {});
    // A title reaches others through a share link: held to the input filter as a message is.
    await deps.contentFilter.checkFields({ title: parsed.title });
    const {
      controls,
      rest: { assistantId, chosenKnowledgeBaseIds, ...fields },
    } = separateControls(parsed);
    const body = {
      ...fields,
      chosenKnowledgeBaseIds: chosenKnowledgeBaseIds && (await readableBases(user, chosenKnowledgeBaseIds)),
    };
    if (assistantId)
      return reply.code(201).send(await startWithAssistant(user, assistantId, { ...body, controls }));
    if (body.model) await deps.modelAccess.assertAllowed(user, body.model);
    const preferences =
      body.systemPrompt === undefined || body.model === undefined
        ? await readPreferences(store.db, user.id)
        : undefined;
    const systemPrompt =
      body.systemPrompt === undefined ? inherited(preferences?.instructions) : body.systemPrompt;
    const model =
      body.model ?? (await usableDefaultModel(deps.modelAccess, user, preferences?.defaultModel ?? null));
    await checkSystemPrompt(systemPrompt);
    return reply.code(201).send(
      await store.create(user.id, {
        ...body,
        ...(systemPrompt !== undefined ? { systemPrompt } : {}),
        ...(model !== undefined ? { model } : {}),
        controls,
      }),
    );
  });

  /**
   * A conversation started with an assistant the user may use (ASSISTANT_NOT_FOUND otherwise): its
   * base model (MODEL_NOT_ALLOWED when the user's groups may not use it) unless the request names
   * another, its system prompt unless the request gives one (the user's own instructions are not
   * added), and its knowledge bases, web search mode and temperature, which the conversation keeps
   * (the page's choice for it starts from them; the user changes them in the chat; a temperature the
   * request gives, null included, is kept over the assistant's). All its
   * knowledge bases are kept: each turn searches only those the user may read, and the answer
   * says when some were left out (knowledge-unavailable, by id).
   */
  const startWithAssistant = async (
    user: CurrentUser,
    assistantId: string,
    body: {
      title?: string;
      model?: string;
      systemPrompt?: string | null;
      temporary?: boolean;
      chosenKnowledgeBaseIds?: string[];
      webSearch?: WebSearchMode;
      controls: Partial<ChatControls>;
    },
  ) => {
    const settings = await deps.assistants.settingsFor(user, assistantId);
    const model = body.model || settings.model;
    await deps.modelAccess.assertAllowed(user, model);
    const systemPrompt = body.systemPrompt === undefined ? settings.systemPrompt : body.systemPrompt;
    await checkSystemPrompt(systemPrompt);
    return store.create(user.id, {
      ...body,
      model,
      systemPrompt,
      assistant: {
        id: settings.id,
        name: settings.name,
        knowledgeBaseIds: settings.knowledgeBaseIds,
        webSearch: settings.webSearch,
        temperature: settings.temperature,
      },
    });
  };

  /** "Archive all chats": every conversation of the caller's list goes to Archived chats. */
  app.post("/api/conversations/archive-all", access, async (request) => {
    z.strictObject({}).parse(request.body ?? {});
    return { archived: await store.archiveAll(currentUser(request).id) };
  });

  /**
   * Imports a file's conversations (its JSON as the body, or ChatGPT's data export as its ZIP, up to
   * web.importLimitBytes) as the caller's own: conversation-import.ts, import-archive.ts. Another
   * system's data: NUL characters, which no other request may hold, are taken out of it. Held to the
   * sensitive-word filter as what is typed and generated here is (a conversation the input filter
   * refuses is skipped, its answers masked). Audited with the counts, never the content.
   */
  registerZipBodyParser(app);
  app.post(
    "/api/conversations/import",
    {
      config: { ...access.config, nulCharacters: "strip", zipBody: true },
      bodyLimit: deps.config.web.importLimitBytes,
    },
    async (request) => {
      const user = currentUser(request);
      const { importLimitBytes, maxMessageChars } = deps.config.web;
      // A ZIP is inflated only here, once the caller is known: its conversations.json, held to the same limit.
      const file = Buffer.isBuffer(request.body)
        ? conversationsJsonOf(request.body, importLimitBytes)
        : request.body;
      const result = await importConversations(store, user.id, file, maxMessageChars, deps.contentFilter);
      if (result.imported > 0)
        await audit(store.db, {
          actorId: user.id,
          action: "conversation.import",
          details: { format: result.format, imported: result.imported, skipped: result.skipped },
        });
      return result;
    },
  );

  app.get("/api/conversations/:id", access, async (request) => {
    const user = currentUser(request);
    const { id } = request.params as { id: string };
    const conversation = await asShown(user, await store.get(user.id, id));
    return {
      ...conversation,
      share: await shareOf(deps, request, id),
      messages: await store.messagesShown(user.id, id),
    };
  });

  app.patch("/api/conversations/:id", access, async (request) => {
    const user = currentUser(request);
    const { id } = request.params as { id: string };
    // Ownership before validation: another user's id is a 404 whatever the body.
    await store.get(user.id, id);
    const changes = z
      .strictObject({
        title: z.string().trim().min(1).max(200).optional(),
        /** Null or blank clears it. */
        systemPrompt: systemPromptSchema,
        pinned: z.boolean().optional(),
        /** One of the user's folders; null takes it out of its folder. */
        folderId: z.string().min(1).max(100).nullable().optional(),
        /** true archives it (out of the list, in Archived chats); false brings it back. */
        archived: z.boolean().optional(),
        /** false keeps a temporary chat (it joins the list); a chat cannot be made temporary later. */
        temporary: z.literal(false).optional(),
        /** The knowledge bases chosen for it before a turn: those the user may read are kept. */
        chosenKnowledgeBaseIds: knowledgeBaseIdsSchema.optional(),
        /** Its web search mode, chosen before a turn. */
        webSearch: z.enum(WEB_SEARCH_MODES).optional(),
        /** Its Chat controls: each given one set, null back to the model's own. */
        ...chatControlsFields,
      })
      .refine((body) => Object.values(body).some((value) => value !== undefined), {
        message: `Give title, systemPrompt, pinned, folderId, archived, temporary, chosenKnowledgeBaseIds, webSearch or a Chat control (${CHAT_CONTROL_NAMES.join(", ")})`,
      })
      .parse(request.body);
    await deps.contentFilter.checkFields({ title: changes.title });
    await checkSystemPrompt(changes.systemPrompt);
    const { controls, rest } = separateControls(changes);
    const chosen = rest.chosenKnowledgeBaseIds && (await readableBases(user, rest.chosenKnowledgeBaseIds));
    const updated = await store.update(user.id, id, {
      ...rest,
      ...(chosen ? { chosenKnowledgeBaseIds: chosen } : {}),
      controls,
    });
    // Bases chosen now are readable already; those kept from before are checked as they are shown.
    return chosen ? updated : asShown(user, updated);
  });

  app.delete("/api/conversations/:id", access, async (request, reply) => {
    const user = currentUser(request);
    const { id } = request.params as { id: string };
    const { messages, temporary } = await store.delete(user.id, id);
    deps.turns.stop(id, "deleted");
    // An empty conversation is no one's record (the page removes the one a refused first message
    // leaves), nor is a temporary chat (the page deletes one as it is left): auditing them would
    // fill the log with deletions nobody made.
    if (messages > 0 && !temporary)
      await audit(store.db, { actorId: user.id, action: "conversation.delete", target: id });
    // Its files go with it, on the knowledge service too (tried again later should that fail now).
    await deps.files.purge();
    return reply.code(204).send();
  });

  app.get("/api/conversations/:id/export", access, async (request, reply) => {
    const user = currentUser(request);
    const { id } = request.params as { id: string };
    const { format, lang, tz } = exportQuerySchema.parse(request.query);
    assertTimeZone(tz);
    const conversation = await store.get(user.id, id);
    const messages = await store.messages(user.id, id);
    const name = exportFileName(conversation.title, id);
    // Links to the site's own pages (a document's) work outside it: read from this request's origin.
    const origin = requestOrigin(request);
    if (format === "json") {
      // For programs: ISO timestamps as stored, whatever lang and tz say; links absolute (an import
      // reads a knowledge document's back as the site's path: conversation-import.ts). The folder
      // by its name, which an import into another account (or Hearth) files it under again.
      const folder = await folders.nameOf(user.id, conversation.folderId);
      const absolute = messages.map((message) => ({
        ...message,
        citations: message.citations.map((citation) => absoluteCitation(citation, origin)),
      }));
      return reply
        .header("content-disposition", attachment(`${name}.json`))
        .type("application/json; charset=utf-8")
        .send(JSON.stringify({ ...conversation, folder, messages: absolute }, null, 2));
    }
    return reply
      .header("content-disposition", attachment(`${name}.md`))
      .type("text/markdown; charset=utf-8")
      .send(exportMarkdown(conversation, messages, { lang, tz, origin }));
  });

  /**
   * The user may use the model. Of the knowledge bases chosen in the conversation, those the user
   * can no longer read (deleted, no longer shared with them since they were chosen) are gone: the
   * turn goes on without them, with a warning naming them, so the page stops choosing them. Any id
   * the user cannot read is gone alike, one that never was or was never theirs to see too, so the
   * answer tells nobody whether a base they may not read exists. The files attached to the
   * conversation are searched too, whatever was chosen. The bases a conversation took from its
   * assistant that the user may not read are gone alike on every turn (the page never shows them).
   */
  const checkCanUse = async (
    user: CurrentUser,
    model: string,
    chosen: string[],
    conversation: StoredConversation,
  ) => {
    const conversationId = conversation.id;
    await deps.modelAccess.assertAllowed(user, model);
    const fromAssistant = (conversation.knowledgeBaseIds ?? []).filter((id) => !chosen.includes(id));
    const permissions = await deps.knowledgeAccess.permissionsOf(user, [...chosen, ...fromAssistant]);
    const knowledgeBaseIds: string[] = [];
    const goneKnowledgeBaseIds: string[] = [];
    for (const id of chosen) {
      if (permissions.has(id)) knowledgeBaseIds.push(id);
      else goneKnowledgeBaseIds.push(id);
    }
    // A chat started with an assistant: its bases the user may not read (never shown to them, so
    // never chosen) are left out of every answer, which says so, as for a base gone since.
    for (const id of fromAssistant) if (!permissions.has(id)) goneKnowledgeBaseIds.push(id);
    const files = await deps.files.baseOf(conversationId);
    if (files && !knowledgeBaseIds.includes(files)) knowledgeBaseIds.unshift(files);
    return { knowledgeBaseIds, goneKnowledgeBaseIds };
  };

  /**
   * Refuses (409 ANSWER_IN_PROGRESS) a turn while the conversation's last answer is still being
   * written: a second answer would run beside it (and the first would store over what the second
   * replaced). An answer whose writer has gone quiet (ANSWER_SILENCE_MS) is no longer waited for: a
   * replica that died mid-answer while the others run on would otherwise hold its conversation shut.
   */
  const assertNotAnswering = (history: StoredMessage[]) => {
    if (isAnswering(history))
      throw new HearthError("ANSWER_IN_PROGRESS", "The conversation's answer is still being written");
  };

  /**
   * The user's Stop: ends the conversation's answer where the stream to them is, stored as
   * stopped (a closed tab or a lost connection leaves it interrupted). The other processes (cluster
   * workers, replicas) are told as well, and the one answering stops on hearing it; an answer
   * written elsewhere is also marked in the database, which its writer reads within a second, should
   * the notice not reach it. `stopped` says whether an answer was running here, or being written (by
   * another process) when the stop was sent.
   */
  app.post("/api/conversations/:id/stop", access, async (request) => {
    const user = currentUser(request);
    const { id } = request.params as { id: string };
    // Read before the stop is sent: the process answering may store the answer as stopped at once.
    const history = await store.messages(user.id, id);
    const stoppedHere = deps.turns.stop(id, "stopped");
    if (!stoppedHere) await store.requestStop(id);
    return { stopped: stoppedHere || isAnswering(history) };
  });

  /**
   * The memories a turn of the conversation adds to its system prompt: the user's while they have
   * memory on (MemoryStore.forChat); none in a temporary chat, which leaves nothing of the user's
   * behind and takes nothing of it either.
   */
  const memoriesFor = (user: CurrentUser, conversation: StoredConversation) =>
    conversation.temporary ? Promise.resolve([]) : deps.memories.forChat(user.id);

  /**
   * Refuses (422 CONTENT_BLOCKED) a turn when a text the user wrote that it sends the model holds a
   * word the input filter blocks: the conversation's system prompt, the memories added to it and
   * every user message of the history sent, not only the newest. Stored history was not necessarily
   * checked when it was stored (an import, a copied share, a word listed since), and it goes to the
   * model again on every turn: each turn checks it again.
   */
  const checkPrompt = (systemPrompt: string | null, memories: readonly string[], history: StoredMessage[]) =>
    deps.contentFilter.checkInputs([
      ...(systemPrompt ? [systemPrompt] : []),
      ...memories,
      ...history.filter((m) => m.role === "user").map((m) => m.content),
    ]);

  /**
   * Keeps the knowledge bases and the web search mode a turn was sent with as the conversation's
   * choice (of the bases, those the user may read), which it opens with on any device; a turn sent
   * without them, or with the choice it has, leaves it as it was (and writes nothing).
   */
  const keepChoice = async (
    userId: string,
    conversation: StoredConversation,
    sent: { knowledgeBaseIds?: string[]; search?: WebSearchMode },
    bases: { goneKnowledgeBaseIds: string[] },
  ) => {
    const chosen = sent.knowledgeBaseIds?.filter((kb) => !bases.goneKnowledgeBaseIds.includes(kb));
    const kept = conversation.chosenKnowledgeBaseIds;
    const sameBases =
      !chosen || (kept && kept.length === chosen.length && kept.every((kb, index) => kb === chosen[index]));
    const sameSearch = !sent.search || sent.search === conversation.webSearch;
    if (sameBases && sameSearch) return;
    await store.update(userId, conversation.id, {
      ...(sameBases ? {} : { chosenKnowledgeBaseIds: chosen }),
      ...(sameSearch ? {} : { webSearch: sent.search }),
    });
  };

  /** What every turn of a conversation takes from it: its id, system prompt and Chat controls. */
  type TurnOfConversation = "conversationId" | "systemPrompt" | "controls";
  /** Streams a turn of `conversation`; `turn` says the rest (who, which model, what history, grounding). */
  const answer = async (
    reply: FastifyReply,
    conversation: StoredConversation,
    turn: Omit<Parameters<typeof runChatTurn>[1], TurnOfConversation>,
  ) => {
    const stream = new ReplyStream(reply, "sse");
    await runChatTurn(
      deps,
      {
        ...turn,
        conversationId: conversation.id,
        systemPrompt: conversation.systemPrompt,
        controls: conversation,
      },
      stream,
    );
  };

  app.post("/api/conversations/:id/messages", access, async (request, reply) => {
    const user = currentUser(request);
    const { id } = request.params as { id: string };
    const conversation = await store.get(user.id, id);
    const body = messageBody.parse(request.body);
    assertMessageLengths([body.content], deps.config.web.maxMessageChars);
    const bases = await checkCanUse(user, body.model, body.knowledgeBaseIds ?? [], conversation);
    await deps.contentFilter.checkInputs([body.content]);
    const stored = await store.messages(user.id, id);
    assertNotAnswering(stored);
    const edited = body.editMessageId
      ? stored.find((m) => m.id === body.editMessageId && m.role === "user")
      : undefined;
    if (body.editMessageId && !edited)
      throw new HearthError("MESSAGE_NOT_FOUND", "No such user message in this conversation");
    // The edited message and what followed it are not sent: they are set aside as a version (put
    // back should the new answer fail or be stopped: runChatTurn's `replaces`).
    const history = edited ? stored.filter((m) => m.seq < edited.seq) : stored;
    const memories = await memoriesFor(user, conversation);
    await checkPrompt(conversation.systemPrompt, memories, history);
    // Counted before anything is stored: QUOTA_EXCEEDED leaves the conversation as it was.
    await deps.usage.metered(user, { model: body.model }, async (admission) => {
      const userMessage = {
        role: "user" as const,
        content: body.content,
        status: "done" as const,
        model: null,
      };
      const { versionId, message } = edited
        ? await store.resend(id, edited.seq, userMessage)
        : { versionId: undefined, message: await store.append(id, userMessage) };
      if (history.length === 0 && conversation.title === "New chat") {
        await store.rename(user.id, id, titleFromMessage(body.content));
      }
      await keepChoice(user.id, conversation, body, bases);
      await answer(reply, conversation, {
        user,
        model: body.model,
        memories,
        history: [...history, message],
        ...bases,
        search: body.search ?? "off",
        admission,
        ...(versionId ? { replaces: { versionId } } : {}),
      });
    });
  });

  /**
   * Branch in new chat (ChatGPT's): a new conversation of the user's holding this one's messages as
   * shown up to and including `seq` (the versions on screen), with its model, system prompt, Chat
   * controls, chosen knowledge bases and what it took from its assistant, titled `title` (the page
   * words it in its language) or as this one. Written now, it is first in the list; this one is
   * unchanged. 404 for another user's conversation or a seq it does not show; 409
   * ANSWER_IN_PROGRESS while a message up to `seq` is being written; 409 CONVERSATION_TEMPORARY for
   * a temporary chat (keep it first).
   */
  app.post("/api/conversations/:id/branch", access, async (request, reply) => {
    const user = currentUser(request);
    const { id } = request.params as { id: string };
    const source = await store.get(user.id, id);
    const body = z
      .strictObject({ seq: z.number().int().min(0), title: z.string().trim().min(1).max(200).optional() })
      .parse(request.body);
    await deps.contentFilter.checkFields({ title: body.title });
    if (source.temporary)
      throw new HearthError("CONVERSATION_TEMPORARY", "A temporary chat cannot be branched: keep it first");
    const history = await store.messages(user.id, id);
    if (!history.some((message) => message.seq === body.seq))
      throw new HearthError("MESSAGE_NOT_FOUND", "No message with that seq is in the conversation");
    const kept = history.filter((message) => message.seq <= body.seq);
    if (kept.some((message) => message.status === "streaming"))
      throw new HearthError("ANSWER_IN_PROGRESS", "The conversation's answer is still being written");
    const branch = await storeConversation(store, user.id, {
      title: body.title ?? source.title,
      model: source.model,
      systemPrompt: source.systemPrompt,
      createdAt: null,
      messages: kept.map((message) => ({
        role: message.role,
        content: message.content,
        reasoning: message.reasoning,
        model: message.model,
        // A failed answer is kept as an interrupted one (its text so far), as an import keeps it.
        status: importedStatus(message.role, message.status),
        finishReason: importedFinishReason(message),
        citations: message.citations,
        // Written now: the branch is the user's latest chat.
        createdAt: null,
      })),
      controls: controlsGiven(source),
      chosenKnowledgeBaseIds: source.chosenKnowledgeBaseIds,
      webSearch: source.webSearch,
      ...(source.assistant
        ? {
            assistant: {
              ...source.assistant,
              knowledgeBaseIds: source.knowledgeBaseIds ?? [],
              webSearch: source.webSearch ?? "off",
              temperature: source.temperature,
            },
          }
        : {}),
    });
    return reply.code(201).send({ id: branch.id, title: branch.title });
  });

  app.post("/api/conversations/:id/regenerate", access, async (request, reply) => {
    const user = currentUser(request);
    const { id } = request.params as { id: string };
    const conversation = await store.get(user.id, id);
    const body = z.strictObject({ model: z.string().min(1).max(200), ...grounding }).parse(request.body);
    const bases = await checkCanUse(user, body.model, body.knowledgeBaseIds ?? [], conversation);
    const history = await store.messages(user.id, id);
    assertNotAnswering(history);
    const lastUser = history.map((m) => m.role).lastIndexOf("user");
    if (lastUser === -1) throw new HearthError("MESSAGE_NOT_FOUND", "There is no message to answer again");
    const kept = history.slice(0, lastUser + 1);
    const memories = await memoriesFor(user, conversation);
    await checkPrompt(conversation.systemPrompt, memories, kept);
    const next = history[lastUser + 1];
    // An answer worth keeping is set aside as a version (put back should the new one fail or be
    // stopped); a failed one with nothing in it goes at once.
    const keepable = history.slice(lastUser + 1).some((m) => m.content !== "" && m.status !== "error");
    // Counted before anything is stored: QUOTA_EXCEEDED leaves the conversation as it was.
    await deps.usage.metered(user, { model: body.model }, async (admission) => {
      let versionId: string | undefined;
      if (next && keepable) versionId = await store.setAside(id, next.seq);
      else if (next) await store.truncateFrom(id, next.seq);
      await keepChoice(user.id, conversation, body, bases);
      await answer(reply, conversation, {
        user,
        model: body.model,
        memories,
        history: kept,
        ...bases,
        search: body.search ?? "off",
        fresh: true,
        admission,
        ...(versionId ? { replaces: { versionId } } : {}),
      });
    });
  });

  /**
   * Continue (ChatGPT's "Continue generating"): the model goes on with the conversation's last
   * answer from where it ends, into the same stored answer (its text grows, its status and finish
   * reason are the continuation's), streamed as a turn is, stopped by the stop route, metered as
   * any turn. The answer must be the conversation's last message, with text, and cut off at the
   * length limit, stopped or interrupted (409 ANSWER_NOT_CONTINUABLE otherwise: a whole answer, a
   * failed one with nothing in it, a question); 409 ANSWER_IN_PROGRESS while it is being written.
   * `model` goes on with it (the page sends the answer's own); the answer is not grounded again and
   * keeps its sources. One that adds nothing (refused by the model, stopped at once) leaves it as it was.
   */
  app.post("/api/conversations/:id/continue", access, async (request, reply) => {
    const user = currentUser(request);
    const { id } = request.params as { id: string };
    const conversation = await store.get(user.id, id);
    const body = z.strictObject({ model: z.string().min(1).max(200) }).parse(request.body);
    await deps.modelAccess.assertAllowed(user, body.model);
    const history = await store.messages(user.id, id);
    assertNotAnswering(history);
    const last = history.at(-1);
    if (!last || !isContinuable(last))
      throw new HearthError(
        "ANSWER_NOT_CONTINUABLE",
        "The conversation's last message is not an answer to continue: only one cut off at the length limit, stopped or interrupted, with text, goes on",
      );
    const memories = await memoriesFor(user, conversation);
    await checkPrompt(conversation.systemPrompt, memories, history);
    await deps.usage.metered(user, { model: body.model }, (admission) =>
      answer(reply, conversation, {
        user,
        model: body.model,
        memories,
        history,
        knowledgeBaseIds: [],
        search: "off",
        admission,
        continues: last,
      }),
    );
  });

  /**
   * Shows another version of a message (edit and resend, regenerate keep what they replace as
   * versions): `seq` a message shown that begins several versions (its `versions` in the
   * conversation), `index` the one to show, from 1. Answers the conversation's messages as they
   * now are. 409 ANSWER_IN_PROGRESS while an answer is written; 404 MESSAGE_NOT_FOUND for a seq not
   * shown; 400 VERSION_OUT_OF_RANGE for an index it does not have.
   */
  app.post("/api/conversations/:id/versions", access, async (request) => {
    const user = currentUser(request);
    const { id } = request.params as { id: string };
    // Ownership before validation: another user's id is a 404 whatever the body.
    await store.get(user.id, id);
    const { seq, index } = z
      .strictObject({ seq: z.number().int().min(0), index: z.number().int() })
      .parse(request.body);
    await store.switchVersion(user.id, id, seq, index);
    return { messages: await store.messagesShown(user.id, id) };
  });
}
