export {};
export * from "./knowledge.js";
