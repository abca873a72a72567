import { HearthError, ZipArchive } from "@hearth/core";
import type { FastifyInstance } from "fastify";
import { withoutNul } from "../text/nul-characters.js";

declare module "fastify" {
  interface FastifyContextConfig {
    /** A route that takes a ZIP as its body (a Buffer), as well as JSON: the conversation import. */
    zipBody?: boolean;
  }
}

/**
 * ChatGPT's data export as the user downloads it: a ZIP holding conversations.json (at its root,
 * or in the one folder a re-zipped export has) beside chat.html, user.json, images... Only
 * conversations.json is read; the rest is never inflated.
 */

/** The Content-Types an import's ZIP comes as (application/octet-stream: when its bytes are a ZIP's). */
export const ZIP_CONTENT_TYPES = [
  "application/zip",
  "application/x-zip-compressed",
  "application/octet-stream",
];

/** Whether bytes begin as a ZIP does (a local file header, PK\x03\x04). */
export function looksLikeZip(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04
  );
}

/**
 * Reads a ZIP body (ZIP_CONTENT_TYPES) as a Buffer, held to the route's bodyLimit, for a route
 * marked `zipBody`; nothing is inflated here, before sign-in is checked. Any other route refuses
 * these types, as it did when no parser took them (415 UNSUPPORTED_MEDIA_TYPE), and so does the
 * import for application/octet-stream whose bytes are not a ZIP's.
 */
export function registerZipBodyParser(app: FastifyInstance): void {
  app.addContentTypeParser(ZIP_CONTENT_TYPES, { parseAs: "buffer" }, (request, body, done) => {
    const type = String(request.headers["content-type"] ?? "");
    const buffer = body as Buffer;
    if (request.routeOptions.config?.zipBody !== true)
      done(new HearthError("UNSUPPORTED_MEDIA_TYPE", `Unsupported Media Type: ${type}`), undefined);
    else if (!looksLikeZip(buffer) && type.toLowerCase().startsWith("application/octet-stream"))
      done(
        new HearthError(
          "UNSUPPORTED_MEDIA_TYPE",
          "The body is application/octet-stream but not a ZIP; send a JSON export as application/json",
        ),
        undefined,
      );
    else done(null, buffer);
  });
}

const WANTED = "conversations.json";

/**
 * The JSON value of the ZIP's conversations.json, read as the same file sent as JSON would be:
 * UTF-8 (400 INVALID_ENCODING), JSON (400 INVALID_JSON), its NUL characters taken out. It
 * inflates to at most `maxBytes` (web.importLimitBytes, the limit of the JSON sent alone): past it,
 * or declared past it, 413 PAYLOAD_TOO_LARGE, however the ZIP's headers lie. No conversations.json
 * at the root or one folder down, or several: 422 IMPORT_ARCHIVE_UNRECOGNIZED; a ZIP that cannot
 * be read: 422 IMPORT_ARCHIVE_CORRUPT.
 */
export function conversationsJsonOf(bytes: Uint8Array, maxBytes: number): unknown {
  const tooLarge = () =>
    new HearthError(
      "PAYLOAD_TOO_LARGE",
      `The ZIP's ${WANTED} unpacks to more than the import limit (web.importLimitBytes, ${maxBytes} bytes)`,
    );
  const archive = new ZipArchive(bytes, {
    maxExtractedBytes: maxBytes,
    corrupt: (reason) => new HearthError("IMPORT_ARCHIVE_CORRUPT", `The ZIP file cannot be read: ${reason}`),
    tooLarge,
  });
  const found = archive.names.filter((name) => {
    const parts = name.split(/[/\\]/);
    return parts.at(-1) === WANTED && parts.length <= 2;
  });
  if (found.length !== 1)
    throw new HearthError(
      "IMPORT_ARCHIVE_UNRECOGNIZED",
      found.length === 0
        ? `The ZIP is not ChatGPT's data export: it holds no ${WANTED} at its root or in one folder`
        : `The ZIP holds several ${WANTED} (${found.join(", ")}); import them one at a time, each as its JSON`,
    );
  const name = found[0]!;
  if ((archive.declaredSize(name) ?? 0) > maxBytes) throw tooLarge();
  const content = archive.bytes(name)!;
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(content);
  } catch {
    throw new HearthError("INVALID_ENCODING", `The ZIP's ${name} is not valid UTF-8`);
  }
  try {
    return withoutNul(JSON.parse(text));
  } catch (error) {
    throw new HearthError("INVALID_JSON", `The ZIP's ${name} is not JSON: ${(error as Error).message}`);
  }
}
