export type { SkippedModelFile } from "./discovery/model-name.js";
export { type ScannedModel, scanModelsDir, skippedModelFiles } from "./discovery/scan-models-dir.js";
export { createModelService, probeOllama, serveModel } from "./model-service.js";
export {
  fileNameForModel,
  type InstalledModel,
  ModelRegistry,
  type ModelVersion,
  type PullProgress,
  type RegistryModel,
  registryDirFor,
} from "./registry/model-registry.js";
export type { GenerateResult, ModelCall, ModelRuntime, StreamPart } from "./runtime/language-model.js";
