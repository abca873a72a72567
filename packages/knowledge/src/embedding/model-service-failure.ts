import { UpstreamCallError } from "@hearth/core";

/** What a failure's JSON body says: Hearth's `{error: {code, message}}`, or an upstream's `{error: string}`. */
function errorOf(body: string | undefined): { code?: string; message?: string } {
  try {
    const parsed = JSON.parse(body ?? "") as { error?: string | { code?: unknown; message?: unknown } };
    if (typeof parsed.error === "string") return { message: parsed.error };
    return {
      ...(typeof parsed.error?.code === "string" ? { code: parsed.error.code } : {}),
      ...(typeof parsed.error?.message === "string" ? { message: parsed.error.message } : {}),
    };
  } catch {
    return {};
  }
}

/** ": <the model service's error message>" from a failure's body, or "". */
export function upstreamReason(body: string | undefined): string {
  const { message } = errorOf(body);
  return message ? `: ${message.slice(0, 200)}` : "";
}

/** The model service's error code in a failed call's body (MODEL_CANNOT_RERANK, say), if it gave one. */
export function upstreamErrorCode(error: unknown): string | undefined {
  return error instanceof UpstreamCallError ? errorOf(error.responseBody).code : undefined;
}
