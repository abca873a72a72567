import { HearthError } from "@hearth/core";

/**
 * Checks an uploaded file name: a plain name, never a path. An empty name (DOCUMENT_NAME_EMPTY),
 * one over 255 characters (DOCUMENT_NAME_TOO_LONG) and `../x`, `/etc/x`, `a\\b`, NUL or control
 * characters (DOCUMENT_NAME_INVALID) are refused, each by its own code so the reader learns which
 * rule it broke. The name is only a label: files are stored under generated ids, so its length is
 * counted in characters, not in a file system's bytes (96 Chinese characters are some 290 bytes);
 * but a name that tries to be a path is a sign of a bad client.
 */
const MAX_NAME_CHARACTERS = 255;

/** The three escapes a multipart/form-data sender writes in a file name, and what each stands for. */
const MULTIPART_ESCAPES: Readonly<Record<string, string>> = { "%22": '"', "%0D": "\r", "%0A": "\n" };

/**
 * An upload's file name as its sender meant it, from the `filename` of its multipart part. Browsers,
 * curl (7.81 and later) and Node's FormData write `"`, CR and LF in it as `%22`, `%0D` and `%0A` and
 * escape nothing else, `%` included (the WHATWG "multipart/form-data encoding algorithm"): those
 * three escapes, written as they write them (upper case), are turned back, and any other `%` stays,
 * so `100%25.md` keeps its name. Because `%` is not escaped, a real name holding the text `%22` reads
 * as one holding `"`: the escape is ambiguous, and a name is read as browsers send it. A CR or LF
 * this gives is refused by {@link validateFileName}, as any control character.
 */
export function multipartFileName(sent: string): string {
  return sent.replace(/%22|%0D|%0A/g, (escaped) => MULTIPART_ESCAPES[escaped] ?? escaped);
}

export function validateFileName(name: string): string {
  const trimmed = name.normalize("NFC").trim();
  if (!trimmed) throw new HearthError("DOCUMENT_NAME_EMPTY", "The file has no name");
  if (/[\u0000-\u001f\u007f]/.test(trimmed))
    throw new HearthError(
      "DOCUMENT_NAME_INVALID",
      `The file name ${quotedName(name)} holds control characters`,
    );
  if (/[/\\]/.test(trimmed) || trimmed === "." || trimmed === ".." || /^[a-z]:/i.test(trimmed)) {
    throw new HearthError(
      "DOCUMENT_NAME_INVALID",
      `The file name ${quotedName(name)} holds a path; send a plain file name`,
    );
  }
  if ([...trimmed].length > MAX_NAME_CHARACTERS)
    throw new HearthError(
      "DOCUMENT_NAME_TOO_LONG",
      `The file name is ${[...trimmed].length} characters long; at most ${MAX_NAME_CHARACTERS} are allowed`,
    );
  return trimmed;
}

/**
 * A refused name as it was sent, for the failed document's label: control characters written as
 * \uXXXX, cut at 200 characters. Not reduced to its last segment: `a\b.txt` labelled `b.txt` would
 * read as, and be listed beside, a real `b.txt`.
 */
export function displayName(name: string): string {
  const escaped = name.replace(
    /[\u0000-\u001f\u007f]/g,
    (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  if (!escaped) return '""';
  return escaped.length > 200 ? `${escaped.slice(0, 200)}…` : escaped;
}

/** A refused name quoted for a message, escaped so that what was sent is what is shown. */
export function quotedName(name: string): string {
  return JSON.stringify(name.length > 200 ? `${name.slice(0, 200)}…` : name);
}
