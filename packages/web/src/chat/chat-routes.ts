import type { ModelRegistryClient } from "@hearth/contracts";
import { abortOnShutdown, type HearthConfig, HearthError, ReplyStream, toHearthError } from "@hearth/core";
import type { FastifyInstance, FastifyReply } from "fastify";
import { z } from "zod";
import { currentUser } from "../auth/route-access.js";
import { estimateMessageTokens, fitPrompt } from "../grounding/prompt-budget.js";
import { askFitted } from "../model/context-window.js";
import type { ModelClient } from "../model/model-client.js";
import type { ModelAccess } from "../models/model-access.js";
import { type SkippedModelFile, skippedModelFiles } from "../models/skipped-model-files.js";
import type { Admission, UsageMeter } from "../usage/usage-meter.js";
import { assertMessageLengths, usageOrEstimate } from "./chat-turn.js";
import { type ContentFilter, maskChatParts } from "./content-filter.js";

const chatRequest = z.strictObject({
  model: z.string().min(1).max(200),
  messages: z
    .array(
      z.strictObject({ role: z.enum(["system", "user", "assistant"]), content: z.string().max(200_000) }),
    )
    .min(1)
    .max(500),
  temperature: z.number().min(0).max(2).optional(),
});

type ChatRequest = z.infer<typeof chatRequest>;

/**
 * Why there is no model to pick, and, for administrators only, how to install one (the server's
 * models folder is no business of other users: they are told to ask an administrator).
 */
export interface ModelGuidance {
  /** none-installed: the model service has none; none-allowed: there are models, none for this user. */
  reason: "none-installed" | "none-allowed" | "unreachable";
  modelsDir?: string;
  steps?: Array<"drop-gguf" | "ollama-host" | "pull">;
  /** The models dir's files the model service skips, with why and a name to rename each to. */
  skippedFiles?: SkippedModelFile[];
}

interface Deps {
  config: HearthConfig;
  models: ModelClient;
  /** The model service's registry, asked which files it skipped for the no-model card. */
  modelRegistry: ModelRegistryClient;
  modelAccess: ModelAccess;
  usage: UsageMeter;
  /** The sensitive-word filter, on this chat's input and output as on stored conversations. */
  contentFilter: ContentFilter;
  shutdownSignal: AbortSignal;
}

/**
 * GET /api/models (the chat models for the pickers, with guidance when there is none, and the
 * embedding models apart) and POST /api/chat (a chat that is not stored).
 */
export function registerChatRoutes(app: FastifyInstance, deps: Deps) {
  const guidance = async (role: string, reason: ModelGuidance["reason"]): Promise<ModelGuidance> => {
    if (role !== "admin") return { reason };
    // A file dropped in under a name that is not a model name: said, so that the card does not
    // ask for the file that is there.
    const skipped = reason === "unreachable" ? [] : await skippedModelFiles(deps.modelRegistry);
    return {
      reason,
      modelsDir: deps.config.model.modelsDir,
      steps: ["drop-gguf", "ollama-host", "pull"],
      ...(skipped.length > 0 ? { skippedFiles: skipped } : {}),
    };
  };

  app.get("/api/models", { config: { access: "user" } }, async (request) => {
    const user = currentUser(request);
    try {
      const installed = await deps.models.listModels();
      const usable = await deps.modelAccess.filter(user, installed);
      // Chat models for the pickers; embedding models and rerankers apart, for a knowledge base's settings.
      const models = usable.filter((model) => !model.purpose);
      const embeddingModels = usable.filter((model) => model.purpose === "embedding");
      const rerankModels = usable.filter((model) => model.purpose === "rerank");
      if (models.length > 0) return { models, embeddingModels, rerankModels, reachable: true };
      const reason = installed.some((model) => !model.purpose) ? "none-allowed" : "none-installed";
      return {
        models,
        embeddingModels,
        rerankModels,
        reachable: true,
        guidance: await guidance(user.role, reason),
      };
    } catch (error) {
      const hearthError = toHearthError(error);
      app.log.warn({ code: hearthError.code }, "could not list models");
      return {
        models: [],
        embeddingModels: [],
        rerankModels: [],
        reachable: false,
        guidance: await guidance(user.role, "unreachable"),
      };
    }
  });

  app.post("/api/chat", { config: { access: "user" } }, async (request, reply) => {
    const user = currentUser(request);
    const body = chatRequest.parse(request.body);
    // The history is the client's own here (nothing is stored), so every message is held to the limit.
    const texts = body.messages.map((message) => message.content);
    assertMessageLengths(texts, deps.config.web.maxMessageChars);
    await deps.modelAccess.assertAllowed(user, body.model);
    await deps.contentFilter.checkInputs(texts);
    await deps.usage.metered(user, { model: body.model }, (admission) =>
      answer(reply, body, user.id, texts, admission),
    );
  });

  /** Streams the answer; the usage it reports (or none, when the model never answered) settles the admission. */
  async function answer(
    reply: FastifyReply,
    body: ChatRequest,
    userId: string,
    texts: string[],
    admission: Admission,
  ) {
    const maskers = await deps.contentFilter.outputMaskers();
    const upstream = new AbortController();
    const forget = abortOnShutdown(deps.shutdownSignal, upstream);
    let usage = { promptTokens: 0, completionTokens: 0 };
    /** What was sent of the answer and reasoning, to estimate the tokens of a stream cut short. */
    let sent = "";
    try {
      // Sized to the model's context as a conversation's turn is: the latest message first, then
      // the client's earlier messages, newest first.
      const windows = deps.models.windows;
      const contextTokens = await windows.contextTokens(body.model);
      const { prompt, answer: parts } = await askFitted(
        windows,
        body.model,
        () =>
          fitPrompt({
            messages: body.messages,
            sources: [],
            size: (m) => estimateMessageTokens(m.content),
            contextTokens,
            scale: windows.scale(body.model),
          }),
        async (fitted) =>
          deps.models.streamChat({
            ...body,
            user: userId,
            messages: fitted.messages,
            // A token limit bounds the answer.
            maxTokens: await admission.answerTokens({
              promptTokens: fitted.estimatedTokens,
              asked: undefined,
              contextTokens,
            }),
            signal: upstream.signal,
          }),
      );
      const stream = new ReplyStream(reply, "sse");
      stream.signal.addEventListener("abort", () => upstream.abort(new Error("client went away")), {
        once: true,
      });
      try {
        for await (const part of maskChatParts(parts, maskers)) {
          if (stream.ended) break;
          if (part.type === "finish" && part.usage) {
            usage = part.usage;
            deps.models.windows.noteUsage(body.model, prompt.estimatedTokens, part.usage.promptTokens);
          } else if (part.type === "text-delta" || part.type === "reasoning-delta") sent += part.text;
          await stream.send(part);
        }
      } catch (error) {
        if (!upstream.signal.aborted) {
          const failure = toHearthError(error);
          if (sent === "") await admission.failed(failure.status);
          await stream.send({ type: "error", code: failure.code, message: failure.message });
        }
      } finally {
        if (deps.shutdownSignal.aborted && !stream.ended) {
          await stream.send({
            type: "error",
            code: "SERVICE_NOT_READY",
            message: "The service is shutting down",
          });
        }
        stream.end();
        // A stream stopped by the client (or broken off) reports no usage: estimated, as a chat turn's.
        await admission.settle(usageOrEstimate(usage, texts, sent));
      }
    } catch (error) {
      if (upstream.signal.aborted) throw new HearthError("SERVICE_NOT_READY", "The request was cancelled");
      throw error;
    } finally {
      forget();
    }
  }
}
