import { CHAT_CONTROL_NAMES, CHAT_CONTROL_WIRE_NAMES, type ChatControls } from "@hearth/contracts";
import { HearthError } from "@hearth/core";
import { z } from "zod";
import { firstCodePoints, shortened } from "../text/first-code-points.js";
import { type Citation, isBeingWritten, type StoredMessage } from "./conversation-store.js";

/** The languages an export is written in: the UI's (en, zh-CN); English for API clients. */
export const exportLanguages = ["en", "zh-CN"] as const;
export type ExportLanguage = (typeof exportLanguages)[number];

/** The words an export writes itself, per language (the conversation is as it was written). */
const WORDS: Record<
  ExportLanguage,
  {
    user: string;
    /** What the conversation's system prompt is headed. */
    systemPrompt: string;
    /** What the conversation's Chat controls (those set) are headed. */
    chatControls: string;
    assistant: (model: string | null) => string;
    interrupted: string;
    stopped: string;
    /** Under an answer the model ended at the length limit (finishReason "length"). */
    cutOff: string;
    beingWritten: string;
    zone: (tz: string) => string;
    /** What an answer's list of sources is headed. */
    sources: string;
    /** A source's title with the page it cites. */
    page: (title: string, page: number) => string;
  }
> = {
  en: {
    user: "User",
    systemPrompt: "System prompt",
    chatControls: "Chat controls",
    assistant: (model) => (model ? `Assistant (${model})` : "Assistant"),
    interrupted: "_(interrupted)_",
    stopped: "_(stopped)_",
    cutOff: "_(cut off at the length limit)_",
    beingWritten: "_(being written)_",
    zone: (tz) => ` (${tz})`,
    sources: "Sources",
    page: (title, page) => `${title}, page ${page}`,
  },
  "zh-CN": {
    user: "用户",
    systemPrompt: "系统提示词",
    chatControls: "对话参数",
    assistant: (model) => (model ? `助手（${model}）` : "助手"),
    interrupted: "_（已中断）_",
    stopped: "_（已停止）_",
    cutOff: "_（已达到长度上限，回答被截断）_",
    beingWritten: "_（正在生成）_",
    zone: (tz) => `（${tz}）`,
    sources: "来源",
    page: (title, page) => `${title}，第 ${page} 页`,
  },
};

/**
 * How an export is written: `lang` and `tz` (an IANA time zone) as the page passes them, English
 * and UTC for API clients; `origin` makes the site's own citation links (a document's) absolute,
 * so they work outside the site.
 */
export interface ExportOptions {
  lang: ExportLanguage;
  tz: string;
  origin: string;
}

/** The `lang` and `tz` query parameters of an export; an unknown time zone is INVALID_REQUEST. */
export const exportQuerySchema = z.object({
  format: z.enum(["markdown", "json"]).default("markdown"),
  lang: z.enum(exportLanguages).default("en"),
  tz: z.string().max(100).default("UTC"),
});

/** Checks a time zone name the way the formatter will read it. */
export function assertTimeZone(tz: string): void {
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz });
  } catch {
    throw new HearthError("INVALID_REQUEST", `unknown time zone "${tz}"`, { details: { field: "tz" } });
  }
}

/** A citation with its link absolute: the site's own links (documents) are read from the export's origin. */
export function absoluteCitation(citation: Citation, origin: string): Citation {
  return { ...citation, url: new URL(citation.url, origin).href };
}

/**
 * A conversation as Markdown, in the reader's language and time zone: its system prompt, when it has
 * one, under a heading of its own before the messages, as written; then its Chat controls that are
 * set (not the model's own), one per line by their API names (`temperature: 0`, `max_tokens: 256`). Each answer's sources are
 * listed under it (number, title with the page cited, link, the start of the passage), and its `[n]`
 * markers link to its own sources: their link labels are the answer's own (`[2-1]` for the second
 * answer's first source), since every answer numbers its sources from 1 and in Markdown the first
 * definition of a label wins.
 */
