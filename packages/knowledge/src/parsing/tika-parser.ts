import { HearthError, UpstreamCallError } from "@hearth/core";
import type { ParsedDocument } from "./parsed-document.js";
import { parsePlainText } from "./text-parsers.js";

/**
 * Apache Tika server (`PUT /tika`, Accept: text/plain): the fallback for formats without a built-in
 * parser, or for every format when the operator chooses it. Only the configured URL is called.
 */
export async function parseWithTika(
  tikaUrl: string,
  bytes: Uint8Array,
  name: string,
  signal?: AbortSignal,
): Promise<ParsedDocument> {
  const url = `${tikaUrl.replace(/\/+$/, "")}/tika`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: "PUT",
      headers: {
        accept: "text/plain; charset=utf-8",
        "content-disposition": `attachment; filename=${encodeURIComponent(name)}`,
      },
      body: new Uint8Array(bytes),
      signal: signal ?? AbortSignal.timeout(120_000),
    });
  } catch (error) {
    throw UpstreamCallError.noAnswer({ url, upstream: `Tika at ${tikaUrl}`, cause: error });
  }
  const text = await response.text();
  if (response.status === 422 || response.status === 415) {
    throw new HearthError("DOCUMENT_UNSUPPORTED_FORMAT", `Tika cannot parse "${name}" (${response.status})`, {
      details: { reason: "tika-refused" },
    });
  }
  if (!response.ok)
    throw new UpstreamCallError({
      url,
      status: response.status,
      body: text.slice(0, 500),
      message: `Tika answered ${response.status}`,
    });
  return parsePlainText(text);
}
