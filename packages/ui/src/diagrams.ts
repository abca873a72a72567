/**
 * Mermaid diagrams of an answer's ```mermaid blocks, loaded only when an answer holds one (mermaid
 * is larger than the rest of the UI together). Model output is untrusted: mermaid runs at its
 * "strict" security level (a label's HTML is sanitised, click handlers and links to scripts are
 * dropped, the SVG is sanitised by mermaid's DOMPurify) and may not be told otherwise by a diagram's
 * own directives; a block it cannot read is said to be so, never drawn as mermaid's error diagram.
 */
import mermaid from "mermaid";
import { disarmHandlers } from "./markdown-render.js";

export type Theme = "light" | "dark";

/** A block's diagram: the SVG mermaid drew (the id of its `<svg>` with it), or that it could not. */
export type Drawn = { id: string; svg: string } | { failed: true };

/**
 * Diagrams drawn, by theme and source: a streaming answer is rendered again with each chunk, and an
 * answer again when it is opened again, without drawing its diagrams again. The oldest go first.
 */
const drawn = new Map<string, Drawn>();
const KEPT = 100;
/** Diagrams being drawn, by the same key: one block asked for again meanwhile waits for the same. */
const drawing = new Map<string, Promise<Drawn>>();
/** Mermaid draws one at a time (each with the configuration of its theme). */
let queue: Promise<unknown> = Promise.resolve();

const key = (source: string, theme: Theme) => `${theme}\n${source}`;

/** The diagram of a block, when it has been drawn in this theme. */
export function drawnDiagram(source: string, theme: Theme): Drawn | undefined {
  return drawn.get(key(source, theme));
}

/** Draws a block's diagram in a theme (once; drawnDiagram has it from then on). */
export function drawDiagram(source: string, theme: Theme): Promise<Drawn> {
  const k = key(source, theme);
  const done = drawn.get(k);
  if (done) return Promise.resolve(done);
  let pending = drawing.get(k);
  if (!pending) {
    pending = queue.then(() => draw(source, theme, `diagram-${hash(k)}`));
    queue = pending;
    drawing.set(k, pending);
    void pending.then((result) => {
      drawing.delete(k);
      drawn.set(k, result);
      if (drawn.size > KEPT) drawn.delete(drawn.keys().next().value!);
    });
  }
  return pending;
}

async function draw(source: string, theme: Theme, id: string): Promise<Drawn> {
  try {
    mermaid.initialize({
      startOnLoad: false,
      securityLevel: "strict",
      theme: theme === "dark" ? "dark" : "default",
      // Dagre lays diagrams out, as mermaid 11 did: ELK (mermaid 12's default) is 1.5 MB more to
      // load for a first diagram; a diagram that asks for it (`layout: elk`) still has it.
      layout: "dagre",
      // A block mermaid cannot read is shown as code: no error diagram is put into the page.
      suppressErrorRendering: true,
      // A label's HTML keeps no media: an image from another server would be a request the page
      // makes (which the page's CSP refuses too), as an answer's own are not (markdown-render.ts).
      dompurifyConfig: { FORBID_TAGS: ["style", "img", "image", "picture", "source", "video", "audio"] },
      // Beside mermaid's own: a diagram's `%%{init}%%` directive or front matter may not loosen the
      // sanitising of its labels, nor bring CSS of its own into the page.
      secure: [
        "secure",
        "securityLevel",
        "startOnLoad",
        "maxTextSize",
        "suppressErrorRendering",
        "maxEdges",
        "dompurifyConfig",
        "themeCSS",
      ],
    });
    // A label's event handler attribute (dropped by mermaid's sanitising) is renamed first, so
    // that no parser meets one (see disarmHandlers).
    const text = disarmHandlers(source);
    if (!(await mermaid.parse(text, { suppressErrors: true }))) return { failed: true };
    // The id is the source's and the theme's: the same diagram is the same SVG, ids and all.
    const { svg } = await mermaid.render(id, text);
    return { id, svg };
  } catch {
    return { failed: true };
  }
}

/** FNV-1a, in base 36: a short id for a diagram's key. */
function hash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(36);
}
