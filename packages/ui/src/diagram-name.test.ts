import { describe, expect, it } from "vitest";
import { diagramName } from "./diagram-name.js";

describe("a diagram's name", () => {
  it("is its accTitle, else its first statement past front matter and %% comments", () => {
    expect(diagramName("sequenceDiagram\n  accTitle: Sign-in steps\n  A->>B: hi")).toBe("Sign-in steps");
    expect(diagramName("---\ntitle: Flow\n---\n%%{init: {}}%%\n\n  graph TD\nA-->B")).toBe("graph TD");
    expect(diagramName("")).toBe("");
  });

  it("of a one-line diagram is its kind, not its whole source", () => {
    expect(diagramName("graph LR; X-->Y;")).toBe("graph LR");
    expect(diagramName("flowchart TD;A-->B")).toBe("flowchart TD");
  });
});
