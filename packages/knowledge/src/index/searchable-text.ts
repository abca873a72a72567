import { analyzeToDocument, splitDocument } from "../text/text-analyzer.js";
import type { ChunkRecord } from "./index-backend.js";

/**
 * The text every backend analyses into a chunk's full-text terms: its document title, its heading
 * path and its own text, so a query can match the section or file a passage sits in.
 */
export function searchableText(chunk: Pick<ChunkRecord, "documentTitle" | "headingPath" | "text">): string {
  return `${chunk.documentTitle}\n${chunk.headingPath.join(" ")}\n${chunk.text}`;
}

/**
 * A chunk's full-text terms and its run-end terms (splitDocument), each separated by single spaces,
 * from those analysed already (analyzedTerms), else from analyzeToDocument(searchableText(chunk))
 * here.
 */
export function chunkTerms(
  chunk: Pick<ChunkRecord, "documentTitle" | "headingPath" | "text" | "analyzedTerms">,
): { terms: string; runEnds: string } {
  return splitDocument(chunk.analyzedTerms ?? analyzeToDocument(searchableText(chunk)));
}
