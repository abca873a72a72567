import { UpstreamCallError } from "@hearth/core";
import { z } from "zod";

const knowledgeResults = z.object({
  results: z.array(
    z.object({
      chunkId: z.string(),
      documentId: z.string(),
      documentTitle: z.string().nullish(),
      text: z.string(),
      score: z.number(),
      page: z.number().nullish(),
      headingPath: z.array(z.string()).nullish(),
    }),
  ),
});
export type KnowledgePassage = z.infer<typeof knowledgeResults>["results"][number];

const searchResults = z.object({
  results: z.array(
    z.object({
      url: z.string(),
      title: z.string().nullish(),
      snippet: z.string().nullish(),
      content: z.string().nullish(),
      publishedAt: z.string().nullish(),
      score: z.number().nullish(),
    }),
  ),
});
export type SearchResult = z.infer<typeof searchResults>["results"][number];

/** JSON over HTTP to another Hearth service, with the service token when one is configured. */
export class ServiceClient {
  constructor(
    readonly baseUrl: string,
    readonly token: string | undefined,
    readonly name: string,
  ) {}

  async request(
    method: string,
    path: string,
    init: {
      body?: unknown;
      timeoutMs?: number;
      headers?: Record<string, string>;
      rawBody?: ReadableStream | string;
      signal?: AbortSignal;
    } = {},
  ): Promise<Response> {
    const url = `${this.baseUrl.replace(/\/$/, "")}${path}`;
    try {
      return await fetch(url, {
        method,
        headers: {
          ...(this.token ? { "x-hearth-service-token": this.token } : {}),
          ...(init.body !== undefined ? { "content-type": "application/json" } : {}),
          ...init.headers,
        },
        body: (init.rawBody as never) ?? (init.body !== undefined ? JSON.stringify(init.body) : undefined),
        signal: init.signal ?? AbortSignal.timeout(init.timeoutMs ?? 30_000),
        ...(init.rawBody ? { duplex: "half" } : {}),
      } as RequestInit);
    } catch (error) {
      throw new UpstreamCallError({ url, message: `the ${this.name} service did not answer`, cause: error });
    }
  }

  async json<T>(method: string, path: string, schema: z.ZodType<T>, body?: unknown): Promise<T> {
    const response = await this.request(method, path, { body });
    const text = await response.text();
    if (!response.ok)
      throw new UpstreamCallError({
        url: `${this.baseUrl}${path}`,
        status: response.status,
        body: text,
        message: `the ${this.name} service answered ${response.status}`,
      });
    return schema.parse(JSON.parse(text));
  }
}

export class KnowledgeClient extends ServiceClient {
  constructor(baseUrl: string, token?: string) {
    super(baseUrl, token, "knowledge");
  }

  async query(knowledgeBaseIds: string[], query: string, topK = 5): Promise<KnowledgePassage[]> {
    return (await this.json("POST", "/v1/query", knowledgeResults, { knowledgeBaseIds, query, topK }))
      .results;
  }
}

export class SearchClient extends ServiceClient {
  constructor(baseUrl: string, token?: string) {
    super(baseUrl, token, "search");
  }

  async search(query: string, limit = 5): Promise<SearchResult[]> {
    return (await this.json("POST", "/v1/search", searchResults, { query, limit })).results;
  }
}
