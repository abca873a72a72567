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

/**
 * What a model name may hold: Ollama's rule, ASCII only (names are the model ids of the Ollama and
 * OpenAI APIs), in the name and in the one `:tag`.
 */
export const MODEL_NAME_RULE = "ASCII letters a-z A-Z, digits 0-9, '.', '_', '-', and one ':tag'";

/** Whether a normalized `name:tag` is a model name Hearth serves (a file named otherwise is skipped). */
export function isModelName(normalized: string): boolean {
  const colon = normalized.lastIndexOf(":");
  return /^[\w.-]+$/.test(normalized.slice(0, colon)) && /^[\w.-]+$/.test(normalized.slice(colon + 1));
}

/** A *.gguf file of the models dir that is not served: why, and what to do about it. */
export type SkippedModelFile = {
  /** The file's name in the models dir. */
  file: string;
  /** Why, in words (for the log, the CLI and `hearth doctor`). */
  why: string;
  /** What to do, in words. */
  fix: string;
  /** `<file> is skipped: <why>; <fix>`. */
  message: string;
} & (
  | {
      /** Why, as a code (the UI words it): the file's name is not a model name. */
      reason: "not-a-model-name";
      /** A name the file would be served under: its allowed characters kept, or my-model.gguf. */
      suggestedFile: string;
    }
  | {
      /** A symbolic link that leads to no file (its target was moved or deleted, or links loop). */
      reason: "link-target-missing";
      /** Where the link points, as it is written. */
      target: string;
    }
);

/** The characters a model file's name may hold, spelled out for someone who must rename one. */
const FILE_NAME_RULE =
  "ASCII letters a-z A-Z, digits 0-9, '.', '_' and '-' (and one '@' before a tag, as in qwen@1.5b.gguf)";

/** The file's name with each run of other characters made a '-'; my-model.gguf when no letter or digit is left. */
function suggestedFileName(fileName: string): string {
  const base = fileName.replace(/\.gguf$/i, "");
  const at = base.lastIndexOf("@");
  const clean = (part: string) => part.replace(/[^\w.-]+/g, "-").replace(/^[-.]+|[-.]+$/g, "");
  const name = clean(at > 0 ? base.slice(0, at) : base);
  const tag = at > 0 ? clean(base.slice(at + 1)) : "";
  return `${/[a-z0-9]/i.test(name) ? name : "my-model"}${tag ? `@${tag}` : ""}.gguf`;
}

/**
 * Why a *.gguf file of the models dir is skipped for its name, or undefined when its name is served.
 * The one place that decides it (with `listModelFiles`, which adds links that lead to no file): the
 * runtime's scan (which logs it), the registry, `hearth models list`, `hearth doctor` and the web
 * UI's no-model card all say what this says.
 */
export function skippedModelFile(fileName: string): SkippedModelFile | undefined {
  if (isModelName(modelNameFromFile(fileName))) return undefined;
  const suggestedFile = suggestedFileName(fileName);
  const why = `its name is not a model name, which may hold only ${FILE_NAME_RULE}`;
  const fix = `rename it, e.g. to ${suggestedFile}`;
  return {
    file: fileName,
    reason: "not-a-model-name",
    suggestedFile,
    why,
    fix,
    message: `${fileName} is skipped: ${why}; ${fix}`,
  };
}

/** A link of the models dir that leads to no file: not served (and never a crash); it says where it points. */
export function danglingModelLink(fileName: string, target: string): SkippedModelFile {
  const why = `it is a symbolic link to ${target}, where there is no file`;
  const fix = "put the file back there, or delete the link";
  return {
    file: fileName,
    reason: "link-target-missing",
    target,
    why,
    fix,
    message: `${fileName} is skipped: ${why}; ${fix}`,
  };
}
