export { foldText } from "./fold-text.js";
export { analyzeText, analyzeToDocument, queryTerms } from "./text-analyzer.js";
