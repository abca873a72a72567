import {
  useEffect,
  useLayoutEffect,
  useMemo,
  useReducer,
  useRef,
  useState,
  useSyncExternalStore,
} from "react";
import { diagramName } from "./diagram-name.js";
import type { Drawn, Theme } from "./diagrams.js";
import { keyboardScrollable } from "./focus.js";
import { fill, type Messages, useI18n } from "./i18n.js";

type Renderer = (source: string, citations?: Array<{ n: number; url: string; title: string }>) => string;
let renderer: Renderer | undefined;
let loading: Promise<Renderer> | undefined;

function loadRenderer(): Promise<Renderer> {
  loading ??= import("./markdown-render.js").then((module) => {
    renderer = module.renderMarkdown;
    return renderer;
  });
  return loading;
}

type Diagrams = typeof import("./diagrams.js");
let diagrams: Diagrams | undefined;
let loadingDiagrams: Promise<Diagrams> | undefined;

/** Mermaid, loaded when an answer first holds a diagram (it is larger than the rest of the UI). */
function loadDiagrams(): Promise<Diagrams> {
  loadingDiagrams ??= import("./diagrams.js").then((module) => (diagrams = module));
  return loadingDiagrams;
}

/** The page's theme, as app.tsx sets it on <html>. */
const pageTheme = (): Theme => (document.documentElement.dataset.theme === "dark" ? "dark" : "light");

/** The answers following the page's theme, to draw their diagrams again in the other one. */
const themeFollowers = new Set<() => void>();
/** One observer of the theme for them all, set up as the first one follows it. */
let themeObserver: MutationObserver | undefined;

/** Calls `changed` when the page's theme changes, until the function it gives back is called. */
function followTheme(changed: () => void): () => void {
  if (!themeObserver) {
    themeObserver = new MutationObserver(() => {
      for (const follower of themeFollowers) follower();
    });
    themeObserver.observe(document.documentElement, { attributeFilter: ["data-theme"] });
  }
  themeFollowers.add(changed);
  return () => {
    themeFollowers.delete(changed);
  };
}

/**
 * Shows a ```mermaid block (its `<pre>`, marked by markdown-render) as its diagram: before the
 * code, a box with the SVG (an image named by the diagram) and a button that shows the code in its
 * place (`asCode`) and back; or, for a block mermaid could not read, the code with a note saying so.
 * Done again each time the answer's HTML is new (a streaming answer's), and again on the HTML it
 * did it on (nothing is added twice).
 */
function showDiagram(pre: HTMLElement, drawn: Drawn, asCode: boolean, t: Messages): HTMLElement | undefined {
  const box = pre.previousElementSibling?.classList.contains("diagram")
    ? (pre.previousElementSibling as HTMLElement)
    : undefined;
  const note = pre.nextElementSibling?.classList.contains("diagram-note")
    ? pre.nextElementSibling
    : undefined;
  if ("failed" in drawn) {
    box?.remove();
    pre.hidden = false;
    if (!note) {
      const said = document.createElement("p");
      said.className = "diagram-note";
      said.textContent = t.diagramNotDrawn;
      pre.after(said);
    }
    return undefined;
  }
  note?.remove();
  const diagram = box ?? document.createElement("div");
  if (!box) {
    diagram.className = "diagram";
    const toggle = diagram.appendChild(document.createElement("button"));
    toggle.type = "button";
    toggle.className = "small diagram-toggle";
    pre.before(diagram);
  }
  diagram.querySelector("button.diagram-toggle")!.textContent = asCode ? t.showDiagram : t.showDiagramCode;
  pre.hidden = !asCode;
  let view = diagram.querySelector<HTMLElement>(".diagram-view");
  if (asCode) {
    view?.remove();
    return undefined;
  }
  if (view?.dataset.drawn !== drawn.id) {
    view?.remove();
    view = document.createElement("div");
    view.className = "diagram-view";
    view.dataset.drawn = drawn.id;
    // Mermaid's SVG as it gave it (strict: sanitised by mermaid); see diagrams.ts.
    view.innerHTML = drawn.svg;
    diagram.prepend(view);
  }
  // One image, named: not mermaid's document of parts with a role description ("flowchart-v2").
  const svg = view.querySelector("svg");
  if (svg) {
    const name = diagramName(pre.querySelector("code")?.textContent ?? "");
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", name ? fill(t.diagramNamed, { name }) : t.diagram);
    svg.removeAttribute("aria-roledescription");
    svg.removeAttribute("aria-labelledby");
  }
  return view;
}

