export * from "./canonical-url.js";
export * from "./knowledge.js";
export * from "./model-name.js";
export * from "./model-ollama.js";
export * from "./model-openai.js";
export * from "./model-registry.js";
export * from "./same-page.js";
export * from "./search.js";
