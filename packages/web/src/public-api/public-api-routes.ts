import {
  ASSISTANT_MODEL_PREFIX,
  assistantIdOfModel,
  COMPLETION_DEFAULT_MAX_TOKENS,
  type OpenAiMessage,
  openAiMessageSchema,
  openAiMessageText,
  openAiTextParts,
  openAiToolSchema,
  rerankRequestSchema,
  shouldRetryOf,
  USAGE_COMMENT_HEADER,
  USER_HEADER,
} from "@hearth/contracts";
import {
  abortOnShutdown,
  echoed,
  type HearthConfig,
  HearthError,
  openAiErrorBody,
  refuseMediaParts,
  refuseTokenIds,
} from "@hearth/core";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import type { AssistantStore } from "../assistants/assistant-store.js";
import { type AssistantUse, useAssistant } from "../assistants/assistant-use.js";
import { requestOrigin } from "../auth/request-origin.js";
import { currentUser } from "../auth/route-access.js";
import {
  assertMessageLengths,
  type ChatTurnDeps,
  type TextSize,
  usageOrEstimate,
} from "../chat/chat-turn.js";
import { maskStep, type OutputMaskers } from "../chat/content-filter.js";
import { effectiveSearch } from "../chat/search-availability.js";
import { groundTurn, turnWarnings } from "../grounding/grounding.js";
import { estimateMessageTokens, estimateTokens, fitPrompt } from "../grounding/prompt-budget.js";
import { distinctIds } from "../knowledge/distinct-ids.js";
import type { KnowledgeAccess } from "../knowledge/knowledge-access.js";
import { askFitted } from "../model/context-window.js";
import { type ModelPurpose, modelErrorIn, refusalStatus } from "../model/model-client.js";
import { SseEventOmitter } from "../model/sse-event-omitter.js";
import { StreamedTextCounter } from "../model/streamed-text-counter.js";
import { type RelayOptions, UpstreamEndpoint, type UpstreamResponse } from "../model/upstream-request.js";
import type { ModelAccess } from "../models/model-access.js";
import type { Admission, UsageMeter } from "../usage/usage-meter.js";
import { registerPublicCors } from "./cors.js";
import { TailBytes } from "./tail-bytes.js";

interface Deps extends ChatTurnDeps {
  config: HearthConfig;
  modelAccess: ModelAccess;
  knowledgeAccess: KnowledgeAccess;
  usage: UsageMeter;
  /** The assistants a key's user may use, listed and called as `assistant:<id>` models. */
  assistants: AssistantStore;
}

type CompletionRequest = z.infer<typeof completionRequest>;

/**
 * A request to an assistant (`model: "assistant:<id>"`) as it goes on: its base model, its system
 * prompt first (before any the client sends), its knowledge bases the user may read beside those the
 * request names, its web search mode and temperature unless the request gives its own.
 */
function withAssistant(body: CompletionRequest, assistant: AssistantUse): CompletionRequest {
  const temperature = (body as { temperature?: unknown }).temperature;
  return {
    ...body,
    model: assistant.model,
    messages: [
      ...(assistant.systemPrompt ? [{ role: "system" as const, content: assistant.systemPrompt }] : []),
      ...body.messages,
    ],
    knowledge_base_ids: [...new Set([...(body.knowledge_base_ids ?? []), ...assistant.knowledgeBaseIds])],
    web_search: body.web_search ?? assistant.webSearch,
    ...((temperature === undefined || temperature === null) && assistant.temperature !== null
      ? { temperature: assistant.temperature }
      : {}),
  };
}

/** The OpenAI API's paths as a client given the web root without /v1 asks for them. */
export const OPENAI_PATHS_WITHOUT_V1 = [
  "/models",
  "/models/*",
  "/chat/completions",
  "/completions",
  "/embeddings",
] as const;

/** Whether a request's path is one of OPENAI_PATHS_WITHOUT_V1 (answered in OpenAI's error shape). */
export function isOpenAiPathWithoutV1(url: string): boolean {
  const path = url.split("?")[0] ?? "";
  return /^\/(models(\/.*)?|chat\/completions|completions|embeddings)$/.test(path);
}

/** OpenAI's request, tolerant of fields we pass on, plus Hearth's documented extras. */
const completionRequest = z
  .object({
    model: z.string().min(1).max(200),
    messages: z.array(openAiMessageSchema).min(1),
    tools: z.array(openAiToolSchema).nullish(),
    stream: z.boolean().optional(),
    /** Hearth: knowledge bases to ground the answer in (ids the key's user may read; a repeated one counts once). */
    knowledge_base_ids: distinctIds(
      z
        .array(z.string().min(1), { error: "expected an array of knowledge base ids" })
        .max(20, { error: "at most 20 knowledge base ids" }),
    ).optional(),
    /** Hearth: web search, "off" (default), "auto" (the model decides) or "on". */
    web_search: z.enum(["off", "auto", "on"]).optional(),
  })
  .passthrough();

