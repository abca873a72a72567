import { describe, expect, it } from "vitest";
import { grammarSchema } from "./grammar-schema.js";

describe("grammarSchema", () => {
  it("passes what the grammar enforces, drops annotations and reads anyOf as oneOf (Pydantic's optional fields)", () => {
    expect(
      grammarSchema(
        {
          title: "Person",
          type: "object",
          properties: {
            name: { type: "string", maxLength: 20, description: "the name" },
            nickname: { anyOf: [{ type: "string" }, { type: "null" }], default: null },
            born: { type: "string", format: "date" },
            tags: { type: "array", items: { $ref: "#/$defs/Tag" }, maxItems: 3 },
          },
          required: ["name"],
          $defs: { Tag: { enum: ["a", "b"] } },
        },
        "format",
      ),
    ).toEqual({
      type: "object",
      properties: {
        name: { type: "string", maxLength: 20 },
        nickname: { oneOf: [{ type: "string" }, { type: "null" }] },
        born: { type: "string", format: "date" },
        tags: { type: "array", items: { $ref: "#/$defs/Tag" }, maxItems: 3 },
      },
      required: ["name"],
      $defs: { Tag: { enum: ["a", "b"] } },
    });
  });

  it("refuses constraints it would drop, unknown types and formats, with where they are", () => {
    expect(() => grammarSchema({ type: "integer", minimum: 0 }, "format")).toThrow(
      /^format: .*\$\.minimum is not supported/,
    );
    expect(() =>
      grammarSchema({ type: "object", properties: { a: { type: "string", pattern: "x" } } }, "format"),
    ).toThrow(/\$\.properties\.a\.pattern/);
    expect(() => grammarSchema({ type: "objectx" }, "format")).toThrow(/unknown type "objectx"/);
    expect(() => grammarSchema({ type: "string", format: "email" }, "format")).toThrow(/format "email"/);
    expect(() => grammarSchema({ allOf: [{ type: "string" }] }, "format")).toThrow(/\$\.allOf/);
    expect(() => grammarSchema("object", "format")).toThrow(/\$ is not a schema/);
  });
});
