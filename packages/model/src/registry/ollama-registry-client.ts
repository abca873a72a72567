import { HearthError, withoutUrlSecrets } from "@hearth/core";
import { z } from "zod";
import { isModelName } from "../discovery/model-name.js";
import { callUpstream } from "../runtime/upstream/http-call.js";

/** A model reference in the Ollama registry: `[scheme://host/][namespace/]model[:tag]`. */
export interface RegistryReference {
  baseUrl: string;
  namespace: string;
  model: string;
  tag: string;
}

export const DEFAULT_REGISTRY = "https://registry.ollama.ai";

export function parseRegistryReference(
  reference: string,
  options: { insecure?: boolean } = {},
): RegistryReference {
  let rest = reference.trim();
  let baseUrl = DEFAULT_REGISTRY;
  const scheme = /^(https?):\/\/([^/]+)\/(.+)$/.exec(rest);
  if (scheme) {
    baseUrl = `${scheme[1]}://${scheme[2]}`;
    rest = scheme[3]!;
  } else {
    const parts = rest.split("/");
    if (parts.length === 3 || (parts.length === 2 && /[.:]/.test(parts[0]!))) {
      if (!/^[\w-]+(\.[\w-]+)*(:\d+)?$/.test(parts[0]!)) {
        throw notAReference(reference);
      }
      baseUrl = `${options.insecure ? "http" : "https"}://${parts.shift()}`;
      rest = parts.join("/");
    }
  }
  const [path, tag = "latest"] = rest.split(":") as [string, string?];
  const segments = path.split("/").filter(Boolean);
  const model = segments.pop();
  const namespace = segments.join("/") || "library";
  const unsafe = (part: string) => part === "." || part === "..";
  if (
    !model ||
    unsafe(model) ||
    unsafe(tag) ||
    namespace.split("/").some(unsafe) ||
    !isModelName(`${model}:${tag}`) ||
    !/^[\w./-]+$/.test(namespace)
  ) {
    throw notAReference(reference);
  }
  return { baseUrl, namespace, model, tag };
}

function notAReference(reference: string): HearthError {
  return new HearthError(
    "MODEL_REFERENCE_INVALID",
    `"${withoutUrlSecrets(reference)}" is not a model reference such as llama3.2:1b or host/namespace/model:tag`,
  );
}

export const ollamaManifestSchema = z.looseObject({
  schemaVersion: z.number().nullish(),
  mediaType: z.string().nullish(),
  config: z
    .looseObject({ digest: z.string(), mediaType: z.string().nullish(), size: z.number().nullish() })
    .nullish(),
  layers: z.array(
    z.looseObject({
      mediaType: z.string(),
      digest: z.string().regex(/^sha256:[0-9a-f]{64}$/),
      size: z.number(),
    }),
  ),
});
export type OllamaManifest = z.infer<typeof ollamaManifestSchema>;

/** The model weights in a manifest (the GGUF layer). */
export function modelLayer(manifest: OllamaManifest) {
  const layer = manifest.layers.find(
    (candidate) => candidate.mediaType === "application/vnd.ollama.image.model",
  );
  if (!layer)
    throw new HearthError(
      "MODEL_PULL_FAILED",
      "the manifest has no model layer (application/vnd.ollama.image.model)",
      { details: { reason: "no-model-layer" } },
    );
  return layer;
}

export async function fetchManifest(
  reference: RegistryReference,
  signal?: AbortSignal,
): Promise<OllamaManifest> {
  const url = `${reference.baseUrl}/v2/${reference.namespace}/${reference.model}/manifests/${reference.tag}`;
  let response: Response;
  try {
    response = await callUpstream({
      url,
      signal,
      headers: { accept: "application/vnd.docker.distribution.manifest.v2+json" },
      credentialsSetting: "the user name and password in the registry's URL (https://user:password@host/…)",
    });
  } catch (error) {
    const status = (error as { upstreamStatus?: number }).upstreamStatus;
    if (status === 404) {
      throw new HearthError(
        "MODEL_NOT_FOUND",
        `${reference.namespace}/${reference.model}:${reference.tag} is not in the registry ${withoutUrlSecrets(reference.baseUrl)}`,
        {
          details: {
            reason: "not-in-registry",
            registry: new URL(reference.baseUrl).host,
            model: `${reference.namespace}/${reference.model}:${reference.tag}`,
          },
        },
      );
    }
    throw new HearthError("MODEL_PULL_FAILED", `cannot fetch the manifest: ${(error as Error).message}`, {
      cause: error,
      details:
        status !== undefined
          ? { reason: "http-error", status, url: withoutUrlSecrets(url) }
          : { reason: "unreachable", host: new URL(url).host },
    });
  }
  const parsed = ollamaManifestSchema.safeParse(await response.json().catch(() => undefined));
  if (!parsed.success)
    throw new HearthError(
      "MODEL_PULL_FAILED",
      `${withoutUrlSecrets(url)} did not answer an Ollama manifest`,
      {
        details: { reason: "not-a-manifest", url: withoutUrlSecrets(url) },
      },
    );
  return parsed.data;
}

export function blobUrl(reference: RegistryReference, digest: string): string {
  return `${reference.baseUrl}/v2/${reference.namespace}/${reference.model}/blobs/${digest}`;
}
