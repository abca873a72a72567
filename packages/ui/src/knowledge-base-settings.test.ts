import { describe, expect, it } from "vitest";
import { MESSAGES } from "./i18n.js";
import { modelPickerGroups } from "./knowledge-base-settings.js";

const en = MESSAGES.en;
const zh = MESSAGES["zh-CN"];
const model = (id: string) => ({ id, ownedBy: "hearth" });

describe("a knowledge base's model pickers", () => {
  it("offers the models listed for the purpose first, the chat models apart under a label saying they may not do it", () => {
    const models = {
      reachable: true,
      models: [model("qwen"), model("tiny-story")],
      embeddingModels: [model("bge-m3")],
      rerankModels: [model("bge-reranker")],
    };
    const embedding = modelPickerGroups(en, models, "embedding");
    expect(embedding.groups).toEqual([
      { label: "Embedding models", models: ["bge-m3"] },
      { label: "Other models – may not support embeddings", models: ["qwen", "tiny-story"] },
    ]);
    expect([embedding.capable("bge-m3"), embedding.capable("qwen"), embedding.none]).toEqual([
      true,
      false,
      false,
    ]);
    expect(modelPickerGroups(zh, models, "rerank").groups).toEqual([
      { label: "重排序模型", models: ["bge-reranker"] },
      { label: "其他模型——可能不支持重排序", models: ["qwen", "tiny-story"] },
    ]);
  });

  it("with no embedding model or reranker listed, offers the chat models only as others, and says there are none", () => {
    const models = { reachable: true, models: [model("tiny-story")], embeddingModels: [], rerankModels: [] };
    for (const purpose of ["embedding", "rerank"] as const) {
      const picker = modelPickerGroups(en, models, purpose);
      expect(picker.groups.map((group) => group.label)).toEqual([
        purpose === "embedding" ? en.otherEmbeddingModelsGroup : en.otherRerankModelsGroup,
      ]);
      expect(picker.none).toBe(true);
      expect(picker.capable("tiny-story")).toBe(false);
    }
    // Not read yet: nothing said.
    expect(modelPickerGroups(en, undefined, "embedding")).toMatchObject({ groups: [], none: false });
  });
});