export function exportMarkdown(
  conversation: {
    title: string;
    createdAt: string;
    systemPrompt?: string | null;
  } & Partial<ChatControls>,
  messages: StoredMessage[],
  options: ExportOptions,
): string {
  const words = WORDS[options.lang];
  const created = new Intl.DateTimeFormat(options.lang, {
    dateStyle: "long",
    timeStyle: "short",
    hourCycle: "h23",
    timeZone: options.tz,
  }).format(new Date(conversation.createdAt));
  const lines = [`# ${conversation.title}`, "", `_${created}${words.zone(options.tz)}_`, ""];
  if (conversation.systemPrompt) lines.push(`## ${words.systemPrompt}`, "", conversation.systemPrompt, "");
  const controls = CHAT_CONTROL_NAMES.flatMap((name) => {
    const value = conversation[name];
    return typeof value === "number" ? [`- ${CHAT_CONTROL_WIRE_NAMES[name]}: ${value}`] : [];
  });
  if (controls.length > 0) lines.push(`## ${words.chatControls}`, "", ...controls, "");
  let answers = 0;
  for (const message of messages) {
    lines.push(`## ${message.role === "user" ? words.user : words.assistant(message.model)}`, "");
    if (message.role === "assistant") answers++;
    const label = (n: number) => `${answers}-${n}`;
    lines.push(linkCitations(message.content, message.citations, label), "");
    if (message.status === "interrupted") lines.push(words.interrupted, "");
    if (message.status === "stopped") lines.push(words.stopped, "");
    if (message.status === "done" && message.finishReason === "length") lines.push(words.cutOff, "");
    // An answer left streaming by a writer gone quiet is as good as interrupted (the sweep marks it so).
    if (message.status === "streaming")
      lines.push(isBeingWritten(message) ? words.beingWritten : words.interrupted, "");
    if (message.citations.length > 0) {
      lines.push(`**${words.sources}**`, "");
      for (const citation of message.citations) {
        const title = oneLine(citation.title);
        const page = /#page=(\d+)$/.exec(citation.url)?.[1];
        const name = page ? words.page(title, Number(page)) : title;
        const snippet = oneLine(citation.snippet ?? "");
        const excerpt = shortened(snippet, SNIPPET_CHARS);
        lines.push(
          `${citation.n}. [${markdownText(name)}][${label(citation.n)}]${excerpt ? `: “${markdownText(excerpt)}”` : ""}`,
        );
      }
      lines.push("");
      for (const citation of message.citations) {
        const { url } = absoluteCitation(citation, options.origin);
        const title = oneLine(citation.title).replace(/[\\"]/g, "\\$&");
        lines.push(`[${label(citation.n)}]: <${url}> "${title}"`);
      }
      lines.push("");
    }
  }
  return lines.join("\n");
}

/** How much of a source's passage its entry in the list of sources quotes. */
const SNIPPET_CHARS = 160;

/** Fenced code blocks (also one left unclosed) and inline code spans: their `[1]` is code, not a citation. */
const CODE = /^(`{3,}|~{3,})[^\n]*\n[\s\S]*?(?:^\1[ \t]*$|(?![\s\S]))|`[^`\n]+`/gm;

/**
 * An answer's `[n]` markers outside code, for the sources it has, as links to their labels: `[[n]][label]`,
 * shown as `[n]`. A `[n]` that is already a link's text (`[n](…)`) or a definition (`[n]: …`) stays.
 */
function linkCitations(text: string, citations: readonly Citation[], label: (n: number) => string): string {
  if (citations.length === 0) return text;
  const cited = new Set(citations.map((citation) => citation.n));
  // Code is matched first and kept as it is; a marker outside it is linked.
  return text.replace(
    new RegExp(`${CODE.source}|\\[(\\d{1,2})\\](?![(:])`, "gm"),
    (match, _fence: string | undefined, n: string | undefined) =>
      n !== undefined && cited.has(Number(n)) ? `[${match}][${label(Number(n))}]` : match,
  );
}

/** Whitespace (line breaks too) as single spaces: a title or a passage on one line of a list. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

/**
 * Text from a document or a page as plain Markdown text: what would make it a link, markup or HTML
 * (brackets, emphasis, code, tags, entities) is escaped, so it reads as written.
 */
function markdownText(text: string): string {
  return text.replace(/[\\`*_[\]<>&~]/g, "\\$&");
}

/**
 * The file name an export is saved under (without its extension): the conversation's title with
 * what file systems refuse or trip over (path separators, control characters, reserved
 * punctuation, leading dots, trailing dots and spaces) taken out, Chinese and other letters kept,
 * at most 80 characters; the id's first 8 characters when nothing is left.
 */
export function exportFileName(title: string, id: string): string {
  const cleaned = firstCodePoints(title.normalize("NFC").replace(/[\p{Cc}\p{Cf}\\/:*?"<>|]+/gu, " "), 80)
    .replace(/\s+/g, " ")
    .trim()
    .replace(/^[.\s]+|[.\s]+$/g, "");
  return cleaned && cleaned !== "New chat" ? cleaned : `conversation-${id.slice(0, 8)}`;
}

/**
 * A Content-Disposition value naming the file: an ASCII fallback (`filename`, non-ASCII as "_")
 * and the real name in RFC 5987 form (`filename*`), which browsers prefer.
 */
export function attachment(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]/g, "_").replace(/["\\%]/g, "_");
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(fileName).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`;
}