/** OpenAI's text completion request (`POST /v1/completions`, an editor's autocomplete). */
const textCompletionRequest = z
  .object({
    model: z.string().min(1).max(200),
    // One prompt per request (metered and filtered as one): a list of several is refused.
    prompt: z.union([z.string(), z.array(z.string()).length(1)], {
      error: "prompt must be a string or a list of one prompt (one prompt per request)",
    }),
    suffix: z.string().nullish(),
    stream: z.boolean().nullish(),
  })
  .passthrough();

/** OpenAI's embeddings request; the model service checks the rest. */
const embeddingRequest = z
  .object({
    model: z.string().min(1).max(200),
    input: z.union([z.string(), z.array(z.string()).min(1)]),
  })
  .passthrough();

/**
 * What reaches the model's prompt beside the messages' texts: the earlier turns' tool calls (their
 * names and arguments) and the tools offered (names, descriptions, parameter schemas). Arguments are
 * read as the model gets them, parsed: `\u673a` escapes would otherwise hide a word from the filter.
 */
function toolTexts(messages: OpenAiMessage[], tools: z.infer<typeof openAiToolSchema>[]): string[] {
  const asParsed = (json: string) => {
    try {
      return JSON.stringify(JSON.parse(json));
    } catch {
      return json;
    }
  };
  return [
    ...messages
      .flatMap((message) => message.tool_calls ?? [])
      .flatMap((call) => [call.function.name, asParsed(call.function.arguments ?? "")]),
    ...tools.flatMap((tool) => [
      tool.function.name,
      tool.function.description ?? "",
      tool.function.parameters ? JSON.stringify(tool.function.parameters) : "",
    ]),
  ];
}

/**
 * A request body read by `schema`, with no number that overflowed to Infinity (`1e400`): JSON has no
 * such number, and passed on it would become `null` (JSON.stringify), a parameter silently dropped.
 * Walked without recursion, so a deeply nested body cannot overflow the stack.
 */
function parsedBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.parse(body);
  const frames: Array<{ node: object; keys: string[] | undefined; next: number }> = [];
  const enter = (node: unknown) => {
    if (typeof node === "object" && node !== null)
      frames.push({ node, keys: Array.isArray(node) ? undefined : Object.keys(node), next: 0 });
  };
  enter(body);
  while (frames.length > 0) {
    const frame = frames.at(-1)!;
    const size = frame.keys ? frame.keys.length : (frame.node as unknown[]).length;
    if (frame.next === size) {
      frames.pop();
      continue;
    }
    const key = frame.keys ? frame.keys[frame.next]! : frame.next;
    frame.next++;
    const value = (frame.node as Record<string | number, unknown>)[key];
    if (typeof value === "number" && !Number.isFinite(value)) {
      const path = frames.map((f) => (f.keys ? f.keys[f.next - 1] : f.next - 1)).join(".");
      throw new HearthError(
        "INVALID_REQUEST",
        `${path}: the number is out of range (beyond ±1.8e308, it is not a finite number)`,
        { details: { field: path } },
      );
    }
    enter(value);
  }
  return parsed;
}

