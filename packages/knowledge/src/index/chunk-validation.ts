import { HearthError } from "@hearth/core";
import type { ChunkRecord, SearchFilters, VectorQuery } from "./index-backend.js";

/** The most hits one query may ask for. */
export const MAX_TOP_K = 1000;

function invalid(message: string, field: string): HearthError {
  return new HearthError("INDEX_INVALID_CHUNK", message, { details: { field } });
}

/**
 * Checks every chunk of a batch before a backend writes any of them, so a bad chunk fails the whole
 * batch with INDEX_INVALID_CHUNK and leaves what is stored untouched.
 */
export function validateChunks(chunks: readonly ChunkRecord[]): void {
  const seen = new Set<string>();
  for (const [position, chunk] of chunks.entries()) {
    const where = `chunk ${position}`;
    for (const field of ["id", "knowledgeBaseId", "documentId", "contentHash"] as const) {
      const value = chunk[field];
      if (typeof value !== "string" || value.length === 0 || value.length > 512) {
        throw invalid(`${where}: ${field} must be a non-empty string of at most 512 characters.`, field);
      }
    }
    if (seen.has(chunk.id))
      throw invalid(`${where}: id ${JSON.stringify(chunk.id)} appears twice in one batch.`, "id");
    seen.add(chunk.id);
    if (typeof chunk.text !== "string") throw invalid(`${where}: text must be a string.`, "text");
    if (typeof chunk.documentTitle !== "string")
      throw invalid(`${where}: documentTitle must be a string.`, "documentTitle");
    if (!Number.isInteger(chunk.ordinal) || chunk.ordinal < 0)
      throw invalid(`${where}: ordinal must be an integer ≥ 0.`, "ordinal");
    if (chunk.page !== undefined && (!Number.isInteger(chunk.page) || chunk.page < 1)) {
      throw invalid(`${where}: page must be an integer ≥ 1.`, "page");
    }
    if (
      !Number.isInteger(chunk.charStart) ||
      !Number.isInteger(chunk.charEnd) ||
      chunk.charStart < 0 ||
      chunk.charEnd < chunk.charStart
    ) {
      throw invalid(
        `${where}: charStart and charEnd must be integers with 0 ≤ charStart ≤ charEnd.`,
        "charStart",
      );
    }
    if (
      !Array.isArray(chunk.headingPath) ||
      chunk.headingPath.some((heading) => typeof heading !== "string")
    ) {
      throw invalid(`${where}: headingPath must be an array of strings.`, "headingPath");
    }
    validateMetadata(chunk.metadata, where, "INDEX_INVALID_CHUNK");
    if (chunk.embedding !== undefined) {
      if (!(chunk.embedding instanceof Float32Array) || chunk.embedding.length === 0) {
        throw invalid(`${where}: embedding must be a non-empty Float32Array.`, "embedding");
      }
      if (!chunk.embedding.every(Number.isFinite)) {
        throw new HearthError(
          "INDEX_DIMENSION_MISMATCH",
          `${where}: the embedding contains a value that is not a finite number.`,
        );
      }
    }
  }
}

function validateMetadata(
  metadata: unknown,
  where: string,
  code: "INDEX_INVALID_CHUNK" | "INVALID_REQUEST",
): void {
  if (metadata === null || typeof metadata !== "object" || Array.isArray(metadata)) {
    throw new HearthError(code, `${where}: metadata must be an object.`, { details: { field: "metadata" } });
  }
  for (const [key, value] of Object.entries(metadata)) {
    if (key.length === 0 || key.length > 128 || /["\\]/.test(key)) {
      throw new HearthError(
        code,
        `${where}: metadata key ${JSON.stringify(key)} must be 1 to 128 characters without quotes or backslashes.`,
        {
          details: { field: "metadata" },
        },
      );
    }
    if (
      !(
        typeof value === "string" ||
        typeof value === "boolean" ||
        (typeof value === "number" && Number.isFinite(value))
      )
    ) {
      throw new HearthError(
        code,
        `${where}: metadata value of ${JSON.stringify(key)} must be a string, a finite number or a boolean.`,
        {
          details: { field: "metadata" },
        },
      );
    }
  }
}

/** Checks a query's common fields; a bad one is the caller's mistake (INVALID_REQUEST). */
export function validateQuery(query: {
  knowledgeBaseIds: readonly string[];
  topK: number;
  filters?: SearchFilters | undefined;
}): void {
  if (!Array.isArray(query.knowledgeBaseIds) || query.knowledgeBaseIds.some((id) => typeof id !== "string")) {
    throw new HearthError("INVALID_REQUEST", "knowledgeBaseIds must be an array of knowledge-base ids.", {
      details: { field: "knowledgeBaseIds" },
    });
  }
  if (!Number.isInteger(query.topK) || query.topK < 1 || query.topK > MAX_TOP_K) {
    throw new HearthError("INVALID_REQUEST", `topK must be an integer from 1 to ${MAX_TOP_K}.`, {
      details: { field: "topK" },
    });
  }
  const filters = query.filters;
  for (const field of ["documentIds", "excludedDocumentIds"] as const) {
    const ids = filters?.[field];
    if (ids !== undefined && (!Array.isArray(ids) || ids.some((id) => typeof id !== "string")))
      throw new HearthError("INVALID_REQUEST", `filters.${field} must be an array of document ids.`, {
        details: { field: `filters.${field}` },
      });
  }
  if (filters?.metadata !== undefined) validateMetadata(filters.metadata, "filters", "INVALID_REQUEST");
}

/** Checks a vector query: its common fields, then that every component is a finite number. */
export function validateVectorQuery(query: VectorQuery): void {
  validateQuery(query);
  if (!query.vector.every(Number.isFinite)) {
    throw new HearthError(
      "INDEX_DIMENSION_MISMATCH",
      "The query vector contains a value that is not a finite number.",
    );
  }
}
