export type { SkippedModelFile } from "./discovery/model-name.js";
export { type ScannedModel, scanModelsDir, skippedModelFiles } from "./discovery/scan-models-dir.js";
export { createModelService, probeOllama, serveModel } from "./model-service.js";
export {
  fileNameForModel,
  type HashProgress,
  type InstalledModel,
  isRegistering,
  ModelRegistry,
  type ModelRegistryOptions,
  type ModelVersion,
  type PullProgress,
  type PullReference,
  parsePullReference,
  type RegisteringModel,
  type RegistryEntry,
  type RegistryModel,
  registryDirFor,
} from "./registry/model-registry.js";
export type { GenerateResult, ModelCall, ModelRuntime, StreamPart } from "./runtime/language-model.js";