/** A stream's usage: its usage chunk (the client asked for one) or its last comment (it did not). */
const usageTail = /(?:"usage":|^: usage )\{"prompt_tokens":(\d+),"completion_tokens":(\d+)/m;

const streamCallHeaders = (userId: string) => ({ [USER_HEADER]: userId, [USAGE_COMMENT_HEADER]: "1" });

/**
 * The model service's usage comment (`: usage {…}`, asked for with USAGE_COMMENT_HEADER): read for
 * metering, never sent on, so the client gets the stream OpenAI would send.
 */
const USAGE_COMMENT = Buffer.from(": usage ");

/**
 * The public OpenAI-compatible API for API-key clients (Chatbox, Cherry Studio, Continue,
 * scripts): `/v1/models` lists the models the key's user may use; `/v1/chat/completions` passes
 * the model service's stream through byte for byte (no re-encoding) unless grounding or the output
 * filter has to change it.
 */
export function registerPublicApi(app: FastifyInstance, deps: Deps) {
  const upstream = new UpstreamEndpoint(
    `${deps.config.services.modelUrl.replace(/\/$/, "")}/v1/chat/completions`,
    deps.config.services.token ? { "x-hearth-service-token": deps.config.services.token } : {},
  );

  const serviceHeaders: Record<string, string> = deps.config.services.token
    ? { "x-hearth-service-token": deps.config.services.token }
    : {};
  const modelUrl = deps.config.services.modelUrl.replace(/\/$/, "");
  const completionsUpstream = new UpstreamEndpoint(`${modelUrl}/v1/completions`, serviceHeaders);
  const embeddingsUpstream = new UpstreamEndpoint(`${modelUrl}/v1/embeddings`, serviceHeaders);
  const rerankUpstream = new UpstreamEndpoint(`${modelUrl}/v1/rerank`, serviceHeaders);

  registerPublicCors(app);

  // A client given the service's address without /v1 asks for the OpenAI API's paths at the root
  // (the openai SDKs join the base URL and `/models`): told to add /v1 in JSON, not answered with
  // the UI's page, a 200 an SDK cannot read. None of these paths is a page of the UI.
  for (const url of OPENAI_PATHS_WITHOUT_V1)
    app.route({
      method: ["GET", "POST", "PUT", "PATCH", "DELETE"],
      url,
      config: { access: "public" },
      handler: async (request) => {
        const path = echoed(request.url.split("?")[0] ?? "/");
        throw new HearthError(
          "ROUTE_NOT_FOUND",
          `No route for ${request.method} ${path}: the OpenAI-compatible API is under /v1 (${request.method} /v1${path}); give the client the base URL with /v1, ${requestOrigin(request)}/v1`,
        );
      },
    });

  /**
   * A model as `/v1/models` lists it and `/v1/models/{id}` answers it: OpenAI's fields and, as the
   * model service gives them, its `capabilities` ("completion", "embedding" or "rerank"), so that a
   * client offers embedding models for search and rerankers for reranking, not for chat. An
   * assistant chats.
   */
  const modelEntry = (m: { id: string; ownedBy: string; created: number; purpose?: ModelPurpose }) => ({
    id: m.id,
    object: "model",
    created: m.created,
    owned_by: m.ownedBy,
    capabilities: [m.purpose ?? "completion"],
  });

  /**
   * The assistants the user may use, as models (`assistant:<id>`, owned by their owner): theirs,
   * shared with one of their groups, or public, whose base model the user may use.
   */
  const assistantEntries = async (user: ReturnType<typeof currentUser>) => {
    const rules = await deps.modelAccess.rules();
    return (await deps.assistants.asModels(user))
      .filter((assistant) => deps.modelAccess.allowedWith(rules, user, assistant.model))
      .map((assistant) =>
        modelEntry({
          id: assistant.apiModel,
          ownedBy: assistant.owner,
          created: Math.floor(Date.parse(assistant.createdAt) / 1000),
        }),
      );
  };

  app.get("/v1/models", { config: { access: "user" } }, async (request) => {
    const user = currentUser(request);
    const models = await deps.modelAccess.filter(user, await deps.models.listModels());
    return { object: "list", data: [...models.map(modelEntry), ...(await assistantEntries(user))] };
  });

  // The model's id may hold a slash (`<upstream>/<id>`). A model the key's user may not use is
  // answered as one that does not exist.
  app.get<{ Params: { "*": string } }>("/v1/models/*", { config: { access: "user" } }, async (request) => {
    const user = currentUser(request);
    const id = request.params["*"];
    if (id.startsWith(ASSISTANT_MODEL_PREFIX)) {
      const entry = (await assistantEntries(user)).find((m) => m.id === id);
      if (entry) return entry;
      throw new HearthError(
        "ASSISTANT_NOT_FOUND",
        `assistant "${echoed(id)}" not found; GET /v1/models lists the models and assistants you may use`,
      );
    }
    const models = await deps.modelAccess.filter(user, await deps.models.listModels());
    const model =
      models.find((m) => m.id === id) ??
      models.find((m) => deps.modelAccess.key(m.id) === deps.modelAccess.key(id));
    if (!model)
      throw new HearthError(
        "MODEL_NOT_FOUND",
        `model "${echoed(id)}" not found; GET /v1/models lists the models you may use`,
      );
    return modelEntry(model);
  });

  /**
   * Relays a call that has a prompt and no completion (embeddings, a rerank) to the model service
   * and its JSON answer back as it is, metered by the prompt tokens it reports, else estimated from
   * `texts`.
   */
  const relayPrompted = (
    request: FastifyRequest,
    reply: FastifyReply,
    upstream: UpstreamEndpoint,
    body: { model: string },
    texts: string[],
  ) => {
    const user = currentUser(request);
    return deps.usage.metered(user, usageEntry(body.model, request), async (admission) => {
      const called = await callUpstream(upstream, JSON.stringify(body), user.id, false, reply);
      if (!called) return reply.hijack();
      const text = await whenHere(reply, called.response.text());
      if (text === undefined) return reply.hijack();
      if (called.response.status >= 300) return refusal(reply, admission, called.response, text, body.model);
      const reported = (JSON.parse(text) as { usage?: { prompt_tokens?: number } }).usage?.prompt_tokens;
      await admission.settle(
        usageOrEstimate(
          reported === undefined ? undefined : { promptTokens: reported, completionTokens: 0 },
          texts,
          "",
        ),
      );
      return reply.type("application/json").send(text);
    });
  };

  app.post("/v1/embeddings", { config: { access: "user" } }, async (request, reply) => {
    const user = currentUser(request);
    refuseTokenIds("input", (request.body as { input?: unknown } | undefined)?.input);
    const body = parsedBody(embeddingRequest, request.body);
    await deps.modelAccess.assertAllowed(user, body.model);
    const inputs = Array.isArray(body.input) ? body.input : [body.input];
    return relayPrompted(request, reply, embeddingsUpstream, body, inputs);
  });

  /**
   * The model service's rerank API (llama.cpp's, vLLM's and Jina's shape, as Dify's and LangChain's
   * rerankers call it) for API-key clients, under the same model access and usage metering as
   * embeddings: the query's and documents' tokens as the prompt's.
   */
  app.post("/v1/rerank", { config: { access: "user" } }, async (request, reply) => {
    const user = currentUser(request);
    const body = parsedBody(rerankRequestSchema, request.body);
    await deps.modelAccess.assertAllowed(user, body.model);
    const texts = [
      body.query,
      ...body.documents.map((document) => (typeof document === "string" ? document : document.text)),
    ];
    return relayPrompted(request, reply, rerankUpstream, body, texts);
  });

  app.post("/v1/completions", { config: { access: "user" } }, async (request, reply) => {
    const user = currentUser(request);
    refuseTokenIds("prompt", (request.body as { prompt?: unknown } | undefined)?.prompt);
    const body = parsedBody(textCompletionRequest, request.body);
    await deps.modelAccess.assertAllowed(user, body.model);
    const prompts = [body.prompt].flat();
    const texts = [...prompts, ...(body.suffix ? [body.suffix] : [])];
    // A text too long is named as `param` (prompt, prompt[0] in a list, suffix).
    assertMessageLengths(texts, deps.config.web.maxMessageChars, (at) =>
      at >= prompts.length ? "suffix" : Array.isArray(body.prompt) ? `prompt.${at}` : "prompt",
    );
    await deps.contentFilter.checkInputs(texts);
    return deps.usage.metered(user, usageEntry(body.model, request), async (admission) => {
      const stream = body.stream === true;
      const masker = stream ? await deps.contentFilter.outputMaskers() : undefined;
      // A token limit bounds the completion as it does a chat's answer (its length asked for, or
      // the model service's default).
      const asked = positiveWhole(body.max_tokens) ?? COMPLETION_DEFAULT_MAX_TOKENS;
      const maxTokens = await admission.answerTokens({
        promptTokens: texts.reduce((sum, text) => sum + estimateTokens(text), 0),
        asked,
        contextTokens: await deps.models.windows.contextTokens(body.model),
      });
      const sent = maxTokens === asked ? body : { ...body, max_tokens: maxTokens };
      const called = await callUpstream(completionsUpstream, JSON.stringify(sent), user.id, stream, reply);
      if (!called) return reply.hijack();
      const { call, response } = called;
      const status = response.status;
      if (!stream || status >= 300) {
        const text = await whenHere(reply, response.text());
        if (text === undefined) return reply.hijack();
        if (status >= 300) return refusal(reply, admission, response, text, body.model);
        const answer = JSON.parse(text) as {
          choices?: Array<{ text?: string }>;
          usage?: { prompt_tokens?: number; completion_tokens?: number };
        };
        for (const choice of answer.choices ?? [])
          if (choice.text) choice.text = await deps.contentFilter.maskOutput(choice.text);
        await admission.settle(
          usageOrEstimate(
            answer.usage && {
              promptTokens: answer.usage.prompt_tokens ?? 0,
              completionTokens: answer.usage.completion_tokens ?? 0,
            },
            texts,
            (answer.choices ?? []).map((choice) => choice.text ?? "").join(""),
          ),
        );
        return reply.type("application/json").send(answer);
      }
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, STREAM_HEADERS);
      const forget = abortOnShutdown(deps.shutdownSignal, call);
      try {
        await relayAnswer(
          response,
          raw,
          deps.shutdownSignal,
          masker && maskingRelay(masker, chunkFields(response, body), "completion"),
          (usage, relayed) => admission.settle(usageOrEstimate(usage, texts, relayed)),
        );
      } finally {
        forget();
      }
    });
  });

  app.post("/v1/chat/completions", { config: { access: "user" } }, async (request, reply) => {
    const user = currentUser(request);
    const requested = parsedBody(completionRequest, request.body);
    // The bases the request names are the user's to read (404 otherwise), checked before an
    // assistant's are added: those are left out when unreadable, the answer saying so.
    for (const id of requested.knowledge_base_ids ?? [])
      if (!(await deps.knowledgeAccess.permissionOf(user, id)))
        throw new HearthError("KNOWLEDGE_BASE_NOT_FOUND", `No such knowledge base: "${echoed(id)}"`, {
          details: { field: "knowledge_base_ids" },
        });
    const assistantId = assistantIdOfModel(requested.model);
    const assistant = assistantId ? await useAssistant(deps, user, assistantId) : undefined;
    const body = assistant ? withAssistant(requested, assistant) : requested;
    const { knowledge_base_ids: knowledgeBaseIds = [], web_search: search = "off", ...forwarded } = body;
    await deps.modelAccess.assertAllowed(user, body.model);
    const lastUser = body.messages.findLast((m) => m.role === "user");
    const question = openAiMessageText(lastUser?.content);
    refuseMediaParts(body.messages);
    // The history is the client's own (nothing is stored): every message, of whatever role, is held
    // to the limit and the input filter as the model reads it, its text parts joined as the model
    // service joins them (a word split across two parts is the word the model reads); each part is
    // checked on its own as well, as the client wrote it.
    const messageTexts = body.messages.map((m) => openAiMessageText(m.content));
    assertMessageLengths(messageTexts, deps.config.web.maxMessageChars, (at) => `messages.${at}.content`);
    // Each text the model reads is checked, its earlier turns, tool calls and tools included.
    const texts = [
      ...messageTexts,
      ...body.messages.flatMap((m) => {
        const parts = openAiTextParts(m.content);
        return parts.length > 1 ? parts : [];
      }),
      ...toolTexts(body.messages, body.tools ?? []),
    ];
    await deps.contentFilter.checkInputs(texts);
    // Counted from here, after the refusals that cost nothing; one the service fails before
    // answering (the model service down or too busy) is not counted.
    return deps.usage.metered(
      user,
      { model: body.model, ...(request.apiKeyId ? { apiKeyId: request.apiKeyId } : {}) },
      answer,
    );

    /** Grounds and answers, streamed or not; settles the admission with the tokens it reports. */
    async function answer(admission: Admission) {
      const searching = await effectiveSearch(deps.searchAvailability, search);
      const grounding = await groundTurn(
        {
          query: question,
          model: body.model,
          knowledgeBaseIds,
          ...(assistant ? { goneKnowledgeBaseIds: assistant.unreadableKnowledgeBaseIds } : {}),
          search: searching.search,
          user: user.id,
        },
        {
          knowledge: deps.knowledge,
          search: deps.search,
          model: deps.models,
          contentFilter: deps.contentFilter,
        },
      );
      // Sized to the model's context: the room max_tokens asks for, the sources that fit, then the
      // client's earlier messages, newest first; only the sources sent are cited.
      const answerTokens =
        positiveWhole(forwarded.max_completion_tokens) ?? positiveWhole(forwarded.max_tokens);
      const windows = deps.models.windows;
      const contextTokens = await windows.contextTokens(body.model);
      const stream = body.stream === true;
      // Ready before the call: nothing stands between the upstream's first bytes and the client.
      const masker = stream ? await deps.contentFilter.outputMaskers() : undefined;
      const raw = reply.raw;
      // Undefined when the call was stopped because the client went away: nobody to answer.
      const unlessGone = <T>(pending: Promise<T>) =>
        pending.catch((error: unknown) => {
          if (raw.destroyed) return undefined;
          throw error;
        });
      const {
        prompt,
        answer: { call, response, errorText },
      } = await askFitted(
        windows,
        body.model,
        () =>
          fitPrompt({
            messages: body.messages,
            sources: grounding.sources,
            // The whole message as JSON: its text and anything else it carries (tool calls, names).
            size: (m) => estimateMessageTokens(JSON.stringify(m)),
            contextTokens,
            answerTokens,
            scale: windows.scale(body.model),
          }),
        async (fitted) => {
          // A token limit bounds the answer: sent as the length the client asked for, in the
          // field it asked in, as any max_tokens, so that a capped answer ends with "length".
          const maxTokens = await admission.answerTokens({
            promptTokens: fitted.estimatedTokens,
            asked: answerTokens,
            contextTokens,
          });
          const capped =
            maxTokens === answerTokens
              ? {}
              : {
                  max_tokens: maxTokens,
                  ...(forwarded.max_completion_tokens != null ? { max_completion_tokens: maxTokens } : {}),
                };
          // The usage metered comes as the stream's last comment unless the client asked for it
          // itself (stream_options.include_usage): the client gets the stream OpenAI would send.
          const call = upstream.post(
            JSON.stringify({ ...forwarded, ...capped, messages: fitted.messages }),
            stream ? streamCallHeaders(user.id) : { [USER_HEADER]: user.id },
          );
          // A client that goes away stops the call, and the model's work on it, even before it answers.
          const stop = () => {
            if (!raw.writableFinished) call.abort();
          };
          raw.on("close", stop);
          const response = await unlessGone(call.response);
          if (!response || response.status < 300) return { call, response, errorText: undefined };
          raw.off("close", stop);
          const errorText = await unlessGone(response.text());
          // A prompt the model found too long after all is learned from and fitted again (askFitted).
          const overflow = contextOverflow(errorText);
          if (overflow) throw overflow;
          return { call, response, errorText };
        },
      );
      if (!response) return reply.hijack();
      const { citations } = prompt;
      // What the answer is not grounded in, and why (docs/api.md): beside the citations, the codes
      // in `warnings` and, for those that say more, their fields under their codes.
      const turned = turnWarnings(searching.warnings, grounding, prompt);
      const warnings = turned.map((warning) => warning.code);
      const details = Object.fromEntries(
        turned.flatMap(({ code, ...fields }) => (Object.keys(fields).length > 0 ? [[code, fields]] : [])),
      );
      const hearth =
        citations.length > 0 || warnings.length > 0
          ? {
              citations,
              ...(warnings.length > 0 ? { warnings } : {}),
              ...(Object.keys(details).length > 0 ? { warningDetails: details } : {}),
            }
          : undefined;
      const status = response.status;
      /**
       * Settles with the usage the model service reported, else an estimate of the prompt and `sent`
       * (the answer's text, or its size).
       */
      const record = (
        reported: { promptTokens: number; completionTokens: number } | undefined,
        sent: string | TextSize,
      ) => {
        deps.models.windows.noteUsage(body.model, prompt.estimatedTokens, reported?.promptTokens);
        return admission.settle(usageOrEstimate(reported, texts, sent));
      };

      // The model service's mark on an answer from its cache, passed on whether streamed or not.
      const cache = response.headers["x-hearth-cache"];
      if (!stream || status >= 300) {
        const text = status >= 300 ? errorText : await unlessGone(response.text());
        if (text === undefined) return reply.hijack();
        if (status >= 300) return refusal(reply, admission, response, text, body.model);
        const answer = JSON.parse(text) as {
          choices?: Array<{ message?: { content?: string; reasoning_content?: string } }>;
          usage?: { prompt_tokens?: number; completion_tokens?: number };
        };
        for (const choice of answer.choices ?? []) {
          if (choice.message?.content)
            choice.message.content = await deps.contentFilter.maskOutput(choice.message.content);
          if (choice.message?.reasoning_content)
            choice.message.reasoning_content = await deps.contentFilter.maskOutput(
              choice.message.reasoning_content,
            );
        }
        await record(
          answer.usage && {
            promptTokens: answer.usage.prompt_tokens ?? 0,
            completionTokens: answer.usage.completion_tokens ?? 0,
          },
          (answer.choices ?? []).map((choice) => choice.message?.content ?? "").join(""),
        );
        if (cache !== undefined) reply.header("x-hearth-cache", cache);
        return reply.type("application/json").send({
          ...answer,
          ...(hearth ? { hearth } : {}),
        });
      }

      // Written by the relay: Fastify's reply.send would pipe the stream through its own machinery,
      // and the first token should leave as soon as it arrives.
      reply.hijack();
      raw.writeHead(
        200,
        cache !== undefined ? { ...STREAM_HEADERS, "x-hearth-cache": cache } : STREAM_HEADERS,
      );
      const forget = abortOnShutdown(deps.shutdownSignal, call);
      const fields = chunkFields(response, body);
      if (hearth) {
        raw.write(
          `data: ${JSON.stringify({ id: "hearth-sources", object: "chat.completion.chunk", created: Math.floor(Date.now() / 1000), model: fields.model, choices: [], ...fields.usage, hearth })}\n\n`,
        );
      }
      try {
        await relayAnswer(
          response,
          raw,
          deps.shutdownSignal,
          masker && maskingRelay(masker, fields, "chat"),
          record,
        );
      } finally {
        forget();
      }
    }
  });
}

