import { normalizeModelName, upstreamModelOf } from "@hearth/contracts";
import { HearthError, type Logger } from "@hearth/core";
import type { EmbeddedRuntime } from "../runtime/embedded/embedded-runtime.js";
import type { ModelDescription, ModelRuntime } from "../runtime/language-model.js";
import type { OllamaRuntime } from "../runtime/upstream/ollama-runtime.js";
import type { OpenAiCompatibleRuntime } from "../runtime/upstream/openai-compatible-runtime.js";

export interface CatalogModel {
  /** The name clients use. */
  name: string;
  runtime: ModelRuntime;
  /** The id inside the runtime. */
  modelId: string;
  description: ModelDescription;
}

/** How long a failed upstream listing is remembered, so one absent Ollama does not slow every request. */
const UPSTREAM_RETRY_MS = 10_000;

/**
 * Every model clients can name, and the runtime that serves it: embedded GGUF files first, then the
 * Ollama upstream's models, then OpenAI-compatible upstreams' models as `<upstream>/<id>`.
 */
export class ModelCatalog {
  readonly #failedUntil = new Map<ModelRuntime, number>();
  readonly #lastList = new Map<ModelRuntime, { at: number; models: ModelDescription[] }>();

  constructor(
    readonly embedded: EmbeddedRuntime,
    readonly ollama: OllamaRuntime | undefined,
    readonly upstreams: Map<string, OpenAiCompatibleRuntime>,
    private readonly logger: Logger,
  ) {}

  get runtimes(): ModelRuntime[] {
    return [this.embedded, ...(this.ollama ? [this.ollama] : []), ...this.upstreams.values()];
  }

  async #upstreamModels(runtime: ModelRuntime, maxAgeMs: number): Promise<ModelDescription[]> {
    const cached = this.#lastList.get(runtime);
    if (cached && Date.now() - cached.at < maxAgeMs) return cached.models;
    if ((this.#failedUntil.get(runtime) ?? 0) > Date.now()) return [];
    try {
      const models = await runtime.listModels();
      this.#lastList.set(runtime, { at: Date.now(), models });
      this.#failedUntil.delete(runtime);
      return models;
    } catch (error) {
      this.#failedUntil.set(runtime, Date.now() + UPSTREAM_RETRY_MS);
      this.logger.debug(
        { provider: runtime.provider, reason: (error as Error).message },
        "upstream not listed",
      );
      return [];
    }
  }

  async list(): Promise<CatalogModel[]> {
    const result: CatalogModel[] = [];
    const seen = new Set<string>();
    for (const description of await this.embedded.listModels()) {
      seen.add(description.id);
      result.push({ name: description.id, runtime: this.embedded, modelId: description.id, description });
    }
    if (this.ollama) {
      for (const description of await this.#upstreamModels(this.ollama, 0)) {
        if (seen.has(description.id)) continue;
        seen.add(description.id);
        result.push({ name: description.id, runtime: this.ollama, modelId: description.id, description });
      }
    }
    for (const [name, runtime] of this.upstreams) {
      for (const description of await this.#upstreamModels(runtime, 0)) {
        result.push({ name: `${name}/${description.id}`, runtime, modelId: description.id, description });
      }
    }
    return result;
  }

  /** The runtime serving a model name; MODEL_NOT_FOUND when none does. */
  async resolve(requested: string): Promise<CatalogModel> {
    const target = upstreamModelOf(requested, this.upstreams);
    if (target) {
      const upstream = this.upstreams.get(target.upstream)!;
      const models = await this.#upstreamModels(upstream, 30_000);
      const description = models.find((model) => model.id === target.modelId);
      if (description) return { name: requested, runtime: upstream, modelId: target.modelId, description };
    }
    const name = normalizeModelName(requested);
    if (await this.embedded.hasModel(name)) {
      const description = this.embedded.describe(name) ?? { id: name };
      return { name, runtime: this.embedded, modelId: name, description };
    }
    if (this.ollama) {
      const models = await this.#upstreamModels(this.ollama, 5_000);
      const description = models.find((model) => model.id === name || model.id === requested);
      if (description)
        return { name: description.id, runtime: this.ollama, modelId: description.id, description };
    }
    throw new HearthError(
      "MODEL_NOT_FOUND",
      `model "${requested}" not found; GET /api/tags lists the models available`,
      {
        details: { model: requested },
      },
    );
  }
}
