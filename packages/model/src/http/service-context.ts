import type { SkippedModelFile } from "../discovery/model-name.js";
import type { ModelRegistry } from "../registry/model-registry.js";
import type { InferenceService } from "../serving/inference-service.js";
import type { CatalogModel, ModelCatalog } from "../serving/model-catalog.js";

/** What the routes need from the service: thin transport over these. */
export interface ModelServiceContext {
  inference: InferenceService;
  catalog: ModelCatalog;
  registry: ModelRegistry;
  shutdownSignal: AbortSignal;
  /** A local Ollama's models dir to import from, when configured. */
  ollamaModelsDir: string | undefined;
  /** The files of the models dir the embedded runtime skips (names that are not model names, links to no file). */
  skippedFiles(): Promise<SkippedModelFile[]>;
  describe(model: CatalogModel): Promise<Record<string, unknown>>;
}
