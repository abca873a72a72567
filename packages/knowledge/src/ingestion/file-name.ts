import { HearthError } from "@hearth/core";

/**
 * Checks an uploaded file name: a plain name, never a path. `../x`, `/etc/x`, `a\\b`, NUL or
 * control characters and names over 255 bytes are refused (the name is only a label: files are
 * stored under generated ids, but a name that tries to be a path is a sign of a bad client).
 */
export function validateFileName(name: string): string {
  const trimmed = name.normalize("NFC").trim();
  if (!trimmed) throw new HearthError("DOCUMENT_NAME_INVALID", "The file has no name");
  if (/[\u0000-\u001f\u007f]/.test(trimmed))
    throw new HearthError("DOCUMENT_NAME_INVALID", "The file name holds control characters");
  if (/[/\\]/.test(trimmed) || trimmed === "." || trimmed === ".." || /^[a-z]:/i.test(trimmed)) {
    throw new HearthError(
      "DOCUMENT_NAME_INVALID",
      `The file name "${displayName(trimmed)}" holds a path; send a plain file name`,
    );
  }
  if (Buffer.byteLength(trimmed) > 255)
    throw new HearthError("DOCUMENT_NAME_INVALID", "The file name is longer than 255 bytes");
  return trimmed;
}

/** A safe label for a refused name: its last path segment, control characters removed. */
export function displayName(name: string): string {
  const cleaned = name
    .replace(/[\u0000-\u001f\u007f]/g, "")
    .split(/[/\\]/)
    .filter((part) => part && part !== "." && part !== "..")
    .at(-1);
  return (cleaned ?? "unnamed").slice(0, 200) || "unnamed";
}
