/**
 * Model names are `name:tag` as in Ollama. A file `stories260K.gguf` is `stories260K:latest`; a file
 * `qwen2.5@0.5b.gguf` is `qwen2.5:0.5b` (colons are awkward in file names on some systems).
 */
export function modelNameFromFile(fileName: string): string {
  const base = fileName.replace(/\.gguf$/i, "");
  const at = base.lastIndexOf("@");
  if (at > 0 && at < base.length - 1) return `${base.slice(0, at)}:${base.slice(at + 1)}`;
  return `${base}:latest`;
}

/** What a model name may hold: letters, digits, '.', '_', '-' in the name and in the one `:tag`. */
export const MODEL_NAME_RULE = "letters, digits, '.', '_', '-', and one ':tag'";

/** Whether a normalized `name:tag` is a model name Hearth serves (a file named otherwise is skipped). */
export function isModelName(normalized: string): boolean {
  const colon = normalized.lastIndexOf(":");
  return /^[\w.-]+$/.test(normalized.slice(0, colon)) && /^[\w.-]+$/.test(normalized.slice(colon + 1));
}
