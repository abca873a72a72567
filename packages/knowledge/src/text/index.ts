export { foldText } from "./fold-text.js";
export { analyzeText, analyzeToDocument } from "./text-analyzer.js";
