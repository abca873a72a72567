import { Tokenizer } from "htmlparser2";
import { isBlockElement, type TextNode } from "./block-text.js";

/**
 * Deepest element nesting an HTML page keeps when it is parsed; tags nested deeper are dropped
 * (their text kept) by `flattenDeepHtml`. Chromium's HTML parser stops nesting at 512 as well. The
 * parser under linkedom (htmlparser2) costs time in proportion to the depth for every tag, so a page
 * of 50,000 nested `<div>`s took about a second to parse, and twice as deep four times as long.
 */
export const MAX_HTML_DEPTH = 512;

/**
 * Deepest page (elements inside elements) Mozilla Readability is run on. Readability measures every
 * candidate element's text again at each ancestor, so its time grows with depth times size: 2,000
 * nested `<div>`s took it 52 s. Real pages are rarely nested over 40 deep.
 */
export const READABILITY_MAX_DEPTH = 100;

/**
 * Most nodes (elements and runs of text) Readability is run on: it copies, serialises and parses the
 * page again on each of up to four tries, and takes some 100 µs a node on a busy machine, so 20,000
 * empty `<span>`s or `&nbsp;`s take it seconds. A long Wikipedia article has about 11,000.
 */
export const READABILITY_MAX_NODES = 30_000;

/**
 * Largest page Readability is run on, as its nodes each counted by their depth (the sum of the
 * depths, which its measuring of every element's text again at each ancestor follows): a long
 * Wikipedia article (11,000 nodes, 30 deep) weighs about 174,000 and takes it a few hundred
 * milliseconds.
 */
export const READABILITY_MAX_WEIGHT = 500_000;

/** An HTML page's node tree: how many nodes, how deep, and the sum of their depths. */
export interface TreeShape {
  nodes: number;
  depth: number;
  weight: number;
}

/** The shape of the node tree under `root` (its depth 0); a walk without recursion, linear. */
export function treeShape(root: TextNode): TreeShape {
  let nodes = 0;
  let depth = 0;
  let weight = 0;
  const pending: TextNode[] = [root];
  const depths: number[] = [0];
  while (pending.length > 0) {
    const node = pending.pop()!;
    const level = depths.pop()!;
    if (level > 0) {
      nodes++;
      weight += level;
      if (level > depth) depth = level;
    }
    const children = node.childNodes;
    for (let index = 0; index < children.length; index++) {
      pending.push(children[index]!);
      depths.push(level + 1);
    }
  }
  return { nodes, depth, weight };
}

/**
 * Whether Readability may run on a page of this shape (READABILITY_MAX_DEPTH, READABILITY_MAX_NODES,
 * READABILITY_MAX_WEIGHT): within them it takes at most a few seconds on a busy machine; past them,
 * minutes or hours.
 */
export function readabilityFits(shape: TreeShape): boolean {
  return (
    shape.depth <= READABILITY_MAX_DEPTH &&
    shape.nodes <= READABILITY_MAX_NODES &&
    shape.weight <= READABILITY_MAX_WEIGHT
  );
}

// How htmlparser2 (the parser under linkedom) nests elements, so that the depth counted here is the
// depth the parse will build: its void elements, the tags that close an open one, and the
// foreign (SVG, MathML) context where `<x/>` closes itself.
const VOID = new Set([
  "area",
  "base",
  "basefont",
  "br",
  "col",
  "command",
  "embed",
  "frame",
  "hr",
  "img",
  "input",
  "isindex",
  "keygen",
  "link",
  "meta",
  "param",
  "source",
  "track",
  "wbr",
]);
const FOREIGN = new Set(["math", "svg"]);
const INTEGRATION = new Set([
  "mi",
  "mo",
  "mn",
  "ms",
  "mtext",
  "annotation-xml",
  "foreignobject",
  "desc",
  "title",
]);
const FORM = ["input", "option", "optgroup", "select", "button", "datalist", "textarea"];
const IMPLIED_CLOSE = new Map<string, Set<string>>([
  ["tr", new Set(["tr", "th", "td"])],
  ["th", new Set(["th"])],
  ["td", new Set(["thead", "th", "td"])],
  ["body", new Set(["head", "link", "script"])],
  ["li", new Set(["li"])],
  ["option", new Set(["option"])],
  ["optgroup", new Set(["optgroup", "option"])],
  ["dd", new Set(["dd", "dt"])],
  ["dt", new Set(["dd", "dt"])],
  ["rt", new Set(["rt", "rp"])],
  ["rp", new Set(["rt", "rp"])],
  ["tbody", new Set(["thead", "tbody"])],
  ["tfoot", new Set(["thead", "tbody"])],
  ...["select", "input", "output", "button", "datalist", "textarea"].map(
    (name) => [name, new Set(FORM)] as const,
  ),
  ...[
    ..."p h1 h2 h3 h4 h5 h6 address article aside blockquote details div dl fieldset".split(" "),
    ..."figcaption figure footer form header hr main nav ol pre section table ul".split(" "),
  ].map((name) => [name, new Set(["p"])] as const),
]);
/** Elements whose content the tokenizer reads as text: dropped whole, or their content would turn into tags. */
const RAW_TEXT = new Set(["script", "style", "title", "textarea", "xmp"]);

