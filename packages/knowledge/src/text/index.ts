export { foldText } from "./fold-text.js";
export { analyzeText, analyzeToDocument, queryPhrases, queryTerms } from "./text-analyzer.js";
