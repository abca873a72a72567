import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ConfigInput } from "@hearth/core";
import { startModelService } from "../../packages/model/test/start-model-service.js";
import { startWeb, type WebHarness } from "../../packages/web/test/support/web-harness.js";
import { writeTinyGguf } from "./tiny-gguf.js";

/** The web service in front of the real model service, which serves a tiny GGUF from a temporary folder. */
export interface RealModelStand {
  model: Awaited<ReturnType<typeof startModelService>>;
  web: WebHarness;
  /** Stops both services and removes the folder. */
  close(): Promise<void>;
}

export async function startRealModelStand(
  name: string,
  modelOverrides: ConfigInput["model"] = {},
): Promise<RealModelStand> {
  const dir = await mkdtemp(join(tmpdir(), `hearth-e2e-${name}-`));
  await writeTinyGguf(join(dir, "tiny.gguf"));
  const model = await startModelService(dir, modelOverrides);
  const web = await startWeb({ modelUrl: model.url });
  return {
    model,
    web,
    async close() {
      await web.close();
      await model.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
