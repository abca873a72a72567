import { describe, expect, it } from "vitest";
import type { TextNode } from "./block-text.js";
import { flattenDeepHtml, READABILITY_MAX_NODES, readabilityFits, treeShape } from "./html-limits.js";

describe("flattenDeepHtml", () => {
  it("leaves a page within the depth as it was, counting unclosed items and paragraphs as the parser closes them", () => {
    const page = `<html><body><ul>${"<li>item".repeat(2_000)}</ul>${"<p>para".repeat(2_000)}<svg>${"<path/>".repeat(2_000)}</svg></body></html>`;
    expect(flattenDeepHtml(page, 8)).toEqual({ html: page, flattened: 0 });
  });

  it("drops tags past the depth, keeping their text and a line break for blocks, never a script's code", () => {
    const page = `<div><div><div><span>a</span><p>b</p><script>var s = "<div>x</div>";</script><b>c</b>d</div></div></div><p>e</p>`;
    expect(flattenDeepHtml(page, 2)).toEqual({
      html: `<div><div><br>a<br>b<br>cd<br></div></div><p>e</p>`,
      flattened: 5,
    });
  });
});

describe("readabilityFits", () => {
  const element = (name: string, childNodes: TextNode[]): TextNode => ({
    nodeType: 1,
    nodeName: name,
    nodeValue: null,
    childNodes,
  });
  const text = (value: string): TextNode => ({
    nodeType: 3,
    nodeName: "#text",
    nodeValue: value,
    childNodes: [],
  });

  it("counts runs of text, not only elements: a paragraph of 40,000 &nbsp;s took Readability seconds", () => {
    const runs = Array.from({ length: 40_000 }, () => text("\u00a0"));
    const page = element("HTML", [element("BODY", [element("P", runs)])]);
    const shape = treeShape(page);
    expect(shape).toEqual({ nodes: 40_002, depth: 3, weight: 1 + 2 + 3 * 40_000 });
    expect(shape.nodes).toBeGreaterThan(READABILITY_MAX_NODES);
    expect(readabilityFits(shape)).toBe(false);
  });

  it("lets an ordinary page through, and refuses one nested past the depth", () => {
    const article = element(
      "ARTICLE",
      Array.from({ length: 200 }, () => element("P", [text("Words.")])),
    );
    expect(readabilityFits(treeShape(element("HTML", [element("BODY", [article])])))).toBe(true);
    let deep = text("deep");
    for (let level = 0; level < 101; level++) deep = element("DIV", [deep]);
    expect(readabilityFits(treeShape(element("HTML", [element("BODY", [deep])])))).toBe(false);
  });
});
