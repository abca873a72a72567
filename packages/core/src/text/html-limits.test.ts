import { describe, expect, it } from "vitest";
import { flattenDeepHtml } from "./html-limits.js";

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