/** A request's answer length (max_tokens) when it is one: a whole number, 1 or more. */
function positiveWhole(value: unknown): number | undefined {
  return typeof value === "number" && Number.isInteger(value) && value > 0 ? value : undefined;
}

/** The usage row of a public API request: its model, and the key it came with. */
function usageEntry(model: string, request: FastifyRequest) {
  return { model, ...(request.apiKeyId ? { apiKeyId: request.apiKeyId } : {}) };
}

/** Undefined when the call was stopped because the client went away: nobody to answer. */
function whenHere<T>(reply: FastifyReply, pending: Promise<T>): Promise<T | undefined> {
  return pending.catch((error: unknown) => {
    if (reply.raw.destroyed) return undefined;
    throw error;
  });
}

/**
 * Calls the model service for a client; a client that goes away stops the call (and the model's
 * work on it). Undefined when the client went away before the answer's head.
 */
async function callUpstream(
  endpoint: UpstreamEndpoint,
  body: string,
  userId: string,
  stream: boolean,
  reply: FastifyReply,
): Promise<{ call: ReturnType<UpstreamEndpoint["post"]>; response: UpstreamResponse } | undefined> {
  const raw = reply.raw;
  const call = endpoint.post(body, stream ? streamCallHeaders(userId) : { [USER_HEADER]: userId });
  raw.on("close", () => {
    if (!raw.writableFinished) call.abort();
  });
  const response = await whenHere(reply, call.response);
  return response && { call, response };
}

