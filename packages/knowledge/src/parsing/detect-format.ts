import { extname } from "node:path";
import { HearthError } from "@hearth/core";
import type { DocumentFormat } from "./parsed-document.js";
import { openZipArchive, type ZipArchive } from "./zip-archive.js";

const BY_EXTENSION: Record<string, DocumentFormat> = {
  ".pdf": "pdf",
  ".docx": "docx",
  ".pptx": "pptx",
  ".xlsx": "xlsx",
  ".odt": "odt",
  ".html": "html",
  ".htm": "html",
  ".xhtml": "html",
  ".md": "markdown",
  ".markdown": "markdown",
  ".txt": "text",
  ".text": "text",
  ".log": "text",
  ".csv": "csv",
  ".tsv": "csv",
  ".json": "json",
};

const ZIP_FORMATS = new Set<DocumentFormat>(["docx", "pptx", "xlsx", "odt"]);

function startsWith(bytes: Uint8Array, signature: number[]): boolean {
  return signature.every((byte, index) => bytes[index] === byte);
}

/**
 * What a file's bytes show it is, where that is no document (or not the one its name says): an id a
 * page words in its reader's language (`details.detected`), and the words of the English message.
 */
const KINDS = {
  "windows-executable": "a Windows executable",
  "elf-executable": "an ELF executable",
  "mach-o-executable": "a Mach-O executable",
  script: "a script",
  image: "an image",
  gzip: "a gzip archive",
  rar: "a RAR archive",
  "7z": "a 7z archive",
  ole: "an OLE file (legacy Office or an encrypted Office document)",
  zip: "a ZIP archive",
  pdf: "a PDF",
  binary: "binary data, not text",
} as const;
type DetectedKind = keyof typeof KINDS;

/** Executables and other binaries that must never pass for a document, whatever their name. */
function binaryKind(bytes: Uint8Array): DetectedKind | undefined {
  if (startsWith(bytes, [0x4d, 0x5a])) return "windows-executable";
  if (startsWith(bytes, [0x7f, 0x45, 0x4c, 0x46])) return "elf-executable";
  if (
    startsWith(bytes, [0xcf, 0xfa, 0xed, 0xfe]) ||
    startsWith(bytes, [0xfe, 0xed, 0xfa, 0xcf]) ||
    startsWith(bytes, [0xca, 0xfe, 0xba, 0xbe])
  ) {
    return "mach-o-executable";
  }
  if (startsWith(bytes, [0x23, 0x21])) return "script";
  if (
    startsWith(bytes, [0x89, 0x50, 0x4e, 0x47]) ||
    startsWith(bytes, [0xff, 0xd8, 0xff]) ||
    startsWith(bytes, [0x47, 0x49, 0x46, 0x38])
  )
    return "image";
  if (startsWith(bytes, [0x1f, 0x8b])) return "gzip";
  if (startsWith(bytes, [0x52, 0x61, 0x72, 0x21])) return "rar";
  if (startsWith(bytes, [0x37, 0x7a, 0xbc, 0xaf])) return "7z";
  if (startsWith(bytes, [0xd0, 0xcf, 0x11, 0xe0])) return "ole";
  return undefined;
}

/**
 * Whether a ZIP file is a document in a ZIP container (OOXML: DOCX, XLSX, PPTX...; ODF: ODT, ODS...;
 * EPUB), which Tika may read, or a plain archive. Undefined when its directory cannot be read.
 */
function zipContainer(bytes: Uint8Array): "document" | "archive" | undefined {
  let archive: ZipArchive;
  try {
    // Only the directory is read; nothing is inflated.
    archive = openZipArchive(bytes, Number.MAX_SAFE_INTEGER);
  } catch {
    return undefined;
  }
  const document =
    archive.has("[Content_Types].xml") || archive.has("mimetype") || archive.has("META-INF/container.xml");
  return document ? "document" : "archive";
}

/**
 * The format of a file from its name, checked against its first bytes: the name picks the parser,
 * and bytes that contradict it (an executable renamed .pdf) are refused before any parser runs.
 * Undefined means no built-in parser applies (Tika may take it).
 */
export function detectFormat(name: string, bytes: Uint8Array): DocumentFormat | undefined {
  const extension = extname(name).toLowerCase();
  const byName = BY_EXTENSION[extension];
  const isPdf = startsWith(bytes, [0x25, 0x50, 0x44, 0x46, 0x2d]);
  const isZip = startsWith(bytes, [0x50, 0x4b, 0x03, 0x04]) || startsWith(bytes, [0x50, 0x4b, 0x05, 0x06]);
  const binary = binaryKind(bytes);
  if (byName === "pdf") {
    if (isPdf) return "pdf";
    // PDF readers (PDFium too) accept a header within the first KiB; anything else claiming .pdf is refused.
    if (!binary && Buffer.from(bytes.subarray(0, 1024)).includes("%PDF-")) return "pdf";
    throw mismatch(name, binary ?? (isZip ? "zip" : "not a PDF"));
  }
  if (byName && ZIP_FORMATS.has(byName)) {
    if (startsWith(bytes, [0xd0, 0xcf, 0x11, 0xe0])) {
      throw new HearthError(
        "DOCUMENT_ENCRYPTED",
        `${extension.slice(1).toUpperCase()} file is encrypted (password-protected Office files are OLE containers)`,
      );
    }
    if (!isZip) throw mismatch(name, binary ?? (isPdf ? "pdf" : "not a ZIP-based office file"));
    return byName;
  }
  if (byName) {
    if (binary || isPdf || isZip) throw mismatch(name, binary ?? (isPdf ? "pdf" : "zip"));
    return byName;
  }
  if (binary) throw notADocument(name, binary);
  // An archive under its own name, or a ZIP that is no office document or e-book: not a document.
  if (isZip && (extension === ".zip" || zipContainer(bytes) === "archive")) throw notADocument(name, "zip");
  if (isPdf) return "pdf";
  return undefined;
}

/**
 * Bytes that contradict the name: what they are (`details.detected`) where they show it, else only
 * what they are not ("not a PDF").
 */
function mismatch(name: string, actual: DetectedKind | `not a ${string}`): HearthError {
  const known = actual in KINDS ? (actual as DetectedKind) : undefined;
  return new HearthError(
    "DOCUMENT_TYPE_MISMATCH",
    `${JSON.stringify(name)} is named like a document but is ${known ? KINDS[known] : actual}`,
    known ? { details: { detected: known } } : {},
  );
}

/** A text file's bytes that are binary data (NUL bytes), whatever the name says. */
export function binaryNotText(): HearthError {
  return new HearthError("DOCUMENT_TYPE_MISMATCH", "The file holds binary data, not text", {
    details: { detected: "binary" },
  });
}

/**
 * An executable, image or archive under a name that claims no document format (`prog.exe`): nothing
 * contradicts the name, it is just not a document. Refused even with Tika, which would parse it
 * (`details.reason: "not-a-document"`).
 */
function notADocument(name: string, actual: DetectedKind): HearthError {
  return new HearthError(
    "DOCUMENT_UNSUPPORTED_FORMAT",
    `${JSON.stringify(name)} is ${KINDS[actual]}, not a supported document type`,
    { details: { reason: "not-a-document", detected: actual } },
  );
}
