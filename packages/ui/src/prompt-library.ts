import { foldName } from "@hearth/contracts/username";
import type { Prompt } from "./api.js";

/**
 * The "/" of the message box: typed at its start or after white space, followed by what may be a
 * command up to the caret (letters, digits, "-", "_"). Undefined when the caret is not in one.
 */
export function slashQuery(text: string, caret: number): { start: number; query: string } | undefined {
  const before = text.slice(0, caret);
  const match = /(^|\s)\/([\p{L}\p{M}\p{N}_-]*)$/u.exec(before);
  if (!match) return undefined;
  return { start: before.length - match[2]!.length - 1, query: match[2]! };
}

/**
 * The prompts "/" offers for what is typed after it: the user's own and the shared ones their own
 * do not replace; those whose command begins with the query first, then those whose command or
 * title holds it.
 */
export function matchingPrompts(prompts: readonly Prompt[], query: string): Prompt[] {
  const q = foldName(query);
  const offered = prompts.filter((prompt) => !prompt.shadowedBy);
  const starts = offered.filter((prompt) => foldName(prompt.command).startsWith(q));
  const holds = offered.filter(
    (prompt) =>
      !starts.includes(prompt) &&
      (foldName(prompt.command).includes(q) || foldName(prompt.title).includes(q)),
  );
  return [...starts, ...holds];
}

/** What the variables of a prompt's content are filled with. */
export interface PromptValues {
  /** The clipboard's text, when the browser granted it; else {{CLIPBOARD}} stays for the user. */
  clipboard?: string;
  now: Date;
  locale: string;
  userName: string;
}

/** `{{name}}`: a variable of a prompt's content. */
const VARIABLE = /\{\{\s*([^{}\n]+?)\s*\}\}/gu;

/**
 * A prompt's content with its known variables filled in: {{CLIPBOARD}}, {{CURRENT_DATE}},
 * {{CURRENT_TIME}}, {{USER_NAME}}. Other `{{name}}` placeholders stay, for the user to fill in.
 */
export function fillVariables(content: string, values: PromptValues): string {
  return content.replace(VARIABLE, (whole, name: string) => {
    switch (name) {
      case "CLIPBOARD":
        return values.clipboard ?? whole;
      case "CURRENT_DATE":
        return values.now.toLocaleDateString(values.locale);
      case "CURRENT_TIME":
        return values.now.toLocaleTimeString(values.locale);
      case "USER_NAME":
        return values.userName;
      default:
        return whole;
    }
  });
}

/** Whether a content holds the clipboard's variable (the browser is asked for it only then). */
export function usesClipboard(content: string): boolean {
  return /\{\{\s*CLIPBOARD\s*\}\}/u.test(content);
}

/**
 * The next `{{name}}` placeholder in `text` from `from` on (wrapping round to the first), as the
 * range to select; undefined when there is none.
 */
export function nextPlaceholder(text: string, from: number): { start: number; end: number } | undefined {
  const all = placeholders(text);
  return all.find((range) => range.start >= from) ?? all[0];
}

/**
 * The `{{name}}` placeholder before `before` in `text` (wrapping round to the last), as the range to
 * select: where Shift+Tab goes back to; undefined when there is none.
 */
export function previousPlaceholder(
  text: string,
  before: number,
): { start: number; end: number } | undefined {
  const all = placeholders(text);
  return all.filter((range) => range.end <= before).at(-1) ?? all.at(-1);
}

function placeholders(text: string): Array<{ start: number; end: number }> {
  return [...text.matchAll(VARIABLE)].map((m) => ({ start: m.index, end: m.index + m[0].length }));
}
