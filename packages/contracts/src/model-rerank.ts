/**
 * The rerank API the model service serves at `POST /v1/rerank`, in the shape llama.cpp's server,
 * vLLM, Xinference, Jina and Cohere share: a query and documents in, each document's relevance to
 * the query out, best first. The knowledge service calls it to rerank a query's passages with a
 * knowledge base's `rerankModel`.
 */
import { z } from "zod";

/** The most documents one rerank request takes. */
export const MAX_RERANK_DOCUMENTS = 1000;

export const rerankRequestSchema = z.object({
  model: z.string().min(1),
  query: z.string().min(1),
  /** Texts, or `{text}` objects as Cohere's clients send them. */
  documents: z
    .array(z.union([z.string(), z.object({ text: z.string() })]))
    .min(1)
    .max(MAX_RERANK_DOCUMENTS),
  /** How many results to return, best first (all when absent). */
  top_n: z.number().int().min(1).nullish(),
  /** Whether each result repeats its document's text as `document: {text}`. */
  return_documents: z.boolean().nullish(),
});
export type RerankRequest = z.input<typeof rerankRequestSchema>;

export const rerankResultSchema = z.object({
  /** The document's place in the request's `documents`, from 0. */
  index: z.number().int().min(0),
  /** How relevant the document is to the query: 0 to 1, higher is more relevant. */
  relevance_score: z.number(),
  document: z.object({ text: z.string() }).nullish(),
});

export const rerankResponseSchema = z.object({
  object: z.literal("list").optional(),
  model: z.string(),
  /** Best first, at most `top_n`. */
  results: z.array(rerankResultSchema),
  usage: z.object({ prompt_tokens: z.number().int(), total_tokens: z.number().int() }).nullish(),
});
export type RerankResponse = z.infer<typeof rerankResponseSchema>;