/**
 * The page with tags nested deeper than `maxDepth` (MAX_HTML_DEPTH) dropped, so that parsing it
 * costs time in proportion to its length: their text stays where it was, a dropped block element
 * (div, p, li...) leaves a `<br>` so its text still starts a line, an inline one (span, b) nothing,
 * and a dropped script, style, title or textarea goes with its content. `flattened` counts the
 * dropped elements; a page within the limit comes back as it was. One pass of htmlparser2's
 * tokenizer, which reads tags, comments and scripts exactly as the parse will.
 */
export function flattenDeepHtml(
  html: string,
  maxDepth = MAX_HTML_DEPTH,
): { html: string; flattened: number } {
  const stack: string[] = [];
  const foreign: boolean[] = [false];
  /** Dropped elements not yet closed, by name: their end tags are dropped too. */
  const dropped = new Map<string, number>();
  const cuts: Array<{ start: number; end: number; text: string }> = [];
  let flattened = 0;
  let tag: { start: number; name: string; drop: boolean } | undefined;
  let raw: { start: number } | undefined;

  const cut = (start: number, end: number, name: string) => {
    const text = isBlockElement(name) ? "<br>" : "";
    const last = cuts[cuts.length - 1];
    // A run of dropped tags with nothing between them leaves one line break, not one each.
    if (last?.end === start) {
      last.end = end;
      last.text ||= text;
    } else cuts.push({ start, end, text });
  };

  const noop = () => {};
  const tokenizer = new Tokenizer(
    { xmlMode: false, decodeEntities: true },
    {
      onopentagname(start, end) {
        const name = html.slice(start, end).toLowerCase();
        const closes = IMPLIED_CLOSE.get(name);
        let depth = stack.length;
        if (closes) while (depth > 0 && closes.has(stack[depth - 1]!)) depth--;
        const drop = !VOID.has(name) && depth >= maxDepth;
        if (!drop) {
          stack.length = depth;
          if (!VOID.has(name)) {
            stack.push(name);
            if (FOREIGN.has(name)) foreign.push(true);
            else if (INTEGRATION.has(name)) foreign.push(false);
          }
        }
        tag = { start: start - 1, name, drop };
      },
      onopentagend(end) {
        if (tag?.drop) {
          flattened++;
          if (RAW_TEXT.has(tag.name)) raw = { start: tag.start };
          else {
            dropped.set(tag.name, (dropped.get(tag.name) ?? 0) + 1);
            cut(tag.start, end + 1, tag.name);
          }
        }
        tag = undefined;
      },
      onselfclosingtag(end) {
        if (tag?.drop) {
          flattened++;
          cut(tag.start, end + 1, tag.name);
        } else if (tag && foreign[foreign.length - 1] && stack[stack.length - 1] === tag.name) stack.pop();
        tag = undefined;
      },
      onclosetag(start, end) {
        const name = html.slice(start, end).toLowerCase();
        const close = html.indexOf(">", end);
        const stop = close === -1 ? html.length : close + 1;
        if (raw) {
          cuts.push({ start: raw.start, end: stop, text: "" });
          raw = undefined;
          return;
        }
        const open = dropped.get(name);
        if (open) {
          dropped.set(name, open - 1);
          cut(html.lastIndexOf("<", start), stop, name);
          return;
        }
        if (FOREIGN.has(name) || INTEGRATION.has(name)) foreign.pop();
        if (VOID.has(name)) return;
        const at = stack.lastIndexOf(name);
        if (at !== -1) stack.length = at;
      },
      onattribdata: noop,
      onattribentity: noop,
      onattribend: noop,
      onattribname: noop,
      oncdata: noop,
      oncomment: noop,
      ondeclaration: noop,
      onend: noop,
      onprocessinginstruction: noop,
      ontext: noop,
      ontextentity: noop,
    },
  );
  tokenizer.write(html);
  tokenizer.end();
  if (raw) cuts.push({ start: raw.start, end: html.length, text: "" });
  if (cuts.length === 0) return { html, flattened };
  const parts: string[] = [];
  let from = 0;
  for (const { start, end, text } of cuts) {
    parts.push(html.slice(from, start), text);
    from = end;
  }
  parts.push(html.slice(from));
  return { html: parts.join(""), flattened };
}
