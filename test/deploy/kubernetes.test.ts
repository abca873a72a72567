import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { HearthError, loadConfig } from "@hearth/core";
import { Deployment } from "kubernetes-models/apps/v1";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { Ingress, NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { ConfigMap, Namespace, PersistentVolumeClaim, Secret, Service } from "kubernetes-models/v1";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../support/shared-data.js";
import { type KubernetesObject, podContainers, renderKustomization } from "./support/kustomize.js";

const MODELS = {
  "apps/v1/Deployment": Deployment,
  "autoscaling/v2/HorizontalPodAutoscaler": HorizontalPodAutoscaler,
  "networking.k8s.io/v1/Ingress": Ingress,
  "networking.k8s.io/v1/NetworkPolicy": NetworkPolicy,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
  "v1/ConfigMap": ConfigMap,
  "v1/Namespace": Namespace,
  "v1/PersistentVolumeClaim": PersistentVolumeClaim,
  "v1/Secret": Secret,
  "v1/Service": Service,
} as const;

// Rendered manifests are untyped YAML; the schemas are checked by kubernetes-models above.
// biome-ignore lint/suspicious/noExplicitAny: walking arbitrary rendered YAML
type Tree = Record<string, any>;

function render(overlay: string, moreSecrets = ""): KubernetesObject[] {
  const directory = join(repoRoot, "deploy/k8s/overlays", overlay);
  // The operator's secrets file is not in the repository; the example stands in for it.
  const secrets = `HEARTH_SERVICE_TOKEN=0123456789abcdef0123456789abcdef\nHEARTH_DATABASE_URL=postgres://hearth:x@db:5432/hearth\nHEARTH_SEARCH_REDIS_URL=redis://:x@redis:6379\n${moreSecrets}`;
  return renderKustomization(directory, { [resolve(directory, "hearth-secrets.env")]: secrets });
}

const find = (objects: KubernetesObject[], kind: string, name: string) =>
  objects.find((object) => object.kind === kind && object.metadata.name === name) as Tree | undefined;
const SERVICES = { web: 8080, model: 8081, search: 8082, knowledge: 8083 } as const;

/**
 * Which connections the NetworkPolicies allow, as Kubernetes evaluates them: a connection needs an
 * egress rule of the source (when its pod has egress policies) and an ingress rule of the destination.
 */
function allowed(
  objects: KubernetesObject[],
  from: { pod?: Record<string, string>; namespace?: string; ip?: string },
  to: { pod?: Record<string, string>; namespace?: string; ip?: string },
  port: number,
): boolean {
  const policies = objects.filter((object) => object.kind === "NetworkPolicy") as Tree[];
  const selects = (selector: Tree | undefined, labels: Record<string, string> | undefined) =>
    labels !== undefined &&
    Object.entries(selector?.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
  const portMatches = (ports: Tree[] | undefined, namedPortOk: boolean) =>
    !ports || ports.some((entry) => entry.port === port || (namedPortOk && entry.port === "http"));
  const ipMatches = (block: Tree, ip: string) => {
    const inRange = (cidr: string) => {
      const [base, bits] = cidr.split("/");
      const toNumber = (address: string) =>
        address.split(".").reduce((sum, part) => sum * 256 + Number(part), 0);
      const mask = Number(bits) === 0 ? 0 : (0xffffffff << (32 - Number(bits))) >>> 0;
      return (toNumber(ip) & mask) >>> 0 === (toNumber(base!) & mask) >>> 0;
    };
    return inRange(block.cidr) && !(block.except ?? []).some(inRange);
  };
  const peerMatches = (
    peer: Tree,
    other: { pod?: Record<string, string>; namespace?: string; ip?: string },
  ) => {
    if (peer.ipBlock) return other.ip !== undefined && ipMatches(peer.ipBlock, other.ip);
    const namespaceOk = peer.namespaceSelector
      ? other.namespace !== undefined &&
        selects(peer.namespaceSelector, { "kubernetes.io/metadata.name": other.namespace })
      : other.namespace === undefined;
    const podOk = peer.podSelector ? selects(peer.podSelector, other.pod) : true;
    return namespaceOk && podOk && (other.pod !== undefined || other.namespace !== undefined);
  };
  // Policies live in the hearth namespace and apply to its pods only; `namespace` marks other namespaces.
  const applying = (labels: Record<string, string> | undefined, type: string, namespace?: string) =>
    labels && namespace === undefined
      ? policies.filter(
          (policy) => selects(policy.spec.podSelector, labels) && policy.spec.policyTypes.includes(type),
        )
      : [];
  const egressPolicies = applying(from.pod, "Egress", from.namespace);
  const egressOk =
    from.pod === undefined ||
    egressPolicies.length === 0 ||
    egressPolicies.some((policy) =>
      (policy.spec.egress ?? []).some(
        (rule: Tree) =>
          portMatches(rule.ports, false) && (!rule.to || rule.to.some((peer: Tree) => peerMatches(peer, to))),
      ),
    );
  const ingressPolicies = applying(to.pod, "Ingress", to.namespace);
  const ingressOk =
    to.pod === undefined ||
    ingressPolicies.length === 0 ||
    ingressPolicies.some((policy) =>
      (policy.spec.ingress ?? []).some(
        (rule: Tree) =>
          portMatches(rule.ports, true) &&
          (!rule.from || rule.from.some((peer: Tree) => peerMatches(peer, from))),
      ),
    );
  return egressOk && ingressOk;
}

describe.each(["single-node", "cluster"])("deploy/k8s/overlays/%s", (overlay) => {
  const objects = render(overlay);

  it("renders only objects that validate against the Kubernetes schemas", () => {
    expect(objects.length).toBeGreaterThan(20);
    for (const object of objects) {
      const Model = MODELS[`${object.apiVersion}/${object.kind}` as keyof typeof MODELS];
      expect(Model, `${object.apiVersion} ${object.kind}`).toBeDefined();
      expect(
        () => new Model(object as never).validate(),
        `${object.kind} ${object.metadata.name}`,
      ).not.toThrow();
      if (object.kind !== "Namespace") expect(object.metadata.namespace, object.metadata.name).toBe("hearth");
    }
  });

  it("runs each service with probes, resources and a locked-down security context", () => {
    for (const [name, port] of Object.entries(SERVICES)) {
      const deployment = find(objects, "Deployment", `hearth-${name}`)!;
      const pod = deployment.spec.template.spec;
      const container = pod.containers[0];
      expect(container.image).toBe("ghcr.io/hearth/hearth:0.1.0");
      expect(container.args).toEqual(["serve", name]);
      expect(container.ports[0].containerPort).toBe(port);
      expect(container.readinessProbe.httpGet.path).toBe("/readyz");
      expect(container.livenessProbe.httpGet.path).toBe("/healthz");
      expect(container.resources.limits.memory).toBeDefined();
      expect(container.resources.requests.cpu).toBeDefined();
      expect(pod.securityContext).toMatchObject({
        runAsNonRoot: true,
        runAsUser: 10001,
        seccompProfile: { type: "RuntimeDefault" },
      });
      expect(container.securityContext).toMatchObject({
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ["ALL"] },
      });
      expect(pod.automountServiceAccountToken).toBe(false);
      // The token comes from the Secret; every referenced Secret, ConfigMap and claim exists.
      expect(
        container.env.find((variable: Tree) => variable.name === "HEARTH_SERVICE_TOKEN").valueFrom
          .secretKeyRef.name,
      ).toBe("hearth-secrets");
      // (A key marked optional, such as the knowledge index's URL, may be left out of the Secret.)
      for (const variable of container.env.filter((entry: Tree) => entry.valueFrom?.secretKeyRef)) {
        const secret = find(objects, "Secret", variable.valueFrom.secretKeyRef.name)!;
        if (!variable.valueFrom.secretKeyRef.optional)
          expect(Object.keys(secret.data), variable.name).toContain(variable.valueFrom.secretKeyRef.key);
      }
      for (const source of container.envFrom) {
        if (source.configMapRef) expect(find(objects, "ConfigMap", source.configMapRef.name)).toBeDefined();
        // The operator's optional Secrets of provider keys and webhook secrets.
        else expect(source.secretRef, JSON.stringify(source)).toMatchObject({ optional: true });
      }
      for (const volume of pod.volumes.filter((entry: Tree) => entry.configMap))
        expect(find(objects, "ConfigMap", volume.configMap.name), volume.name).toBeDefined();
      // The configuration file: hearth-config-file mounted read-only where HEARTH_CONFIG points.
      const configMount = container.volumeMounts.find((mount: Tree) => mount.mountPath === "/etc/hearth");
      expect(configMount, name).toMatchObject({ readOnly: true });
      expect(pod.volumes.find((volume: Tree) => volume.name === configMount.name).configMap.name).toBe(
        "hearth-config-file",
      );
      for (const volume of pod.volumes.filter((entry: Tree) => entry.persistentVolumeClaim)) {
        expect(
          find(objects, "PersistentVolumeClaim", volume.persistentVolumeClaim.claimName),
          volume.name,
        ).toBeDefined();
      }
      for (const mount of container.volumeMounts)
        expect(pod.volumes.map((entry: Tree) => entry.name)).toContain(mount.name);
      // The Service selects these pods, and a disruption budget covers them.
      const service = find(objects, "Service", `hearth-${name}`)!;
      expect(
        Object.entries(service.spec.selector).every(
          ([key, value]) => deployment.spec.template.metadata.labels[key] === value,
        ),
      ).toBe(true);
      expect(find(objects, "PodDisruptionBudget", `hearth-${name}`)!.spec.selector.matchLabels).toEqual(
        deployment.spec.selector.matchLabels,
      );
    }
    const config = find(objects, "ConfigMap", "hearth-config")!;
    // The shipped configuration file loads (no provider yet), from where the pods see it.
    const directory = mkdtempSync(join(tmpdir(), "hearth-k8s-config-"));
    writeFileSync(
      join(directory, "hearth.yaml"),
      find(objects, "ConfigMap", "hearth-config-file")!.data["hearth.yaml"],
    );
    expect(config.data.HEARTH_CONFIG).toBe("/etc/hearth/hearth.yaml");
    expect(
      loadConfig({ env: { ...config.data, HEARTH_CONFIG: join(directory, "hearth.yaml") }, cwd: directory })
        .search.providers,
    ).toEqual([]);
    expect(config.data).toMatchObject({
      HEARTH_MODEL_URL: "http://hearth-model:8081",
      HEARTH_SEARCH_URL: "http://hearth-search:8082",
      HEARTH_KNOWLEDGE_URL: "http://hearth-knowledge:8083",
    });
  });

  it("exposes only the web service through a TLS ingress", () => {
    const ingresses = objects.filter((object) => object.kind === "Ingress") as Tree[];
    expect(ingresses).toHaveLength(1);
    const ingress = ingresses[0]!;
    expect(ingress.spec.tls[0].secretName).toBe("hearth-tls");
    const backends = ingress.spec.rules.flatMap((rule: Tree) =>
      rule.http.paths.map((path: Tree) => path.backend.service.name),
    );
    expect(new Set(backends)).toEqual(new Set(["hearth-web"]));
    expect(ingress.metadata.annotations["nginx.ingress.kubernetes.io/proxy-buffering"]).toBe("off");
  });

  it("lets traffic follow the data flow and nothing else", () => {
    const pod = (name: string) => ({
      pod: { "app.kubernetes.io/name": `hearth-${name}`, "app.kubernetes.io/part-of": "hearth" },
    });
    const ingressController = {
      namespace: "ingress-nginx",
      pod: { "app.kubernetes.io/name": "ingress-nginx" },
    };
    expect(allowed(objects, ingressController, pod("web"), 8080)).toBe(true);
    for (const name of ["model", "search", "knowledge"] as const)
      expect(allowed(objects, ingressController, pod(name), SERVICES[name]), name).toBe(false);
    expect(allowed(objects, pod("web"), pod("model"), 8081)).toBe(true);
    expect(allowed(objects, pod("web"), pod("search"), 8082)).toBe(true);
    expect(allowed(objects, pod("web"), pod("knowledge"), 8083)).toBe(true);
    expect(allowed(objects, pod("knowledge"), pod("model"), 8081)).toBe(true);
    // Embeddings for re-ranking results (search.ranking.embeddingModel).
    expect(allowed(objects, pod("search"), pod("model"), 8081)).toBe(true);
    expect(allowed(objects, pod("search"), pod("knowledge"), 8083)).toBe(false);
    expect(allowed(objects, pod("model"), pod("knowledge"), 8083)).toBe(false);
    // Outside the cluster: search reaches its providers; the model and knowledge services reach nothing.
    expect(allowed(objects, pod("search"), { ip: "203.0.113.7" }, 443)).toBe(true);
    expect(allowed(objects, pod("search"), { ip: "10.1.2.3" }, 443)).toBe(false);
    expect(allowed(objects, pod("model"), { ip: "203.0.113.7" }, 443)).toBe(false);
    expect(allowed(objects, pod("knowledge"), { ip: "203.0.113.7" }, 443)).toBe(false);
    // Prometheus in "monitoring" scrapes every service.
    for (const [name, port] of Object.entries(SERVICES))
      expect(
        allowed(objects, { namespace: "monitoring", pod: { app: "prometheus" } }, pod(name), port),
        name,
      ).toBe(true);
  });
});

describe.each(["single-node", "cluster"])("deploy/k8s/overlays/%s/hearth-secrets.env.example", (overlay) => {
  it("as copied unedited, gives a service token every service refuses, naming the variable", () => {
    const directory = join(repoRoot, "deploy/k8s/overlays", overlay);
    const example = readFileSync(join(directory, "hearth-secrets.env.example"), "utf8");
    const objects = renderKustomization(directory, { [resolve(directory, "hearth-secrets.env")]: example });
    const secret = find(objects, "Secret", "hearth-secrets")!;
    const token = Buffer.from(secret.data.HEARTH_SERVICE_TOKEN, "base64").toString();
    let error: unknown;
    try {
      loadConfig({ env: { HEARTH_SERVICE_TOKEN: token }, cwd: mkdtempSync(join(tmpdir(), "hearth-k8s-")) });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(HearthError);
    expect((error as HearthError).code).toBe("CONFIG_INVALID");
    expect((error as HearthError).message).toMatch(/^HEARTH_SERVICE_TOKEN .*openssl rand -hex 24/);
  });
});

/** Kubernetes quantities: CPUs ("500m", "5") and bytes ("16Gi", "512Mi"). */
const cpus = (value: string) => (value.endsWith("m") ? Number(value.slice(0, -1)) / 1000 : Number(value));
const gibibytes = (value: string) => {
  const match = /^(\d+(?:\.\d+)?)(Mi|Gi)$/.exec(value);
  if (!match) throw new Error(`unexpected quantity ${value}`);
  return Number(match[1]) / (match[2] === "Mi" ? 1024 : 1);
};
const modelContainer = (objects: KubernetesObject[]) =>
  podContainers(find(objects, "Deployment", "hearth-model") as KubernetesObject)[0] as Tree;
/**
 * The environment a service's container starts with, as Kubernetes assembles it from the rendered
 * ConfigMaps and Secrets: envFrom first, then env; an optional key the Secret lacks is left unset.
 */
function containerEnvironment(objects: KubernetesObject[], service: string): Record<string, string> {
  const container = podContainers(
    find(objects, "Deployment", `hearth-${service}`) as KubernetesObject,
  )[0] as Tree;
  const environment: Record<string, string> = {};
  for (const source of container.envFrom ?? [])
    if (source.configMapRef)
      Object.assign(environment, find(objects, "ConfigMap", source.configMapRef.name)!.data);
  for (const variable of container.env as Tree[]) {
    const reference = variable.valueFrom?.secretKeyRef;
    const encoded = reference ? find(objects, "Secret", reference.name)?.data?.[reference.key] : undefined;
    if ("value" in variable) environment[variable.name] = variable.value;
    else if (encoded !== undefined) environment[variable.name] = Buffer.from(encoded, "base64").toString();
  }
  return environment;
}

const environmentOf = (container: Tree) =>
  Object.fromEntries(
    (container.env as Tree[]).filter((entry) => "value" in entry).map((entry) => [entry.name, entry.value]),
  );

describe.each(["single-node", "cluster"])("deploy/k8s/overlays/%s: the model's CPUs", (overlay) => {
  it("requests as many CPUs as llama.cpp runs threads, and limits it to them", () => {
    const model = modelContainer(render(overlay));
    const threads = Number(environmentOf(model).HEARTH_THREADS);
    // The threads spin: a request below them lets the node over-subscribe, and the autoscaler
    // (a share of the request) would read one generation as several replicas' worth of load.
    expect(cpus(model.resources.requests.cpu)).toBe(threads);
    expect(cpus(model.resources.limits.cpu)).toBe(threads);
  });
});

describe("the single-node overlay", () => {
  it("fits one node of 8 cores / 32 GB as deploy/sizing/8c-32g.env does, with room for the node", () => {
    const objects = render("single-node");
    const containers = (
      objects.filter((object) => object.kind === "Deployment") as KubernetesObject[]
    ).flatMap(podContainers) as Tree[];
    expect(containers).toHaveLength(4);
    const totalCpus = containers.reduce((sum, container) => sum + cpus(container.resources.limits.cpu), 0);
    const totalMemory = containers.reduce(
      (sum, container) => sum + gibibytes(container.resources.limits.memory),
      0,
    );
    // As docs/deployment.md says for compose: at least half a core and 10% of memory for the host
    // (here also the ingress controller and the node's own pods).
    expect(totalCpus).toBeLessThanOrEqual(8 - 0.5);
    expect(totalMemory).toBeLessThanOrEqual(32 * 0.9);
    // The same model settings as the compose sizing file for that machine.
    const sizing = Object.fromEntries(
      [
        ...readFileSync(join(repoRoot, "deploy/sizing/8c-32g.env"), "utf8").matchAll(/^([A-Z_]+)=(.*)$/gm),
      ].map((match) => [match[1]!, match[2]!]),
    );
    const model = modelContainer(objects);
    expect(environmentOf(model)).toMatchObject({
      HEARTH_THREADS: sizing.HEARTH_MODEL_THREADS,
      HEARTH_PARALLEL: sizing.HEARTH_MODEL_PARALLEL,
      HEARTH_CONTEXT_SIZE: sizing.HEARTH_CONTEXT_SIZE,
    });
    expect(cpus(model.resources.limits.cpu)).toBe(Number(sizing.HEARTH_MODEL_CPUS));
    expect(gibibytes(model.resources.limits.memory)).toBe(Number.parseInt(sizing.HEARTH_MODEL_MEMORY!, 10));
  });
});

describe("the cluster overlay", () => {
  const objects = render("cluster");

  it("autoscales web and model from two replicas, keeps one pod through drains, and shares the models", () => {
    for (const name of ["web", "model"]) {
      const autoscaler = find(objects, "HorizontalPodAutoscaler", `hearth-${name}`)!;
      expect(autoscaler.spec.scaleTargetRef).toMatchObject({ kind: "Deployment", name: `hearth-${name}` });
      expect(autoscaler.spec.minReplicas).toBe(2);
      expect(find(objects, "Deployment", `hearth-${name}`)!.spec.replicas).toBe(2);
      expect(find(objects, "PodDisruptionBudget", `hearth-${name}`)!.spec).toMatchObject({ minAvailable: 1 });
      expect(find(objects, "PodDisruptionBudget", `hearth-${name}`)!.spec.maxUnavailable).toBeUndefined();
      // No replica writes to a ReadWriteOnce volume another replica holds.
      const volumes = find(objects, "Deployment", `hearth-${name}`)!.spec.template.spec.volumes as Tree[];
      for (const volume of volumes.filter((entry) => entry.persistentVolumeClaim)) {
        expect(
          find(objects, "PersistentVolumeClaim", volume.persistentVolumeClaim.claimName)!.spec.accessModes,
          volume.name,
        ).toEqual(["ReadWriteMany"]);
      }
    }
    expect(find(objects, "Deployment", "hearth-knowledge")!.spec.replicas).toBe(1);
    // Every claim is mounted by some pod (the web and model replicas' data are emptyDirs here).
    const claimed = new Set(
      (objects.filter((object) => object.kind === "Deployment") as Tree[]).flatMap((deployment) =>
        (deployment.spec.template.spec.volumes as Tree[])
          .filter((volume) => volume.persistentVolumeClaim)
          .map((volume) => volume.persistentVolumeClaim.claimName),
      ),
    );
    for (const claim of objects.filter((object) => object.kind === "PersistentVolumeClaim"))
      expect(claimed.has(claim.metadata.name), claim.metadata.name).toBe(true);
    const web = podContainers(find(objects, "Deployment", "hearth-web") as KubernetesObject)[0]!;
    expect((web.env as Tree[]).map((variable) => variable.name)).toContain("HEARTH_DATABASE_URL");
  });

  it("gives the knowledge pod its index backend and URL from hearth-secrets.env, and SQLite without them", () => {
    const knowledgeConfig = (environment: Record<string, string>) => {
      const { HEARTH_CONFIG: _file, ...rest } = environment;
      return loadConfig({ env: rest, cwd: mkdtempSync(join(tmpdir(), "hearth-k8s-knowledge-")) }).knowledge;
    };
    expect(containerEnvironment(objects, "knowledge")).not.toHaveProperty("HEARTH_KNOWLEDGE_INDEX");
    expect(knowledgeConfig(containerEnvironment(objects, "knowledge")).indexBackend).toBe("sqlite");

    const postgresUrl = "postgres://hearth:x@postgres.hearth-data:5432/hearth_knowledge";
    const withPostgres = render(
      "cluster",
      `HEARTH_KNOWLEDGE_INDEX=postgres\nHEARTH_KNOWLEDGE_POSTGRES_URL=${postgresUrl}\n`,
    );
    expect(containerEnvironment(withPostgres, "knowledge")).toMatchObject({
      HEARTH_KNOWLEDGE_INDEX: "postgres",
      HEARTH_KNOWLEDGE_POSTGRES_URL: postgresUrl,
    });
    expect(knowledgeConfig(containerEnvironment(withPostgres, "knowledge"))).toMatchObject({
      indexBackend: "postgres",
      indexPostgresUrl: postgresUrl,
    });
    const elasticsearchUrl = "https://hearth:x@elasticsearch.hearth-data:9200";
    const withElasticsearch = render(
      "cluster",
      `HEARTH_KNOWLEDGE_INDEX=elasticsearch\nHEARTH_KNOWLEDGE_ELASTICSEARCH_URL=${elasticsearchUrl}\n`,
    );
    expect(knowledgeConfig(containerEnvironment(withElasticsearch, "knowledge"))).toMatchObject({
      indexBackend: "elasticsearch",
      indexElasticsearchUrl: elasticsearchUrl,
    });
    // The example names them, and the web pod is not handed the knowledge index's URL.
    const example = readFileSync(
      join(repoRoot, "deploy/k8s/overlays/cluster/hearth-secrets.env.example"),
      "utf8",
    );
    for (const name of [
      "HEARTH_KNOWLEDGE_INDEX",
      "HEARTH_KNOWLEDGE_POSTGRES_URL",
      "HEARTH_KNOWLEDGE_ELASTICSEARCH_URL",
    ])
      expect(example).toContain(`# ${name}=`);
    expect(containerEnvironment(withPostgres, "web")).not.toHaveProperty("HEARTH_KNOWLEDGE_POSTGRES_URL");
  });

  it("lets web, search and knowledge reach the data services it requires in namespace hearth-data, and nothing else there", () => {
    const pod = (name: string) => ({
      pod: { "app.kubernetes.io/name": `hearth-${name}`, "app.kubernetes.io/part-of": "hearth" },
    });
    const postgres = { namespace: "hearth-data", pod: { app: "postgres" } };
    const redis = { namespace: "hearth-data", pod: { app: "redis" } };
    const elasticsearch = { namespace: "hearth-data", pod: { app: "elasticsearch" } };
    // What hearth-secrets.env.example points at: postgres.hearth-data:5432, redis.hearth-data:6379.
    const example = readFileSync(
      join(repoRoot, "deploy/k8s/overlays/cluster/hearth-secrets.env.example"),
      "utf8",
    );
    expect(example).toContain("postgres.hearth-data:5432");
    expect(example).toContain("redis.hearth-data:6379");
    expect(allowed(objects, pod("web"), postgres, 5432)).toBe(true);
    expect(allowed(objects, pod("search"), redis, 6379)).toBe(true);
    // HEARTH_KNOWLEDGE_INDEX=postgres or elasticsearch.
    expect(allowed(objects, pod("knowledge"), postgres, 5432)).toBe(true);
    expect(allowed(objects, pod("knowledge"), elasticsearch, 9200)).toBe(true);
    // Only those: no other port there, no other namespace, and the model service still reaches nothing.
    expect(allowed(objects, pod("web"), redis, 6379)).toBe(false);
    expect(allowed(objects, pod("search"), postgres, 5432)).toBe(false);
    expect(allowed(objects, pod("model"), postgres, 5432)).toBe(false);
    expect(allowed(objects, pod("web"), { namespace: "default", pod: { app: "postgres" } }, 5432)).toBe(
      false,
    );
  });
});
