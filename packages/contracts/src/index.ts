export * from "./search.js";
export * from "./model-ollama.js";
export * from "./model-openai.js";
export * from "./knowledge.js";
