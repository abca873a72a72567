import { HearthError, ZipArchive } from "@hearth/core";

export type { ZipArchive } from "@hearth/core";

/**
 * A document's ZIP container (OOXML, ODF), read with core's ZipArchive under the knowledge
 * service's limits and codes: what is read inflates to at most `maxExtractedBytes`, and sizes
 * declared beyond four times that are refused before inflating (DOCUMENT_EXPANDS_TOO_LARGE); a
 * damaged container is DOCUMENT_CORRUPT.
 */
export function openZipArchive(bytes: Uint8Array, maxExtractedBytes: number): ZipArchive {
  return new ZipArchive(bytes, {
    maxExtractedBytes,
    maxDeclaredBytes: maxExtractedBytes * 4,
    corrupt: (reason) => new HearthError("DOCUMENT_CORRUPT", `The file is corrupt: ${reason}`),
    tooLarge: () =>
      new HearthError(
        "DOCUMENT_EXPANDS_TOO_LARGE",
        "The file expands beyond the configured limit when unpacked (knowledge.maxExtractedBytes)",
      ),
  });
}
