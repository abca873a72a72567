import { useEffect, useMemo, useRef, useState } from "react";
import { useI18n } from "./i18n.js";

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

/** Copies text: the Clipboard API where the page may use it, else a selection and the copy command. */
async function copyText(text: string): Promise<boolean> {
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

/** Renders an answer as Markdown once the renderer has loaded (plain text until then), each code block with a Copy button. */
export function Markdown({
  text,
  citations,
}: {
  text: string;
  citations?: Array<{ n: number; url: string; title: string }>;
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
  // the answer handles them all.
  // biome-ignore lint/correctness/useExhaustiveDependencies: the blocks are new each time the HTML is
  useEffect(() => {
    for (const pre of container.current?.querySelectorAll("pre") ?? []) {
      const button =
        pre.querySelector("button.copy-code") ?? pre.appendChild(document.createElement("button"));
      button.setAttribute("type", "button");
      button.className = "copy-code";
      button.textContent = t.copy;
    }
  }, [html, t]);
  const copy = (event: React.MouseEvent) => {
    const button = (event.target as Element).closest("button.copy-code");
    if (!button) return;
    void copyText(button.closest("pre")?.querySelector("code")?.textContent ?? "").then((copied) => {
      button.textContent = copied ? t.copied : t.copy;
    });
  };
  if (html === undefined) return <div className="markdown plain">{text}</div>;
  return (
    // biome-ignore lint/a11y/useKeyWithClickEvents lint/a11y/noStaticElementInteractions: delegates the Copy buttons' clicks (buttons, keyboard-usable themselves)
    // biome-ignore lint/security/noDangerouslySetInnerHtml: sanitised by DOMPurify in renderMarkdown
    <div className="markdown" ref={container} onClick={copy} dangerouslySetInnerHTML={{ __html: html }} />
  );
}
