import { strToU8, zipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { ZipArchive, type ZipArchiveOptions } from "./zip-archive.js";

class Corrupt extends Error {}
class TooLarge extends Error {}

/** The caller's errors: each refusal is told apart by its class. */
const options = (maxExtractedBytes: number, more: Partial<ZipArchiveOptions> = {}): ZipArchiveOptions => ({
  maxExtractedBytes,
  corrupt: (reason) => new Corrupt(reason),
  tooLarge: () => new TooLarge(),
  ...more,
});

/** The same ZIP with every size its headers declare set to `size`. */
function lyingSizes(zip: Uint8Array, size: number): Uint8Array {
  const copy = Uint8Array.from(zip);
  const view = new DataView(copy.buffer);
  for (let at = 0; at + 4 <= copy.length; at++) {
    if (view.getUint32(at, true) === 0x04034b50) view.setUint32(at + 22, size, true);
    if (view.getUint32(at, true) === 0x02014b50) view.setUint32(at + 24, size, true);
  }
  return copy;
}

describe("ZipArchive", () => {
  it("lists the entries and reads those asked for, stored or deflated", () => {
    const zip = zipSync({
      "notes.txt": [strToU8("héllo"), { level: 0 }],
      export: { "conversations.json": strToU8("[1,2,3]") },
    });
    const archive = new ZipArchive(zip, options(1024));
    expect(archive.names).toEqual(["notes.txt", "export/", "export/conversations.json"]);
    expect(archive.has("export/conversations.json")).toBe(true);
    expect(archive.declaredSize("export/conversations.json")).toBe(7);
    expect(archive.text("notes.txt")).toBe("héllo");
    expect(archive.bytes("export/conversations.json")?.toString()).toBe("[1,2,3]");
    expect(archive.text("missing")).toBeUndefined();
  });

  it("throws the caller's errors: corrupt for a damaged container, too large past the limit however the headers lie", () => {
    const zip = zipSync({ "a.txt": strToU8("a".repeat(10_000)) }, { level: 9 });
    expect(() => new ZipArchive(zip.subarray(0, zip.length - 30), options(1e6))).toThrow(Corrupt);
    expect(() => new ZipArchive(strToU8("PK\u0003\u0004 no more"), options(1e6))).toThrow(Corrupt);
    expect(() => new ZipArchive(zip, options(9_999)).text("a.txt")).toThrow(TooLarge);
    expect(() => new ZipArchive(lyingSizes(zip, 10), options(9_999)).text("a.txt")).toThrow(TooLarge);
    expect(new ZipArchive(lyingSizes(zip, 10), options(10_000)).text("a.txt")).toHaveLength(10_000);
    // The limit holds for all the entries read together.
    const two = zipSync({ "a.txt": strToU8("a".repeat(600)), "b.txt": strToU8("b".repeat(600)) });
    const archive = new ZipArchive(two, options(1_000));
    expect(archive.text("a.txt")).toHaveLength(600);
    expect(() => archive.text("b.txt")).toThrow(TooLarge);
  });

  it("refuses on opening when the declared sizes add up past maxDeclaredBytes, if the caller asks", () => {
    const zip = zipSync({ "a.txt": strToU8("a".repeat(10_000)) });
    expect(() => new ZipArchive(zip, options(1_000, { maxDeclaredBytes: 9_999 }))).toThrow(TooLarge);
    expect(new ZipArchive(zip, options(1_000)).names).toEqual(["a.txt"]);
  });
});
