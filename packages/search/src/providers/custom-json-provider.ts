import type { SearchProviderConfig } from "@hearth/core";
import { callJson } from "./http-json.js";
import { ProviderCallError, shownUrl } from "./provider-call-error.js";
import type { EngineAnswer, ProviderRequest, SearchProvider } from "./search-provider.js";
import { parseLooseDate, plainText } from "./text.js";

type Config = Extract<SearchProviderConfig, { type: "custom" }>;

/** The steps of a path such as `a.b[0].c`. */
function pathSteps(path: string): string[] {
  return path
    .replace(/\[(\d+)\]/g, ".$1")
    .split(".")
    .filter(Boolean);
}

/** Reads `a.b[0].c` from a JSON value; undefined when any step is missing. */
export function readPath(value: unknown, path: string): unknown {
  let node = value;
  for (const part of pathSteps(path)) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/**
 * The result list at `path`: an empty list where the answer holds the path's last key as null or
 * leaves it out of an object that is there (`{"data":{"hits":null}}`, `{"data":{}}` for
 * `data.hits`), as engines answer "no results"; undefined where the path does not lead to a list
 * (a step before the last is missing or a list, or the value is not a list): a misconfigured path.
 */
export function readList(value: unknown, path: string): unknown[] | undefined {
  const steps = pathSteps(path);
  const last = steps.pop();
  const parent = steps.length > 0 ? readPath(value, steps.join(".")) : value;
  if (last === undefined) return Array.isArray(parent) ? parent : undefined;
  if (parent === null || typeof parent !== "object") return undefined;
  const list = (parent as Record<string, unknown>)[last];
  if ((list === null || list === undefined) && !Array.isArray(parent)) return [];
  return Array.isArray(list) ? list : undefined;
}

/**
 * An engine described in configuration: a request template and where the results and their
 * fields are in the answer, so that a new JSON API needs no code (docs/search.md).
 */
export class CustomJsonProvider implements SearchProvider {
  readonly type = "custom";
  readonly id: string;
  readonly #config: Config;

  constructor(config: Config) {
    this.id = config.id;
    this.#config = config;
  }

  async search(request: ProviderRequest): Promise<EngineAnswer> {
    const values: Record<string, string> = {
      query: request.query,
      limit: String(request.limit),
      freshness: request.freshness ? (this.#config.freshnessValues[request.freshness] ?? "") : "",
      apiKey: this.#config.apiKey ?? "",
    };
    const url = this.#config.url.replace(/\{(query|limit|freshness|apiKey)\}/g, (_match, name: string) =>
      encodeURIComponent(values[name]!),
    );
    const headers = Object.fromEntries(
      Object.entries(this.#config.headers).map(([name, value]) => [
        name,
        value.replace(/\{apiKey\}/g, values.apiKey!),
      ]),
    );
    const raw = await callJson({
      url,
      method: this.#config.method,
      headers,
      body:
        this.#config.method === "POST"
          ? fillTemplate(this.#config.body ?? { query: "{query}" }, values)
          : undefined,
      signal: request.signal,
    });
    const list = readList(raw, this.#config.response.results);
    if (!list) {
      throw new ProviderCallError({
        url: shownUrl(url),
        status: 200,
        message: `${this.id}: no list at "${this.#config.response.results}" in the answer`,
      });
    }
    const fields = this.#config.response;
    const hits = list.slice(0, request.limit).map((item) => ({
      url: asString(readPath(item, fields.url)),
      title: plainText(readPath(item, fields.title)),
      snippet: fields.snippet ? plainText(readPath(item, fields.snippet)) : "",
      publishedAt: fields.publishedAt ? parseLooseDate(readPath(item, fields.publishedAt)) : undefined,
    }));
    return { hits };
  }
}

function asString(value: unknown): string {
  return typeof value === "string" ? value : "";
}

/** Replaces `{query}` and friends in every string of a JSON template; `"{limit}"` alone becomes a number. */
function fillTemplate(template: unknown, values: Record<string, string>): unknown {
  if (typeof template === "string") {
    if (template === "{limit}") return Number(values.limit);
    return template.replace(/\{(query|limit|freshness|apiKey)\}/g, (_match, name: string) => values[name]!);
  }
  if (Array.isArray(template)) return template.map((item) => fillTemplate(item, values));
  if (template && typeof template === "object") {
    return Object.fromEntries(
      Object.entries(template).map(([key, value]) => [key, fillTemplate(value, values)]),
    );
  }
  return template;
}
