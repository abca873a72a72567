import { analyzeToDocument } from "../text/text-analyzer.js";
import type { ChunkRecord } from "./index-backend.js";

/**
 * The text every backend analyses into a chunk's full-text terms: its document title, its heading
 * path and its own text, so a query can match the section or file a passage sits in.
 */
export function searchableText(chunk: Pick<ChunkRecord, "documentTitle" | "headingPath" | "text">): string {
  return `${chunk.documentTitle}\n${chunk.headingPath.join(" ")}\n${chunk.text}`;
}

/**
 * A chunk's full-text terms separated by single spaces: those analysed already (analyzedTerms), else
 * analyzeToDocument(searchableText(chunk)) here.
 */
export function chunkTerms(
  chunk: Pick<ChunkRecord, "documentTitle" | "headingPath" | "text" | "analyzedTerms">,
): string {
  return chunk.analyzedTerms ?? analyzeToDocument(searchableText(chunk));
}
