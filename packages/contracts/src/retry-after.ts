/**
 * A Retry-After header's wait in milliseconds from `now`: the header holds seconds or an HTTP
 * date. Undefined when absent or unreadable; a date already past is 0.
 */
export function retryAfterMs(value: string | null | undefined, now = Date.now()): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * An `x-should-retry` header (the one the openai and Anthropic SDKs obey): true or false as it says,
 * undefined when absent or anything else.
 */
export function shouldRetryOf(value: string | string[] | undefined): boolean | undefined {
  return value === "true" ? true : value === "false" ? false : undefined;
}
