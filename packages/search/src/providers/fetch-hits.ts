import type { z } from "zod";
import { callJson, type JsonCall } from "./http-json.js";
import { parseWire } from "./parse-wire.js";
import { ProviderCallError } from "./provider-call-error.js";
import type { ProviderHit } from "./search-provider.js";

/** What differs between engines' answers: their shape, where the results are, and how one reads. */
export interface HitsAnswer<S extends z.ZodType, Item> {
  /** The answer's wire schema; a mismatch is a provider error, never a crash. */
  schema: S;
  /** The result list in the checked answer; engines omit it when nothing matched. */
  results: (body: z.output<S>) => readonly Item[] | null | undefined;
  hit: (item: Item) => ProviderHit;
  /** For engines that answer HTTP 200 with an error object instead of results: its message. */
  errorIn?: (body: unknown) => string | undefined;
}

/**
 * One search call to an engine's JSON API: callJson's HTTP, rate-limit and malformed-JSON errors,
 * then the answer checked against its schema and the first `limit` results mapped in the engine's order.
 */
export async function fetchHits<S extends z.ZodType, Item>(
  call: JsonCall,
  answer: HitsAnswer<S, Item>,
  limit: number,
): Promise<ProviderHit[]> {
  const raw = await callJson(call);
  const error = answer.errorIn?.(raw);
  if (error !== undefined) {
    throw new ProviderCallError({ url: call.url.split("?")[0]!, status: 200, message: error });
  }
  const body = parseWire(answer.schema, raw, call.url);
  return (answer.results(body) ?? []).slice(0, limit).map((item) => answer.hit(item));
}

/** The engine's URL with the query parameters that have a value, in the order given. */
export function withQuery(base: string | URL, params: Record<string, string | number | undefined>): string {
  const url = new URL(base);
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== "") url.searchParams.set(name, String(value));
  }
  return url.href;
}