/**
 * The model service's refusal, passed on (a 5xx as 502 unless its code is the model service's own
 * and has that status: refusalStatus) with its Retry-After (a full queue, an
 * upstream's rate limit) and x-should-retry, and not counted when it was its fault.
 */
async function refusal(
  reply: FastifyReply,
  admission: Admission,
  response: UpstreamResponse,
  text: string,
  model: string,
) {
  const status = response.status;
  await admission.failed(status);
  const retryAfter = response.headers["retry-after"];
  if (typeof retryAfter === "string") reply.header("retry-after", retryAfter);
  // The model service says whether retrying may help (not when the Retry-After is hours away).
  const shouldRetry = shouldRetryOf(response.headers["x-should-retry"]);
  if (shouldRetry !== undefined) reply.header("x-should-retry", String(shouldRetry));
  reply.code(refusalStatus(status, text));
  return reply.type("application/json").send(publicErrorText(text, model));
}

/**
 * The model service's error answer as this API's client should read it: its hints name the model
 * service's own routes (an unknown model: "GET /api/tags lists the models available"), which the
 * web service does not have; here the models a key may use are at GET /v1/models.
 */
function publicErrorText(text: string, model: string): string {
  let answer: { error?: { code?: unknown; message?: unknown } } | undefined;
  try {
    answer = JSON.parse(text) as typeof answer;
  } catch {
    return text;
  }
  if (answer?.error?.code !== "MODEL_NOT_FOUND") return text;
  answer.error.message = `model "${model}" not found; GET /v1/models lists the models you may use`;
  return JSON.stringify(answer);
}