/** How long a Copy button says "Copied" before it offers to copy again. */
export const COPIED_FOR_MS = 2000;

/** Copies text: the Clipboard API where the page may use it, else a selection and the copy command. */
export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.append(area);
    area.select();
    const copied = document.execCommand("copy");
    area.remove();
    return copied;
  }
}

/**
 * Renders an answer as Markdown once the renderer has loaded (plain text until then), each code
 * block with a Copy button and each ```mermaid block drawn as its diagram; a click on a `[n]`
 * citation marker goes to `onCitation`. While the answer is `streaming`, a diagram is drawn once
 * its block is complete (its code is shown until then).
 */
export function Markdown({
  text,
  citations,
  onCitation,
  streaming = false,
}: {
  text: string;
  citations?: Array<{ n: number; url: string; title: string }>;
  onCitation?(n: number, event: React.MouseEvent): void;
  streaming?: boolean;
}) {
  const [render, setRender] = useState<Renderer | undefined>(() => renderer);
  useEffect(() => {
    if (!render) void loadRenderer().then((loaded) => setRender(() => loaded));
  }, [render]);
  // Rendered again only when this text changes: a streaming answer re-renders the whole list.
  const html = useMemo(() => render?.(text, citations), [render, text, citations]);
  const { t } = useI18n();
  const container = useRef<HTMLDivElement>(null);
  // Each code block gets a Copy button (the blocks are new each time the HTML is); one listener on
  // the answer handles them all. Its code (which scrolls a long line in its own box, see
  // highlight.js's theme) is named by its language for the keyboard that scrolls it.
  // biome-ignore lint/correctness/useExhaustiveDependencies: the blocks are new each time the HTML is
  useEffect(() => {
    const stops: Array<() => void> = [];
    for (const pre of container.current?.querySelectorAll("pre") ?? []) {
      const button =
        pre.querySelector("button.copy-code") ?? pre.appendChild(document.createElement("button"));
      button.setAttribute("type", "button");
      button.className = "copy-code";
      button.textContent = t.copy;
      const code = pre.querySelector("code");
      const language = /\blanguage-(\S+)/.exec(code?.className ?? "")?.[1];
      if (code)
        stops.push(keyboardScrollable(code, language ? fill(t.codeBlockIn, { language }) : t.codeBlock));
    }
    // A long formula scrolls in its own box too.
    for (const formula of container.current?.querySelectorAll<HTMLElement>(".katex-display") ?? [])
      stops.push(keyboardScrollable(formula, t.formula));
    return () => {
      for (const stop of stops) stop();
    };
  }, [html, t]);
  /** The diagrams (by their place in the answer) the reader turned to their code. */
  const shownAsCode = useRef(new Set<number>());
  /** Shows the diagrams again: one was drawn, or one was turned. */
  const [diagramsChanged, showDiagramsAgain] = useReducer((n: number) => n + 1, 0);
  // Drawn again in the other theme when the reader switches (followed once, not with each chunk).
  const theme = useSyncExternalStore(followTheme, pageTheme);
  // Before the answer is painted: a diagram drawn before stays in place as the answer streams on
  // (its HTML new with each chunk), never its code for a moment.
  // biome-ignore lint/correctness/useExhaustiveDependencies: the blocks are new each time the HTML is
  useLayoutEffect(() => {
    const blocks = container.current?.querySelectorAll<HTMLElement>("pre[data-diagram]") ?? [];
    if (blocks.length === 0) return;
    const stops: Array<() => void> = [];
    let current = true;
    blocks.forEach((pre, index) => {
      if (streaming && !pre.hasAttribute("data-complete")) return;
      const source = pre.querySelector("code")?.textContent ?? "";
      const drawn = diagrams?.drawnDiagram(source, theme);
      if (!drawn) {
        void loadDiagrams()
          .then((loaded) => loaded.drawDiagram(source, theme))
          .then(() => current && showDiagramsAgain());
        return;
      }
      const view = showDiagram(pre, drawn, shownAsCode.current.has(index), t);
      // A diagram wider than a phone scrolls in its own box.
      if (view) stops.push(keyboardScrollable(view, t.diagram));
    });
    return () => {
      current = false;
      for (const stop of stops) stop();
    };
  }, [html, t, streaming, diagramsChanged, theme]);
  const [announce, setAnnounce] = useState("");
  const click = (event: React.MouseEvent) => {
    const marker = (event.target as Element).closest("a[data-citation]");
    if (marker) return onCitation?.(Number(marker.getAttribute("data-citation")), event);
    if ((event.target as Element).closest("button.diagram-toggle")) {
      // The button is in the box before its block's code.
      const block = (event.target as Element).closest(".diagram")?.nextElementSibling;
      const blocks = [...(container.current?.querySelectorAll("pre[data-diagram]") ?? [])];
      const index = blocks.indexOf(block as HTMLElement);
      if (!shownAsCode.current.delete(index)) shownAsCode.current.add(index);
      return showDiagramsAgain();
    }
    const button = (event.target as Element).closest("button.copy-code");
    if (!button) return;
    void copyText(button.closest("pre")?.querySelector("code")?.textContent ?? "").then((copied) => {
      if (!copied) return;
      // Says so for a while, then offers to copy again.
      button.textContent = t.copied;
      setAnnounce(t.copied);
      setTimeout(() => {
        if (button.isConnected) button.textContent = t.copy;
        setAnnounce("");
      }, COPIED_FOR_MS);
    });
  };
  if (html === undefined) return <div className="markdown plain">{text}</div>;
  return (
    <>
      {/* biome-ignore lint/a11y/useKeyWithClickEvents lint/a11y/noStaticElementInteractions: delegates the clicks of Copy buttons, diagrams' code buttons and citation links (keyboard-usable themselves) */}
      <div
        className="markdown"
        ref={container}
        onClick={click}
        // biome-ignore lint/security/noDangerouslySetInnerHtml: sanitised by DOMPurify in renderMarkdown
        dangerouslySetInnerHTML={{ __html: html }}
      />
      <span className="visually-hidden" role="status">
        {announce}
      </span>
    </>
  );
}

