export { foldText } from "@hearth/sensitive-words";
export { analyzeText, analyzeToDocument, queryPhrases, queryTerms } from "./text-analyzer.js";