/** The model service's refusal of a prompt too long for the context, with the tokens it counted. */
function contextOverflow(text: string | undefined): HearthError | undefined {
  const error = modelErrorIn(text ?? "");
  if (error?.code !== "CONTEXT_OVERFLOW" || typeof error.details?.promptTokens !== "number") return undefined;
  return new HearthError("CONTEXT_OVERFLOW", error.message ?? "", { details: error.details });
}

/**
 * Relays a streamed answer of the model service to the client as it comes: masked when the output
 * filter is on, without the usage comment the model service adds for metering, and ended with
 * OpenAI's in-band error event when it breaks off (the openai SDKs throw it from the stream, so a cut
 * answer never looks whole). Then, whatever happened, `settle` gets the usage the stream reported
 * (read from its last bytes), or none (the client stopped it, or it broke off) with the size of the
 * text relayed for an estimate.
 */
async function relayAnswer(
  response: UpstreamResponse,
  raw: FastifyReply["raw"],
  shutdownSignal: AbortSignal,
  masking: Pick<RelayOptions, "transform" | "flush"> | undefined,
  settle: (
    reported: { promptTokens: number; completionTokens: number } | undefined,
    relayed: TextSize,
  ) => Promise<unknown>,
): Promise<void> {
  const tail = new TailBytes(1024);
  const relayed = new StreamedTextCounter();
  try {
    await response.relay(raw, {
      onPayload: (bytes, start, end) => {
        tail.push(bytes, start, end);
        relayed.push(bytes, start, end);
      },
      omit: new SseEventOmitter(USAGE_COMMENT),
      ...masking,
      onBroken: (error) =>
        `data: ${JSON.stringify(openAiErrorBody(brokenStreamError(error, shutdownSignal)))}\n\n`,
    });
  } finally {
    const usage = usageTail.exec(tail.text());
    await settle(
      usage ? { promptTokens: Number(usage[1]), completionTokens: Number(usage[2]) } : undefined,
      relayed,
    );
  }
}

