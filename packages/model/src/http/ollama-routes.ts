import {
  KEPT_LOADED_UNTIL,
  type OllamaGenerateRequest,
  ollamaChatRequestSchema,
  ollamaCopyRequestSchema,
  ollamaEmbeddingsRequestSchema,
  ollamaEmbedRequestSchema,
  ollamaGenerateRequestSchema,
  ollamaModelRefSchema,
  ollamaPullRequestSchema,
} from "@hearth/contracts";
import { HearthError, logFailure, mediaInputError, ReplyStream, toHearthError } from "@hearth/core";
import type { FastifyInstance } from "fastify";
import { type PullReference, parsePullReference } from "../registry/model-registry.js";
import { EmbeddedRuntime } from "../runtime/embedded/embedded-runtime.js";
import type { ModelDescription, StreamPart } from "../runtime/language-model.js";
import { refuseEmptyInputs, refuseOtherDimensions } from "./embedding-input.js";
import { ollamaErrorBody, registryErrorBody } from "./format-error.js";
import { ollamaMessages, ollamaSettings, parseKeepAlive } from "./ollama-settings.js";
import {
  collectAnswer,
  inferenceRequestContext,
  isOutputPart,
  requestSignal,
  streamAnswer,
} from "./request-context.js";
import type { ModelServiceContext } from "./service-context.js";
import { unitLength } from "./unit-length.js";

/**
 * A model's `details` as Ollama's /api/tags, /api/ps and /api/show give them, `parent_model` always
 * there (empty: Hearth's models are not made from another with a Modelfile's FROM).
 */
export function ollamaModelDetails(description: ModelDescription) {
  return {
    parent_model: "",
    format: "gguf",
    family: description.family ?? "",
    families: description.family ? [description.family] : null,
    parameter_size: description.parameterSize ?? "",
    quantization_level: description.quantization ?? "",
  };
}

/** Hearth's own version: the `x-hearth-version` header of /api/version. */
export const HEARTH_VERSION = "0.1.0";

/**
 * The version /api/version reports: the Ollama release whose API Hearth's matches (chat and generate
 * with `think`, its levels included, tools, and structured outputs through a `format` schema), for
 * clients that compare it with Ollama releases (VS Code Copilot refuses an Ollama below 0.6.4).
 * Not Hearth's own version, which the `x-hearth-version` header carries.
 */
export const OLLAMA_API_VERSION = "0.12.0";

/**
 * The last object of an answer, with Ollama's durations in nanoseconds: the model's load, the
 * prompt's evaluation up to the first generated part (with any wait in the queue: not timed apart),
 * and the generation after it, which clients divide `eval_count` by for tokens/s.
 */
function doneFields(
  finish: Extract<StreamPart, { type: "finish" }>,
  startedAt: number,
  loadMs: number,
  firstOutputAt: number | undefined,
) {
  const end = performance.now();
  const first = firstOutputAt ?? end;
  const nanoseconds = (ms: number) => Math.round(ms * 1e6);
  const load = nanoseconds(Math.min(loadMs, first - startedAt));
  const promptEval = nanoseconds(first - startedAt) - load;
  const evaluation = nanoseconds(end - first);
  return {
    done: true,
    done_reason: finish.finishReason === "length" ? "length" : "stop",
    // The sum of its parts, each rounded: never a nanosecond less than they add up to.
    total_duration: load + promptEval + evaluation,
    load_duration: load,
    prompt_eval_count: finish.usage.promptTokens,
    prompt_eval_duration: promptEval,
    eval_count: finish.usage.completionTokens,
    eval_duration: evaluation,
  };
}

/**
 * Refuses what /api/generate would otherwise ignore: a `template` (an Ollama Go template, which
 * Hearth does not render: a model's prompt is rendered by its own chat template, or sent as it is)
 * unless `raw` is true, where Ollama does not apply it either; and a `context` (deprecated in Ollama:
 * the token ids an earlier answer gave back, which Hearth's answers do not carry), whose
 * conversation would otherwise be lost without a word. Empty, both are none.
 */
