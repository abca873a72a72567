import { createHash } from "node:crypto";
import type { StreamPart } from "../runtime/language-model.js";

export interface InferenceCacheOptions {
  enabled: boolean;
  ttlSeconds: number;
  maxEntries: number;
  maxBytes: number;
}

interface Entry {
  parts: StreamPart[];
  bytes: number;
  expiresAt: number;
}

/**
 * Answers repeated identical requests from memory: keyed by the model's identity (digest and
 * revision), the input and the sampling settings; least recently used entries go first when the size limit is reached.
 */
export class InferenceCache {
  readonly #entries = new Map<string, Entry>();
  readonly #options: InferenceCacheOptions;
  #bytes = 0;

  constructor(options: InferenceCacheOptions) {
    this.#options = options;
  }

  get enabled(): boolean {
    return this.#options.enabled;
  }

  get size(): { entries: number; bytes: number } {
    return { entries: this.#entries.size, bytes: this.#bytes };
  }

  static key(parts: unknown): string {
    return createHash("sha256").update(JSON.stringify(parts)).digest("hex");
  }

  get(key: string): StreamPart[] | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt < Date.now()) {
      this.#delete(key, entry);
      return undefined;
    }
    // Refresh recency: Map iteration order is insertion order.
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.parts;
  }

  set(key: string, parts: StreamPart[]): void {
    if (!this.#options.enabled) return;
    const bytes = parts.reduce((sum, part) => sum + ("text" in part ? part.text.length * 2 : 64), 64);
    if (bytes > this.#options.maxBytes) return;
    const existing = this.#entries.get(key);
    if (existing) this.#delete(key, existing);
    this.#entries.set(key, { parts, bytes, expiresAt: Date.now() + this.#options.ttlSeconds * 1000 });
    this.#bytes += bytes;
    for (const [oldKey, entry] of this.#entries) {
      if (this.#entries.size <= this.#options.maxEntries && this.#bytes <= this.#options.maxBytes) break;
      this.#delete(oldKey, entry);
    }
  }

  clear(): void {
    this.#entries.clear();
    this.#bytes = 0;
  }

  #delete(key: string, entry: Entry): void {
    this.#entries.delete(key);
    this.#bytes -= entry.bytes;
  }
}
