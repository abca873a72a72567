import { existsSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseAllDocuments } from "yaml";

/**
 * A small Kustomize renderer for the features deploy/k8s uses, so tests render the overlays
 * without kubectl: resources (files and directories), namespace, labels (with includeTemplates),
 * images, replicas, secretGenerator (envs, without the name hash) and strategic-merge patches
 * (maps merged, `null` deletes, lists of named items merged by name, `$patch: delete` removes an object). Anything else it meets is
 * an error, so a new Kustomize feature cannot be silently ignored.
 */
export type KubernetesObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; [key: string]: unknown };
  [key: string]: unknown;
};

type Tree = Record<string, unknown>;

const SUPPORTED = new Set([
  "apiVersion",
  "kind",
  "resources",
  "namespace",
  "labels",
  "images",
  "replicas",
  "secretGenerator",
  "patches",
]);

/** `files` supplies files that are not in the repository (e.g. the operator's secrets file). */
export function renderKustomization(
  directory: string,
  files: Record<string, string> = {},
): KubernetesObject[] {
  const read = (path: string) => files[resolve(path)] ?? readFileSync(path, "utf8");
  const kustomization = parseAllDocuments(read(join(directory, "kustomization.yaml")))[0]!.toJSON() as Tree;
  for (const key of Object.keys(kustomization)) {
    if (!SUPPORTED.has(key))
      throw new Error(`${directory}/kustomization.yaml: the test renderer does not support "${key}"`);
  }
  let objects: KubernetesObject[] = [];
  for (const resource of (kustomization.resources as string[] | undefined) ?? []) {
    const path = resolve(directory, resource);
    if (existsSync(path) && statSync(path).isDirectory()) objects.push(...renderKustomization(path, files));
    else
      objects.push(
        ...parseAllDocuments(read(path))
          .map((document) => document.toJSON() as KubernetesObject)
          .filter(Boolean),
      );
  }
  for (const generator of (kustomization.secretGenerator as Tree[] | undefined) ?? []) {
    const data: Record<string, string> = {};
    for (const file of (generator.envs as string[]) ?? []) {
      for (const line of read(resolve(directory, file)).split("\n")) {
        const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
        if (match) data[match[1]!] = Buffer.from(match[2]!).toString("base64");
      }
    }
    if ((generator.options as Tree | undefined)?.disableNameSuffixHash !== true)
      throw new Error("secretGenerator needs disableNameSuffixHash in this renderer");
    objects.push({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: generator.name as string },
      type: "Opaque",
      data,
    });
  }
  for (const patch of (kustomization.patches as Tree[] | undefined) ?? []) {
    if (typeof patch.path !== "string" || patch.target)
      throw new Error("only `patches: - path:` strategic merge patches are supported");
    for (const document of parseAllDocuments(read(resolve(directory, patch.path)))) {
      const change = document.toJSON() as KubernetesObject;
      const index = objects.findIndex(
        (object) => object.kind === change.kind && object.metadata.name === change.metadata.name,
      );
      if (index < 0) throw new Error(`${patch.path}: no ${change.kind} ${change.metadata.name} to patch`);
      if ((change as Tree).$patch === "delete") {
        objects.splice(index, 1);
        continue;
      }
      objects[index] = strategicMerge(
        objects[index] as unknown as Tree,
        change as unknown as Tree,
      ) as KubernetesObject;
    }
  }
  for (const { name, count } of (kustomization.replicas as { name: string; count: number }[] | undefined) ??
    []) {
    const target = objects.find((object) => object.kind === "Deployment" && object.metadata.name === name);
    if (!target) throw new Error(`replicas: no Deployment ${name}`);
    (target.spec as Tree).replicas = count;
  }
  for (const image of (kustomization.images as Tree[] | undefined) ?? []) {
    for (const container of objects.flatMap(podContainers)) {
      if (container.image === image.name)
        container.image = `${image.newName ?? image.name}:${image.newTag ?? "latest"}`;
    }
  }
  for (const entry of (kustomization.labels as Tree[] | undefined) ?? []) {
    const pairs = entry.pairs as Record<string, string>;
    for (const object of objects) {
      object.metadata.labels = { ...object.metadata.labels, ...pairs };
      const template = (object.spec as Tree | undefined)?.template as Tree | undefined;
      if (entry.includeTemplates && template) {
        template.metadata ??= {};
        const metadata = template.metadata as Tree;
        metadata.labels = { ...(metadata.labels as Tree | undefined), ...pairs };
      }
    }
  }
  if (typeof kustomization.namespace === "string") {
    objects = objects.map((object) =>
      object.kind === "Namespace"
        ? object
        : { ...object, metadata: { ...object.metadata, namespace: kustomization.namespace as string } },
    );
  }
  return objects;
}

export function podContainers(object: KubernetesObject): Tree[] {
  const spec = ((object.spec as Tree | undefined)?.template as Tree | undefined)?.spec as Tree | undefined;
  return [
    ...((spec?.containers as Tree[] | undefined) ?? []),
    ...((spec?.initContainers as Tree[] | undefined) ?? []),
  ];
}

function strategicMerge(base: unknown, patch: unknown): unknown {
  if (Array.isArray(patch)) {
    if (!Array.isArray(base) || !patch.every((item) => isTree(item) && typeof item.name === "string"))
      return patch;
    const merged = [...base] as Tree[];
    for (const item of patch as Tree[]) {
      const index = merged.findIndex((existing) => existing.name === item.name);
      if (index < 0) merged.push(item);
      else merged[index] = strategicMerge(merged[index], item) as Tree;
    }
    return merged;
  }
  if (!isTree(patch) || !isTree(base)) return patch;
  const merged: Tree = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete merged[key];
    else merged[key] = key in base ? strategicMerge(base[key], value) : value;
  }
  return merged;
}

function isTree(value: unknown): value is Tree {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
