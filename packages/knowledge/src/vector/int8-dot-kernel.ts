/**
 * The int8 dot-product scan compiled from int8-dot-kernel.wat (see compile-kernel.ts; a test keeps
 * the two in step). WebAssembly SIMD is in every Node.js since 16.4.
 */
const KERNEL_BASE64 =
  "AGFzbQEAAAABCgFgBn9/f39/fwADAgEABQYBAQGAgAQHEQIGbWVtb3J5AgAEc2NhbgAACq4BAasBAgJ/A3sCQANAIAYgA08NAf0MAAAAAAAAAAAAAAAAAAAAACEIQQAhBwNAIAAgB2r9AAQAIQkgASAHav0ABAAhCiAIIAkgCv2cASAJIAr9nQH9jgH9fv2uASEIIAdBEGohByAHIARJDQALIAUgBkECdGogCP0bACAI/RsBaiAI/RsCIAj9GwNqarIgAiAGQQJ0aioCAJQ4AgAgASAEaiEBIAZBAWohBgwACwsL";

/** The few WebAssembly globals used here (Node.js has them; @types/node does not declare them). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

export interface Int8DotKernel {
  readonly memory: WasmMemory;
  /** out[i] = dot(query, codes row i) * scales[i], for `count` rows of `stride` bytes; all offsets in bytes. */
  scan(query: number, codes: number, scales: number, count: number, stride: number, out: number): void;
}

let compiled: object | undefined;

/** A fresh kernel instance with its own memory (one per index). */
export function createInt8DotKernel(): Int8DotKernel {
  compiled ??= new wasm.Module(Buffer.from(KERNEL_BASE64, "base64"));
  const instance = new wasm.Instance(compiled, {});
  return instance.exports as unknown as Int8DotKernel;
}

/** The embedded kernel bytes, for the test that checks them against the .wat source. */
export function int8DotKernelBytes(): Uint8Array {
  return new Uint8Array(Buffer.from(KERNEL_BASE64, "base64"));
}
