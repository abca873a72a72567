import { describe, expect, it } from "vitest";
import { DEFAULT_REGISTRY, parseRegistryReference } from "./ollama-registry-client.js";

describe("registry references", () => {
  it("reads Ollama's short names, other registries and explicit URLs", () => {
    expect(parseRegistryReference("deepseek-r1:1.5b")).toEqual({
      baseUrl: DEFAULT_REGISTRY,
      namespace: "library",
      model: "deepseek-r1",
      tag: "1.5b",
    });
    expect(parseRegistryReference("llama3.2")).toMatchObject({ model: "llama3.2", tag: "latest" });
    expect(parseRegistryReference("registry.local:5000/team/qwen:7b")).toEqual({
      baseUrl: "https://registry.local:5000",
      namespace: "team",
      model: "qwen",
      tag: "7b",
    });
    expect(parseRegistryReference("registry.local/team/qwen", { insecure: true }).baseUrl).toBe(
      "http://registry.local",
    );
    expect(parseRegistryReference("http://127.0.0.1:9/library/tiny:v2")).toEqual({
      baseUrl: "http://127.0.0.1:9",
      namespace: "library",
      model: "tiny",
      tag: "v2",
    });
  });

  it("refuses references that could climb out of a directory", () => {
    for (const bad of ["../../etc/passwd", "library/..:latest", "a b", "model:../x", ""]) {
      expect(() => parseRegistryReference(bad), bad).toThrow(
        expect.objectContaining({ code: "MODEL_REFERENCE_INVALID" }),
      );
    }
  });
});