/** Why a relayed stream broke off, as the client is told. */
function brokenStreamError(error: Error, shutdownSignal: AbortSignal): HearthError {
  if (shutdownSignal.aborted) return new HearthError("SERVICE_NOT_READY", "The service is shutting down");
  if (error instanceof HearthError) return error;
  return new HearthError("UPSTREAM_ERROR", "the model service sent an invalid answer", { cause: error });
}

const STREAM_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache, no-transform",
  "x-accel-buffering": "no",
};

/**
 * What a chunk of the web service's own in a relayed stream (the sources chunk, a masked rest) has
 * as the model service's chunks have it: the model's name as they give it (`stories260K:latest` for
 * `stories260K`: the model service says it in `x-hearth-model`), and `"usage": null` when the client
 * asked for the usage (`stream_options.include_usage`: every chunk but the last carries it).
 */
function chunkFields(
  response: UpstreamResponse,
  body: { model: string; stream_options?: unknown },
): { model: string; usage: { usage: null } | Record<string, never> } {
  const served = response.headers["x-hearth-model"];
  const options = body.stream_options as { include_usage?: unknown } | null | undefined;
  return {
    model: typeof served === "string" && served ? served : body.model,
    usage: options?.include_usage === true ? { usage: null } : {},
  };
}

/**
 * Masks the stream's events on their way to the client. Masking needs whole events: each run of
 * payload is decoded, an unfinished event held back, the rest re-encoded.
 */
