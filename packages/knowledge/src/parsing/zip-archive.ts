import { inflateRawSync } from "node:zlib";
import { HearthError } from "@hearth/core";

/**
 * A minimal reader for the ZIP containers of OOXML and ODF files. It reads the central directory
 * and inflates only the entries asked for, each with a hard output cap (zlib's maxOutputLength),
 * so a zip bomb stops at the configured limit however its headers lie.
 */
export class ZipArchive {
  readonly #bytes: Buffer;
  readonly #entries = new Map<string, { method: number; compressedSize: number; localOffset: number }>();
  #budget: number;

  constructor(bytes: Uint8Array, maxExtractedBytes: number) {
    this.#bytes = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#budget = maxExtractedBytes;
    this.#readCentralDirectory();
  }

  get names(): string[] {
    return [...this.#entries.keys()];
  }

  has(name: string): boolean {
    return this.#entries.has(name);
  }

  /** The entry's bytes as UTF-8 text, or undefined when absent. */
  text(name: string): string | undefined {
    const entry = this.#entries.get(name);
    if (!entry) return undefined;
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
        if ((error as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") throw bomb();
        throw corrupt("a ZIP entry does not inflate");
      }
    } else {
      throw corrupt(`a ZIP entry uses unsupported compression method ${entry.method}`);
    }
    this.#budget -= out.length;
    if (this.#budget < 0) throw bomb();
    return out.toString("utf8");
  }

  #readCentralDirectory(): void {
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
      this.#entries.set(name, { method, compressedSize, localOffset });
      at += 46 + nameLength + extraLength + commentLength;
    }
    // Declared sizes alone can lie, but when they are honest they let us refuse before inflating.
    if (declared > this.#budget * 4) throw bomb();
  }
}

const corrupt = (reason: string) => new HearthError("DOCUMENT_CORRUPT", `The file is corrupt: ${reason}`);
const bomb = () =>
  new HearthError(
    "DOCUMENT_EXPANDS_TOO_LARGE",
    "The file expands beyond the configured limit when unpacked (knowledge.maxExtractedBytes)",
  );
