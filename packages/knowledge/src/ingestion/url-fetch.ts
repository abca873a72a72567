import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { basename } from "node:path";
import { HearthError } from "@hearth/core";

const EXTENSION_BY_TYPE: Record<string, string> = {
  "application/pdf": ".pdf",
  "text/html": ".html",
  "application/xhtml+xml": ".html",
  "text/markdown": ".md",
  "text/plain": ".txt",
  "text/csv": ".csv",
  "application/json": ".json",
  "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
  "application/vnd.openxmlformats-officedocument.presentationml.presentation": ".pptx",
  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
  "application/vnd.oasis.opendocument.text": ".odt",
};

function isPrivateAddress(address: string): boolean {
  if (address.startsWith("::ffff:")) return isPrivateAddress(address.slice(7));
  if (isIP(address) === 4) {
    const [a, b] = address.split(".").map(Number) as [number, number];
    return (
      a === 10 ||
      a === 127 ||
      a === 0 ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 100 && b >= 64 && b <= 127)
    );
  }
  const lower = address.toLowerCase();
  return (
    lower === "::1" ||
    lower === "::" ||
    lower.startsWith("fc") ||
    lower.startsWith("fd") ||
    lower.startsWith("fe80")
  );
}

/**
 * Downloads a document from a URL the user gave: http(s) only, the size limit enforced while
 * reading, a timeout, and (unless the operator allows it) no loopback or private-network address,
 * so the service cannot be used to read internal endpoints.
 */
export async function fetchDocument(
  url: string,
  options: { maxBytes: number; allowPrivateNetwork: boolean; signal?: AbortSignal },
): Promise<{ name: string; bytes: Uint8Array; contentType: string }> {
  const parsed = new URL(url);
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:")
    throw new HearthError("URL_FETCH_FAILED", "Only http and https URLs can be ingested");
  if (!options.allowPrivateNetwork) {
    const host = parsed.hostname.replace(/^\[|\]$/g, "");
    const addresses = isIP(host)
      ? [host]
      : (await lookup(host, { all: true }).catch(() => [])).map((entry) => entry.address);
    if (addresses.length === 0)
      throw new HearthError("URL_FETCH_FAILED", `${parsed.hostname} does not resolve`);
    if (addresses.some(isPrivateAddress)) {
      throw new HearthError(
        "URL_FETCH_FAILED",
        `${parsed.hostname} is a private or loopback address (set knowledge.allowPrivateUrls to allow it)`,
      );
    }
  }
  let response: Response;
  try {
    const timeout = AbortSignal.timeout(60_000);
    response = await fetch(parsed, {
      redirect: "follow",
      signal: options.signal ? AbortSignal.any([options.signal, timeout]) : timeout,
    });
  } catch (error) {
    if (options.signal?.aborted) throw new HearthError("JOB_CANCELLED", "The job was cancelled");
    throw new HearthError("URL_FETCH_FAILED", `${parsed.origin} did not answer: ${(error as Error).message}`);
  }
  // Messages name origin and path only: a URL may carry credentials (user:password@, ?token=).
  if (!response.ok)
    throw new HearthError(
      "URL_FETCH_FAILED",
      `${parsed.origin}${parsed.pathname} answered ${response.status}`,
    );
  const declared = Number(response.headers.get("content-length") ?? "0");
  if (declared > options.maxBytes)
    throw new HearthError(
      "DOCUMENT_TOO_LARGE",
      `The document is ${declared} bytes; the limit is ${options.maxBytes}`,
    );
  const parts: Uint8Array[] = [];
  let size = 0;
  if (response.body) {
    for await (const part of response.body as unknown as AsyncIterable<Uint8Array>) {
      size += part.length;
      if (size > options.maxBytes) {
        await response.body.cancel().catch(() => {});
        throw new HearthError(
          "DOCUMENT_TOO_LARGE",
          `The document is larger than the limit of ${options.maxBytes} bytes`,
        );
      }
      parts.push(part);
    }
  }
  const contentType = (response.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  let name = decodeURIComponent(basename(parsed.pathname)) || parsed.hostname;
  const extension = EXTENSION_BY_TYPE[contentType];
  if (
    extension &&
    !name.toLowerCase().endsWith(extension) &&
    !(extension === ".html" && /\.html?$/i.test(name))
  )
    name += extension;
  return {
    name: name.replace(/[/\\\u0000-\u001f]/g, "_"),
    bytes: Buffer.concat(parts),
    contentType: contentType || "application/octet-stream",
  };
}
