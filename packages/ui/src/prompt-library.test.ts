import { describe, expect, it } from "vitest";
import type { Prompt } from "./api.js";
import {
  fillVariables,
  matchingPrompts,
  nextPlaceholder,
  previousPlaceholder,
  slashQuery,
} from "./prompt-library.js";

const prompt = (command: string, title: string, extra: Partial<Prompt> = {}): Prompt => ({
  id: command,
  command,
  title,
  content: "",
  shared: false,
  editable: true,
  createdAt: "",
  updatedAt: "",
  ...extra,
});

describe("the prompt library's / in the message box", () => {
  it("opens at the start of the box or after a space, never inside a word or a path", () => {
    expect(slashQuery("/sum", 4)).toEqual({ start: 0, query: "sum" });
    expect(slashQuery("please /总结", 10)).toEqual({ start: 7, query: "总结" });
    expect(slashQuery("/", 1)).toEqual({ start: 0, query: "" });
    expect(slashQuery("and/or", 6)).toBeUndefined();
    expect(slashQuery("/usr/bin", 8)).toBeUndefined();
    expect(slashQuery("/sum more", 9)).toBeUndefined();
    // The caret decides: in the command, what is before it is the query.
    expect(slashQuery("/summary", 4)).toEqual({ start: 0, query: "sum" });
  });

  it("offers the commands that begin with the query first, compared without case or width, and not a shared one the user replaced", () => {
    const prompts = [
      prompt("resume", "Summarize a resume"),
      prompt("summarize", "Summarize"),
      prompt("summarize", "Team summary", { id: "shared", shared: true, shadowedBy: "summarize" }),
      prompt("translate", "Translate"),
    ];
    expect(matchingPrompts(prompts, "SUM").map((p) => p.id)).toEqual(["summarize", "resume"]);
    expect(matchingPrompts(prompts, "ｓｕｍ").map((p) => p.id)).toEqual(["summarize", "resume"]);
    expect(matchingPrompts(prompts, "").map((p) => p.id)).toEqual(["resume", "summarize", "translate"]);
  });

  it("fills the known variables and leaves the placeholders, and the clipboard when not granted", () => {
    const now = new Date(2026, 2, 5, 14, 30);
    const values = { now, locale: "en-US", userName: "mei" };
    expect(fillVariables("Hi {{USER_NAME}}, on {{CURRENT_DATE}}: {{topic}} {{CLIPBOARD}}", values)).toBe(
      "Hi mei, on 3/5/2026: {{topic}} {{CLIPBOARD}}",
    );
    expect(fillVariables("Q: {{ CLIPBOARD }}", { ...values, clipboard: "copied" })).toBe("Q: copied");
    expect(fillVariables("{{CURRENT_TIME}}", values)).toBe(now.toLocaleTimeString("en-US"));
  });

  it("selects the placeholders one after another, wrapping round", () => {
    const text = "Write about {{topic}} for {{ audience }}.";
    const first = nextPlaceholder(text, 0)!;
    expect(text.slice(first.start, first.end)).toBe("{{topic}}");
    const second = nextPlaceholder(text, first.end)!;
    expect(text.slice(second.start, second.end)).toBe("{{ audience }}");
    expect(nextPlaceholder(text, second.end)).toEqual(first);
    expect(nextPlaceholder("nothing to fill", 0)).toBeUndefined();
  });

  it("goes back to the placeholder before the selection with Shift+Tab, wrapping round", () => {
    const text = "Write about {{topic}} for {{ audience }}.";
    const first = nextPlaceholder(text, 0)!;
    const second = nextPlaceholder(text, first.end)!;
    expect(previousPlaceholder(text, second.start)).toEqual(first);
    expect(previousPlaceholder(text, first.start)).toEqual(second);
    // The second typed over, the caret after what was typed: back to the first.
    const typed = "Write about {{topic}} for engineers";
    const back = previousPlaceholder(typed, typed.length)!;
    expect(typed.slice(back.start, back.end)).toBe("{{topic}}");
    expect(previousPlaceholder("nothing to fill", 5)).toBeUndefined();
  });
});
