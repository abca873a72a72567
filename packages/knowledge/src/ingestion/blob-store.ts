import { createHash, randomUUID } from "node:crypto";
import { createReadStream, createWriteStream, statSync } from "node:fs";
import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { PRIVATE_DIR } from "@hearth/core";

export interface StoredUpload {
  path: string;
  sizeBytes: number;
  sha256: string;
  /** True when the stream was longer than the limit (the rest was read and discarded). */
  truncated: boolean;
}

/**
 * Original document bytes under `<dataDir>/knowledge/files/<kb>/<document>.<sha256>`: the version a
 * job indexes is a snapshot, so a file changing in a watched folder mid-parse cannot mix versions,
 * and citations can open exactly the bytes that were indexed. Writes go to a temporary file first.
 */
export class BlobStore {
  readonly #root: string;

  constructor(root: string) {
    this.#root = root;
  }

  path(knowledgeBaseId: string, documentId: string, sha256: string): string {
    return join(this.#root, "files", knowledgeBaseId, `${documentId}.${sha256}`);
  }

  /** Streams to a temporary file, hashing as it goes; stops keeping bytes past `limit`. */
  async receive(stream: Readable, limit: number): Promise<StoredUpload> {
    const path = await this.#temporaryPath();
    const hash = createHash("sha256");
    let size = 0;
    let truncated = false;
    const out = createWriteStream(path);
    await pipeline(
      stream,
      async function* (source: AsyncIterable<Buffer>) {
        for await (const chunk of source) {
          if (truncated) continue;
          if (size + chunk.length > limit) {
            truncated = true;
            continue;
          }
          size += chunk.length;
          hash.update(chunk);
          yield chunk;
        }
      },
      out,
    );
    if ((stream as { truncated?: boolean }).truncated) truncated = true;
    return { path, sizeBytes: size, sha256: hash.digest("hex"), truncated };
  }

  async hashFile(path: string): Promise<{ sha256: string; sizeBytes: number }> {
    const hash = createHash("sha256");
    let size = 0;
    for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
      size += chunk.length;
      hash.update(chunk);
    }
    return { sha256: hash.digest("hex"), sizeBytes: size };
  }

  /** Moves a received temporary file to its final place (a no-op when that version is there). */
  async keep(
    temporaryPath: string,
    knowledgeBaseId: string,
    documentId: string,
    sha256: string,
  ): Promise<string> {
    const target = this.path(knowledgeBaseId, documentId, sha256);
    await mkdir(join(this.#root, "files", knowledgeBaseId), PRIVATE_DIR);
    await rename(temporaryPath, target);
    return target;
  }

  async copyIn(
    sourcePath: string,
    knowledgeBaseId: string,
    documentId: string,
    sha256: string,
  ): Promise<void> {
    const temporary = await this.#temporaryPath();
    await pipeline(createReadStream(sourcePath), createWriteStream(temporary));
    await this.keep(temporary, knowledgeBaseId, documentId, sha256);
  }

  async writeBytes(
    bytes: Uint8Array,
    knowledgeBaseId: string,
    documentId: string,
    sha256: string,
  ): Promise<void> {
    const temporary = await this.#temporaryPath();
    await writeFile(temporary, bytes);
    await this.keep(temporary, knowledgeBaseId, documentId, sha256);
  }

  /** A fresh path in the store's own tmp folder, on the same file system as the blobs it becomes. */
  async #temporaryPath(): Promise<string> {
    const directory = join(this.#root, "tmp");
    await mkdir(directory, PRIVATE_DIR);
    return join(directory, randomUUID());
  }

  read(knowledgeBaseId: string, documentId: string, sha256: string): Promise<Buffer> {
    return readFile(this.path(knowledgeBaseId, documentId, sha256));
  }

  /** The size of a stored version, or undefined when it is not there. */
  sizeOf(knowledgeBaseId: string, documentId: string, sha256: string): number | undefined {
    return statSync(this.path(knowledgeBaseId, documentId, sha256), { throwIfNoEntry: false })?.size;
  }

  async exists(knowledgeBaseId: string, documentId: string, sha256: string): Promise<boolean> {
    return stat(this.path(knowledgeBaseId, documentId, sha256)).then(
      () => true,
      () => false,
    );
  }

  async discard(path: string): Promise<void> {
    await rm(path, { force: true });
  }

  async remove(knowledgeBaseId: string, documentId: string, sha256: string | null): Promise<void> {
    if (sha256) await rm(this.path(knowledgeBaseId, documentId, sha256), { force: true });
  }

  async removeKnowledgeBase(knowledgeBaseId: string): Promise<void> {
    await rm(join(this.#root, "files", knowledgeBaseId), { recursive: true, force: true });
  }
}