function maskingRelay(
  masker: OutputMaskers,
  { model, usage }: ReturnType<typeof chunkFields>,
  kind: "chat" | "completion",
): Pick<RelayOptions, "transform" | "flush"> {
  let pending = "";
  const mask = kind === "chat" ? maskEvents : maskCompletionEvents;
  return {
    transform: (payload) => {
      pending += payload.toString("utf8");
      const cut = pending.lastIndexOf("\n\n");
      if (cut === -1) return undefined;
      const events = mask(pending.slice(0, cut + 2), masker);
      pending = pending.slice(cut + 2);
      return events;
    },
    flush: () => {
      let rest = pending ? mask(pending, masker) : "";
      // A stream that broke off before its finish: what the maskers held back still goes out.
      const reasoningRest = masker.reasoning.flush();
      const contentRest = masker.content.flush();
      if (kind === "completion" && contentRest) {
        rest += `data: ${JSON.stringify({ id: "hearth-masked-rest", object: "text_completion", created: Math.floor(Date.now() / 1000), model, choices: [{ index: 0, text: contentRest, logprobs: null, finish_reason: null }], ...usage })}\n\n`;
      } else if (reasoningRest || contentRest) {
        const delta = {
          ...(reasoningRest ? { reasoning_content: reasoningRest } : {}),
          content: contentRest,
        };
        rest += `data: ${JSON.stringify({ id: "hearth-masked-rest", object: "chat.completion.chunk", created: Math.floor(Date.now() / 1000), model, choices: [{ index: 0, delta, finish_reason: null }], ...usage })}\n\n`;
      }
      return rest || undefined;
    },
  };
}

/** Masks the answer and reasoning deltas of whole SSE events (only when the output filter is on). */
function maskEvents(events: string, masker: OutputMaskers): string {
  return events.replace(/^data: (\{.*\})$/gm, (line, json: string) => {
    try {
      const chunk = JSON.parse(json) as {
        choices?: Array<{
          delta?: { content?: string; reasoning_content?: string };
          finish_reason?: string | null;
        }>;
      };
      for (const choice of chunk.choices ?? []) {
        choice.delta ??= {};
        const delta = choice.delta;
        const masked = maskStep(masker, {
          reasoning: delta.reasoning_content,
          content: delta.content,
          finish: Boolean(choice.finish_reason),
        });
        if (typeof delta.reasoning_content === "string" || masked.reasoning)
          delta.reasoning_content = masked.reasoning;
        if (typeof delta.content === "string" || choice.finish_reason) delta.content = masked.content;
      }
      return `data: ${JSON.stringify(chunk)}`;
    } catch {
      return line;
    }
  });
}

/** Masks the text of whole text-completion SSE events (only when the output filter is on). */
function maskCompletionEvents(events: string, masker: OutputMaskers): string {
  return events.replace(/^data: (\{.*\})$/gm, (line, json: string) => {
    try {
      const chunk = JSON.parse(json) as {
        choices?: Array<{ text?: string; finish_reason?: string | null }>;
      };
      for (const choice of chunk.choices ?? []) {
        const masked = maskStep(masker, { content: choice.text, finish: Boolean(choice.finish_reason) });
        if (typeof choice.text === "string" || choice.finish_reason) choice.text = masked.content;
      }
      return `data: ${JSON.stringify(chunk)}`;
    } catch {
      return line;
    }
  });
}