function refuseUnappliedGenerateFields(body: OllamaGenerateRequest): void {
  if (body.template && body.raw !== true)
    throw new HearthError(
      "INVALID_REQUEST",
      "template: Hearth does not apply a template sent with the request (it formats the prompt with the model's own chat template); send the prompt already formatted, with raw: true",
      { details: { field: "template" } },
    );
  if (body.context?.length)
    throw new HearthError(
      "INVALID_REQUEST",
      "context: the context of an earlier answer (deprecated in Ollama) is not supported, and Hearth's answers carry none; send the conversation as messages to /api/chat, or the earlier turns in the prompt",
      { details: { field: "context" } },
    );
}

/** A digest as Ollama lists it: the hex alone (the registry's and our own API's keep "sha256:"). */
function ollamaDigest(digest: string | undefined): string {
  return digest?.replace(/^sha256:/, "") ?? "";
}

/** Ollama's API (https://github.com/ollama/ollama/blob/main/docs/api.md). */
export function registerOllamaRoutes(app: FastifyInstance, service: ModelServiceContext): void {
  const { inference, catalog, shutdownSignal } = service;

  // Ollama's root: its CLI's heartbeat is `HEAD /` (Fastify answers HEAD for every GET route).
  app.get("/", async (_request, reply) => reply.type("text/plain; charset=utf-8").send("Ollama is running"));

  app.get("/api/version", async (_request, reply) => {
    reply.header("x-hearth-version", HEARTH_VERSION);
    return { version: OLLAMA_API_VERSION };
  });

  app.get("/api/tags", async () => {
    const models = await catalog.list();
    return {
      models: models.map(({ name, description }) => ({
        name,
        model: name,
        modified_at: (description.modifiedAt ?? new Date(0)).toISOString(),
        size: description.sizeBytes ?? 0,
        digest: ollamaDigest(description.digest),
        details: ollamaModelDetails(description),
      })),
    };
  });

  app.post("/api/chat", async (request, reply) => {
    const body = ollamaChatRequestSchema.parse(request.body);
    const startedAt = performance.now();
    const messages = ollamaMessages(body.messages ?? []);
    const settings = ollamaSettings(body.options, {
      format: body.format,
      keepAlive: body.keep_alive,
      think: body.think,
      tools: body.tools,
    });
    if (messages.length === 0) {
      // Ollama: a chat with no messages loads the model (or unloads it with keep_alive 0).
      const model = await catalog.resolve(body.model);
      if (model.runtime instanceof EmbeddedRuntime)
        await model.runtime.preload(model.modelId, settings.keepAliveSeconds);
      return {
        model: model.name,
        created_at: new Date().toISOString(),
        message: { role: "assistant", content: "" },
        done_reason: settings.keepAliveSeconds === 0 ? "unload" : "load",
        done: true,
      };
    }
    const call = {
      model: body.model,
      input: { kind: "chat" as const, messages },
      settings,
      ...inferenceRequestContext(request, reply, shutdownSignal),
    };
    if (body.stream === false) {
      const answer = await collectAnswer(reply, inference, call);
      return {
        model: answer.started.model.name,
        created_at: new Date().toISOString(),
        message: {
          role: "assistant",
          content: answer.text,
          ...(answer.reasoning ? { thinking: answer.reasoning } : {}),
          ...(answer.toolCalls.length
            ? { tool_calls: answer.toolCalls.map((toolCall) => ({ function: toolCall })) }
            : {}),
        },
        ...doneFields(answer.finish, startedAt, answer.started.loadMs, answer.firstOutputAt),
      };
    }
    let firstOutputAt: number | undefined;
    await streamAnswer({
      request,
      reply,
      framing: "ndjson",
      inference,
      call,
      writePart: async (stream, part, started) => {
        if (firstOutputAt === undefined && isOutputPart(part)) firstOutputAt = performance.now();
        const head = { model: started.model.name, created_at: new Date().toISOString() };
        if (part.type === "text-delta")
          await stream.send({ ...head, message: { role: "assistant", content: part.text }, done: false });
        else if (part.type === "reasoning-delta")
          await stream.send({
            ...head,
            message: { role: "assistant", content: "", thinking: part.text },
            done: false,
          });
        else if (part.type === "tool-call")
          await stream.send({
            ...head,
            message: { role: "assistant", content: "", tool_calls: [{ function: part.toolCall }] },
            done: false,
          });
        else if (part.type === "finish")
          await stream.send({
            ...head,
            message: { role: "assistant", content: "" },
            ...doneFields(part, startedAt, started.loadMs, firstOutputAt),
          });
      },
      writeError: (stream, error) => stream.send(ollamaErrorBody(error)),
    });
  });

  app.post("/api/generate", async (request, reply) => {
    const body = ollamaGenerateRequestSchema.parse(request.body);
    if (body.images?.length) throw mediaInputError("images", "images");
    refuseUnappliedGenerateFields(body);
    const startedAt = performance.now();
    const settings = ollamaSettings(body.options, {
      format: body.format,
      keepAlive: body.keep_alive,
      think: body.think,
    });
    const model = await catalog.resolve(body.model);
    if (!body.prompt && !body.system) {
      if (model.runtime instanceof EmbeddedRuntime)
        await model.runtime.preload(model.modelId, settings.keepAliveSeconds);
      return {
        model: model.name,
        created_at: new Date().toISOString(),
        response: "",
        done: true,
        done_reason: settings.keepAliveSeconds === 0 ? "unload" : "load",
      };
    }
    // Raw prompts, fill-in-the-middle (a suffix) and models without a chat template get the prompt
    // as is; others get it as a user turn.
    const asIs =
      body.raw === true ||
      Boolean(body.suffix) ||
      (model.runtime instanceof EmbeddedRuntime && model.description.hasChatTemplate === false);
    const input = asIs
      ? {
          kind: "completion" as const,
          prompt: `${body.raw ? "" : body.system ? `${body.system}\n\n` : ""}${body.prompt ?? ""}`,
          suffix: body.suffix ?? undefined,
        }
      : {
          kind: "chat" as const,
          messages: [
            ...(body.system ? [{ role: "system" as const, content: body.system }] : []),
            { role: "user" as const, content: body.prompt ?? "" },
          ],
        };
    const call = {
      // As sent: a refusal names the model as the request did, as Ollama's do.
      model: body.model,
      input,
      settings,
      ...inferenceRequestContext(request, reply, shutdownSignal),
    };
    if (body.stream === false) {
      const answer = await collectAnswer(reply, inference, call);
      return {
        model: answer.started.model.name,
        created_at: new Date().toISOString(),
        response: answer.text,
        ...(answer.reasoning ? { thinking: answer.reasoning } : {}),
        ...doneFields(answer.finish, startedAt, answer.started.loadMs, answer.firstOutputAt),
      };
    }
    let firstOutputAt: number | undefined;
    await streamAnswer({
      request,
      reply,
      framing: "ndjson",
      inference,
      call,
      writePart: async (stream, part, started) => {
        if (firstOutputAt === undefined && isOutputPart(part)) firstOutputAt = performance.now();
        const head = { model: started.model.name, created_at: new Date().toISOString() };
        if (part.type === "text-delta") await stream.send({ ...head, response: part.text, done: false });
        else if (part.type === "reasoning-delta")
          await stream.send({ ...head, response: "", thinking: part.text, done: false });
        else if (part.type === "finish")
          await stream.send({
            ...head,
            response: "",
            ...doneFields(part, startedAt, started.loadMs, firstOutputAt),
          });
      },
      writeError: (stream, error) => stream.send(ollamaErrorBody(error)),
    });
  });

  const embed = async (
    model: string,
    inputs: string[],
    options: { keepAlive: string | number | null | undefined; truncate?: boolean; signal: AbortSignal },
  ) => {
    const resolved = await catalog.resolve(model);
    if (!resolved.runtime.embed)
      throw new HearthError("INVALID_REQUEST", `"${resolved.name}" does not offer embeddings`);
    const result = await resolved.runtime.embed({
      modelId: resolved.modelId,
      inputs,
      signal: options.signal,
      keepAliveSeconds: parseKeepAlive(options.keepAlive),
      ...(options.truncate !== undefined ? { truncate: options.truncate } : {}),
    });
    return { resolved, ...result };
  };

  app.post("/api/embed", async (request, reply) => {
    const body = ollamaEmbedRequestSchema.parse(request.body);
    const startedAt = performance.now();
    const inputs = Array.isArray(body.input) ? body.input : [body.input];
    // An empty text has no embedding: refused, naming it (no list of vectors of mixed lengths).
    refuseEmptyInputs(inputs);
    // As Ollama's /api/embed: inputs cut to fit unless `truncate: false`, vectors of unit length.
    const result = await embed(body.model, inputs, {
      keepAlive: body.keep_alive,
      truncate: body.truncate ?? true,
      signal: requestSignal(reply, shutdownSignal),
    });
    refuseOtherDimensions(result.resolved.name, result.embeddings, body.dimensions);
    return {
      model: result.resolved.name,
      embeddings: result.embeddings.map(unitLength),
      total_duration: Math.round((performance.now() - startedAt) * 1e6),
      load_duration: 0,
      prompt_eval_count: result.promptTokens,
    };
  });

  app.post("/api/embeddings", async (request, reply) => {
    const body = ollamaEmbeddingsRequestSchema.parse(request.body);
    if (body.prompt === "") {
      // As Ollama's legacy route: an empty prompt loads the model and answers no vector.
      const model = await catalog.resolve(body.model);
      if (model.runtime instanceof EmbeddedRuntime)
        await model.runtime.preload(model.modelId, parseKeepAlive(body.keep_alive));
      return { embedding: [] };
    }
    const result = await embed(body.model, [body.prompt], {
      keepAlive: body.keep_alive,
      signal: requestSignal(reply, shutdownSignal),
    });
    return { embedding: result.embeddings[0] ?? [] };
  });

  app.get("/api/ps", async () => {
    const loaded = await catalog.embedded.currentLoadedModels();
    return {
      models: loaded.map((model) => {
        // From what the runtime holds: no listing of the models dir or of upstreams per poll.
        const description = catalog.embedded.describe(model.id) ?? { id: model.id };
        return {
          name: model.id,
          model: model.id,
          size: model.sizeBytes,
          size_vram: 0,
          digest: ollamaDigest(description.digest),
          details: ollamaModelDetails(description),
          // Kept loaded for good (keep_alive -1): KEPT_LOADED_UNTIL, a far date every client's parser takes.
          expires_at: model.expiresAt?.toISOString() ?? KEPT_LOADED_UNTIL,
          context_length: model.contextLength,
        };
      }),
    };
  });

  app.post("/api/show", async (request) => {
    const body = ollamaModelRefSchema.parse(request.body);
    const model = await catalog.resolve((body.model ?? body.name)!);
    const show = await service.describe(model);
    return show;
  });

  app.post("/api/pull", async (request, reply) => {
    const body = ollamaPullRequestSchema.parse(request.body);
    const reference = (body.model ?? body.name)!;
    // A malformed name is refused with 400 before a progress stream starts (whose status is 200), as
    // Ollama refuses it; with its code beside the message, as the stream's error lines carry it.
    let pulled: PullReference;
    try {
      pulled = parsePullReference(reference, { insecure: body.insecure ?? false });
    } catch (error) {
      if (!(error instanceof HearthError)) throw error;
      logFailure(request.log, error);
      return reply.code(error.status).send(registryErrorBody(error));
    }
    const signal = requestSignal(reply, shutdownSignal);
    if (body.stream === false) {
      await service.registry.pull(pulled, { signal });
      return { status: "success" };
    }
    const stream = new ReplyStream(reply, "ndjson");
    try {
      await service.registry.pull(pulled, {
        signal,
        onProgress: (progress) => void stream.send(progress),
      });
    } catch (error) {
      // The stable code beside the message (Ollama clients read only `error`): a page says the
      // cause in its reader's language. Logged as a failed answer is (logFailure): a registry the
      // server cannot reach is a warning, not an error.
      if (!signal.aborted) {
        const failure = toHearthError(error);
        logFailure(request.log, failure);
        await stream.send(registryErrorBody(failure));
      }
    } finally {
      stream.end();
    }
  });

  app.delete("/api/delete", async (request) => {
    const body = ollamaModelRefSchema.parse(request.body);
    await service.registry.remove((body.model ?? body.name)!);
    return {};
  });

  app.post("/api/copy", async (request) => {
    const body = ollamaCopyRequestSchema.parse(request.body);
    await service.registry.copy(body.source, body.destination);
    return {};
  });
}
