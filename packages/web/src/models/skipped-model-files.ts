import type { ModelRegistryClient } from "@hearth/contracts";

/**
 * A file of the models dir that the model service skips, with why: a name that is not a model name
 * (and a name to rename it to), or a link that leads to no file (and where it points).
 */
export type SkippedModelFile =
  | { file: string; reason: "not-a-model-name"; suggestedFile: string }
  | { file: string; reason: "link-target-missing"; target: string };

/**
 * The models dir's files the model service skips (a `.gguf` dropped in under a name that is not a
 * model name, a link whose file is gone), for administrators: the no-model card and the Models tab
 * name them. None when the model service cannot tell within a few seconds: the pages are shown as
 * they were.
 */
export async function skippedModelFiles(registry: ModelRegistryClient): Promise<SkippedModelFile[]> {
  const skipped = await registry.skippedFiles(AbortSignal.timeout(5000)).catch(() => []);
  return skipped.map((file) =>
    file.reason === "not-a-model-name"
      ? { file: file.file, reason: file.reason, suggestedFile: file.suggested_file }
      : { file: file.file, reason: file.reason, target: file.target },
  );
}
