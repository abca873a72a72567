/**
 * Model names are `name:tag` as in Ollama. The model service serves `stories260K` as
 * `stories260K:latest`, so anything that keys on a model name (access rules, usage) must compare
 * names in this form, or the two spellings of one model would be two models.
 */

/** Adds `:latest` when a name has no tag, as Ollama does (the tag is after the last `/`). */
export function normalizeModelName(name: string): string {
  const trimmed = name.trim();
  const slash = trimmed.lastIndexOf("/");
  return trimmed.slice(slash + 1).includes(":") ? trimmed : `${trimmed}:latest`;
}

/**
 * `<upstream>/<id>` of a configured OpenAI-compatible upstream, which the model service looks up
 * first and as it is (an upstream's ids have no tags); undefined for any other name.
 */
export function upstreamModelOf(
  name: string,
  upstreams: { has(upstream: string): boolean },
): { upstream: string; modelId: string } | undefined {
  const slash = name.indexOf("/");
  if (slash <= 0 || !upstreams.has(name.slice(0, slash))) return undefined;
  return { upstream: name.slice(0, slash), modelId: name.slice(slash + 1) };
}
