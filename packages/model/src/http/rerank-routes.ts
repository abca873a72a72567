import { rerankRequestSchema } from "@hearth/contracts";
import type { FastifyInstance } from "fastify";
import { inferenceRequestContext } from "./request-context.js";
import type { ModelServiceContext } from "./service-context.js";

/**
 * The rerank API (`POST /v1/rerank`), in the shape llama.cpp's server, vLLM, Jina and Cohere share:
 * Dify, RAGFlow and Open WebUI call it to rerank retrieved passages, and so does the knowledge service.
 */
export function registerRerankRoutes(app: FastifyInstance, service: ModelServiceContext): void {
  const { inference, shutdownSignal } = service;

  app.post("/v1/rerank", async (request, reply) => {
    const body = rerankRequestSchema.parse(request.body);
    const documents = body.documents.map((document) =>
      typeof document === "string" ? document : document.text,
    );
    const { user, signal } = inferenceRequestContext(request, reply, shutdownSignal);
    const answer = await inference.rerank({
      model: body.model,
      query: body.query,
      documents,
      topN: body.top_n ?? undefined,
      user,
      signal,
    });
    return {
      object: "list",
      model: answer.model.name,
      results: answer.results.map(({ index, relevanceScore }) => ({
        index,
        relevance_score: relevanceScore,
        ...(body.return_documents ? { document: { text: documents[index] } } : {}),
      })),
      usage: { prompt_tokens: answer.promptTokens, total_tokens: answer.promptTokens },
    };
  });
}
