/**
 * What a model's chat template (its GGUF's `tokenizer.chat_template`) lets it do, by the rule Ollama
 * applies to its own templates: a template that mentions tools renders the tools a request offers,
 * one that writes `<think>` has the model reason first. `/api/show` lists these as capabilities, and
 * the embedded runtime refuses tools to a model whose template has no place for them.
 */
export function templateOffersTools(template: string | undefined): boolean {
  return template !== undefined && /tools/.test(template);
}

export function templateThinks(template: string | undefined): boolean {
  return template !== undefined && /<think>/.test(template);
}
