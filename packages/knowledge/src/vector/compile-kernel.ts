import { readFileSync } from "node:fs";
import wabt from "wabt";

/**
 * Compiles int8-dot-kernel.wat with wabt (a dev dependency) to the bytes embedded in
 * int8-dot-kernel.ts. Run `npx tsx packages/knowledge/src/vector/compile-kernel.ts` after
 * editing the .wat and paste its output; a test checks the two stay in step.
 */
export async function compileKernel(): Promise<Uint8Array> {
  const toolkit = await wabt();
  const source = readFileSync(new URL("./int8-dot-kernel.wat", import.meta.url), "utf8");
  const module = toolkit.parseWat("int8-dot-kernel.wat", source, { simd: true });
  try {
    return new Uint8Array(module.toBinary({}).buffer);
  } finally {
    module.destroy();
  }
}

if (process.argv[1]?.endsWith("compile-kernel.ts")) {
  const bytes = await compileKernel();
  console.log(Buffer.from(bytes).toString("base64"));
}
