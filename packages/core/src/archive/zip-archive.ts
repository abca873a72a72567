import { inflateRawSync } from "node:zlib";

/** How a ZipArchive refuses: the caller's errors, so that each service answers in its own codes. */
export interface ZipArchiveOptions {
  /** The most bytes the entries read may inflate to, all of them together. */
  maxExtractedBytes: number;
  /**
   * Refuses the archive on opening when the sizes its directory declares for all its entries add up
   * to more than this (declared sizes can lie, but honest ones let it refuse before inflating).
   * Unset: no such check; what is read is still held to maxExtractedBytes.
   */
  maxDeclaredBytes?: number;
  /** The error for a damaged or unsupported container, `reason` saying what (in English). */
  corrupt(reason: string): Error;
  /** The error for entries that inflate beyond the limit (a zip bomb). */
  tooLarge(): Error;
}

interface Entry {
  method: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

/**
 * A minimal ZIP reader (OOXML and ODF documents, ChatGPT's data export...). It reads the central
 * directory and inflates only the entries asked for, each with a hard output cap (zlib's
 * maxOutputLength), so a zip bomb stops at the configured limit however its headers lie. Stored and
 * deflated entries only; a ZIP64 container is refused as corrupt.
 */
export class ZipArchive {
  readonly #bytes: Buffer;
  readonly #entries = new Map<string, Entry>();
  readonly #options: ZipArchiveOptions;
  #budget: number;

  constructor(bytes: Uint8Array, options: ZipArchiveOptions) {
    this.#bytes = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#options = options;
    this.#budget = options.maxExtractedBytes;
    this.#readCentralDirectory();
  }

  /** The entries' names, as the directory lists them (folders end with "/"). */
  get names(): string[] {
    return [...this.#entries.keys()];
  }

  has(name: string): boolean {
    return this.#entries.has(name);
  }

  /** The size the directory declares for the entry once inflated (it may lie), or undefined when absent. */
  declaredSize(name: string): number | undefined {
    return this.#entries.get(name)?.size;
  }

  /** The entry's bytes, inflated, or undefined when absent. */
  bytes(name: string): Buffer | undefined {
    const entry = this.#entries.get(name);
    if (!entry) return undefined;
    const { corrupt, tooLarge } = this.#options;
    const b = this.#bytes;
    const at = entry.localOffset;
    if (at + 30 > b.length || b.readUInt32LE(at) !== 0x04034b50)
      throw corrupt("a ZIP entry header is damaged");
    const start = at + 30 + b.readUInt16LE(at + 26) + b.readUInt16LE(at + 28);
    const data = b.subarray(start, start + entry.compressedSize);
    if (data.length !== entry.compressedSize) throw corrupt("a ZIP entry is truncated");
    let out: Buffer;
    if (entry.method === 0) {
      out = data;
    } else if (entry.method === 8) {
      try {
        out = inflateRawSync(data, { maxOutputLength: Math.max(1, this.#budget) });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") throw tooLarge();
        throw corrupt("a ZIP entry does not inflate");
      }
    } else {
      throw corrupt(`a ZIP entry uses unsupported compression method ${entry.method}`);
    }
    this.#budget -= out.length;
    if (this.#budget < 0) throw tooLarge();
    return out;
  }

  /** The entry's bytes as UTF-8 text (malformed bytes read as U+FFFD), or undefined when absent. */
  text(name: string): string | undefined {
    return this.bytes(name)?.toString("utf8");
  }

  #readCentralDirectory(): void {
    const { corrupt, tooLarge, maxDeclaredBytes } = this.#options;
    const b = this.#bytes;
    let eocd = -1;
    for (let i = b.length - 22; i >= Math.max(0, b.length - 22 - 65_535); i--) {
      if (b.readUInt32LE(i) === 0x06054b50) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw corrupt("the ZIP container has no end of central directory (truncated?)");
    const count = b.readUInt16LE(eocd + 10);
    let at = b.readUInt32LE(eocd + 16);
    let declared = 0;
    for (let i = 0; i < count; i++) {
      if (at + 46 > b.length || b.readUInt32LE(at) !== 0x02014b50)
        throw corrupt("the ZIP central directory is damaged");
      const method = b.readUInt16LE(at + 10);
      const compressedSize = b.readUInt32LE(at + 20);
      const size = b.readUInt32LE(at + 24);
      const nameLength = b.readUInt16LE(at + 28);
      const extraLength = b.readUInt16LE(at + 30);
      const commentLength = b.readUInt16LE(at + 32);
      const localOffset = b.readUInt32LE(at + 42);
      const name = b.toString("utf8", at + 46, at + 46 + nameLength);
      if (compressedSize === 0xffffffff || localOffset === 0xffffffff)
        throw corrupt("ZIP64 containers are not supported");
      declared += size;
      this.#entries.set(name, { method, compressedSize, size, localOffset });
      at += 46 + nameLength + extraLength + commentLength;
    }
    if (maxDeclaredBytes !== undefined && declared > maxDeclaredBytes) throw tooLarge();
  }
}
