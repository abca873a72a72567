import { type HearthConfig, HearthError, ReplyStream, toHearthError } from "@hearth/core";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { ModelClient } from "../model/model-client.js";

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

export interface ModelGuidance {
  modelsDir: string;
  steps: Array<"drop-gguf" | "ollama-host" | "pull">;
}

/** GET /api/models and POST /api/chat: the model picker and the streamed chat of the first slice. */
export function registerChatRoutes(
  app: FastifyInstance,
  deps: { config: HearthConfig; models: ModelClient; shutdownSignal: AbortSignal },
) {
  const guidance: ModelGuidance = {
    modelsDir: deps.config.model.modelsDir,
    steps: ["drop-gguf", "ollama-host", "pull"],
  };

  app.get("/api/models", async () => {
    try {
      const models = await deps.models.listModels();
      return { models, reachable: true, ...(models.length === 0 ? { guidance } : {}) };
    } catch (error) {
      const hearthError = toHearthError(error);
      app.log.warn({ code: hearthError.code }, "could not list models");
      return { models: [], reachable: false, guidance };
    }
  });

  app.post("/api/chat", async (request, reply) => {
    const body = chatRequest.parse(request.body);
    const upstream = new AbortController();
    const onShutdown = () => upstream.abort(new Error("shutting down"));
    deps.shutdownSignal.addEventListener("abort", onShutdown, { once: true });
    try {
      const parts = await deps.models.streamChat({ ...body, signal: upstream.signal });
      const stream = new ReplyStream(reply, "sse");
      stream.signal.addEventListener("abort", () => upstream.abort(new Error("client went away")), {
        once: true,
      });
      try {
        for await (const part of parts) {
          if (stream.ended) break;
          await stream.send(part);
        }
      } catch (error) {
        if (!upstream.signal.aborted) {
          const failure = toHearthError(error);
          await stream.send({ type: "error", code: failure.code, message: failure.message });
        }
      } finally {
        if (deps.shutdownSignal.aborted && !stream.ended)
          await stream.send({
            type: "error",
            code: "SERVICE_NOT_READY",
            message: "The service is shutting down",
          });
        stream.end();
      }
    } catch (error) {
      if (upstream.signal.aborted) throw new HearthError("SERVICE_NOT_READY", "The request was cancelled");
      throw error;
    } finally {
      deps.shutdownSignal.removeEventListener("abort", onShutdown);
    }
  });
}
