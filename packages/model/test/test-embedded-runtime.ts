import { createLogger } from "@hearth/core";
import { EmbeddedRuntime, type EmbeddedRuntimeOptions } from "../src/runtime/embedded/embedded-runtime.js";

/** The embedded runtime as the tests run it over `modelsDir`: one thread, a 256-token context, one slot, quiet. */
export function testEmbeddedRuntime(
  modelsDir: string,
  options: Partial<EmbeddedRuntimeOptions> = {},
): EmbeddedRuntime {
  return new EmbeddedRuntime({
    modelsDir,
    threads: 1,
    contextSize: 256,
    parallel: 1,
    keepAliveSeconds: 60,
    logger: createLogger({ level: "silent" }),
    ...options,
  });
}
