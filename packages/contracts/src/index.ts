export * from "./knowledge.js";
