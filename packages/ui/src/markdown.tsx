import { useEffect, useMemo, useRef, useState } from "react";
import { keyboardScrollable } from "./focus.js";
import { fill, useI18n } from "./i18n.js";

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
 * block with a Copy button; a click on a `[n]` citation marker goes to `onCitation`.
 */
export function Markdown({
  text,
  citations,
  onCitation,
}: {
  text: string;
  citations?: Array<{ n: number; url: string; title: string }>;
  onCitation?(n: number, event: React.MouseEvent): void;
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
  const [announce, setAnnounce] = useState("");
  const click = (event: React.MouseEvent) => {
    const marker = (event.target as Element).closest("a[data-citation]");
    if (marker) return onCitation?.(Number(marker.getAttribute("data-citation")), event);
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
      {/* biome-ignore lint/a11y/useKeyWithClickEvents lint/a11y/noStaticElementInteractions: delegates the clicks of Copy buttons and citation links (keyboard-usable themselves) */}
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
