import { HearthError } from "@hearth/core";
import { z } from "zod";
import { type Citation, isBeingWritten, type StoredMessage } from "./conversation-store.js";
import { firstCodePoints } from "./first-code-points.js";

/** The languages an export is written in: the UI's (en, zh-CN); English for API clients. */
export const exportLanguages = ["en", "zh-CN"] as const;
export type ExportLanguage = (typeof exportLanguages)[number];

/** The words an export writes itself, per language (the conversation is as it was written). */
const WORDS: Record<
  ExportLanguage,
  {
    user: string;
    assistant: (model: string | null) => string;
    interrupted: string;
    stopped: string;
    beingWritten: string;
    zone: (tz: string) => string;
  }
> = {
  en: {
    user: "User",
    assistant: (model) => (model ? `Assistant (${model})` : "Assistant"),
    interrupted: "_(interrupted)_",
    stopped: "_(stopped)_",
    beingWritten: "_(being written)_",
    zone: (tz) => ` (${tz})`,
  },
  "zh-CN": {
    user: "用户",
    assistant: (model) => (model ? `助手（${model}）` : "助手"),
    interrupted: "_（已中断）_",
    stopped: "_（已停止）_",
    beingWritten: "_（正在生成）_",
    zone: (tz) => `（${tz}）`,
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

/** A conversation as Markdown, in the reader's language and time zone. */
export function exportMarkdown(
  conversation: { title: string; createdAt: string },
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
  for (const message of messages) {
    lines.push(`## ${message.role === "user" ? words.user : words.assistant(message.model)}`, "");
    lines.push(message.content, "");
    if (message.status === "interrupted") lines.push(words.interrupted, "");
    if (message.status === "stopped") lines.push(words.stopped, "");
    // An answer left streaming by a writer gone quiet is as good as interrupted (the sweep marks it so).
    if (message.status === "streaming")
      lines.push(isBeingWritten(message) ? words.beingWritten : words.interrupted, "");
    if (message.citations.length > 0) {
      for (const citation of message.citations) {
        const { url } = absoluteCitation(citation, options.origin);
        lines.push(`[${citation.n}]: ${url} "${citation.title.replace(/"/g, "'")}"`);
      }
      lines.push("");
    }
  }
  return lines.join("\n");
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