/**
 * A Copy button for a text, saying "Copied" for a while, to the eye on the button and to a screen
 * reader through a status; `label` names what it copies (its accessible name until then). With
 * `focus`, it takes focus when shown (a secret shown once, to be copied now); `describedBy` is the
 * id of what it says about the text.
 */
export function CopyButton({
  text,
  label,
  className,
  focus,
  describedBy,
}: {
  text: string;
  label: string;
  className?: string;
  focus?: boolean;
  describedBy?: string;
}) {
  const { t } = useI18n();
  const [copied, setCopied] = useState(false);
  const button = useRef<HTMLButtonElement>(null);
  // biome-ignore lint/correctness/useExhaustiveDependencies: focused once, when shown
  useEffect(() => {
    if (focus) button.current?.focus();
  }, []);
  useEffect(() => {
    if (!copied) return;
    const timer = setTimeout(() => setCopied(false), COPIED_FOR_MS);
    return () => clearTimeout(timer);
  }, [copied]);
  return (
    <>
      <button
        type="button"
        ref={button}
        className={className ? `small ${className}` : "small"}
        aria-label={copied ? t.copied : label}
        aria-describedby={describedBy}
        onClick={() => void copyText(text).then(setCopied)}
      >
        {copied ? t.copied : t.copy}
      </button>
      <span className="visually-hidden" role="status">
        {copied ? t.copied : ""}
      </span>
    </>
  );
}

/** Copies a whole message as it was written (an answer's Markdown source). */
export function CopyMessage({ text }: { text: string }) {
  const { t } = useI18n();
  return <CopyButton text={text} label={t.copyMessage} className="copy-message" />;
}
