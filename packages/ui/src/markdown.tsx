import { useEffect, useMemo, useState } from "react";

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

/** Renders an answer as Markdown once the renderer has loaded; plain text until then. */
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
  if (html === undefined) return <div className="markdown plain">{text}</div>;
  // biome-ignore lint/security/noDangerouslySetInnerHtml: sanitised by DOMPurify in renderMarkdown
  return <div className="markdown" dangerouslySetInnerHTML={{ __html: html }} />;
}
