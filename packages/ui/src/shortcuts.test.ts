import { describe, expect, it } from "vitest";
import { type ShortcutPress, shortcutOf } from "./shortcuts.js";

const press = (key: string, code: string, more: Partial<ShortcutPress> = {}): ShortcutPress => ({
  key,
  code,
  ctrlKey: false,
  metaKey: false,
  shiftKey: false,
  altKey: false,
  ...more,
});

describe("the chat's keyboard shortcuts (ChatGPT's)", () => {
  it("are Ctrl+Shift+O, Shift+Esc, Ctrl+Shift+C and Ctrl+/ (⌘ on a Mac)", () => {
    expect(shortcutOf(press("O", "KeyO", { ctrlKey: true, shiftKey: true }), false)).toBe("new-chat");
    expect(shortcutOf(press("Escape", "Escape", { shiftKey: true }), false)).toBe("focus-message");
    expect(shortcutOf(press("C", "KeyC", { ctrlKey: true, shiftKey: true }), false)).toBe("copy-last-answer");
    expect(shortcutOf(press("/", "Slash", { ctrlKey: true }), false)).toBe("show-shortcuts");
    expect(shortcutOf(press("o", "KeyO", { metaKey: true, shiftKey: true }), true)).toBe("new-chat");
    expect(shortcutOf(press("/", "Slash", { metaKey: true }), true)).toBe("show-shortcuts");
  });

  it("leave other keys to the page and the browser", () => {
    // Plain Escape (cancels an edit, closes a list), Ctrl+C (copy), Ctrl+O (open a file), ⌘ off a Mac.
    expect(shortcutOf(press("Escape", "Escape"), false)).toBeUndefined();
    expect(shortcutOf(press("c", "KeyC", { ctrlKey: true }), false)).toBeUndefined();
    expect(shortcutOf(press("o", "KeyO", { ctrlKey: true }), false)).toBeUndefined();
    expect(shortcutOf(press("O", "KeyO", { metaKey: true, shiftKey: true }), false)).toBeUndefined();
    expect(
      shortcutOf(press("O", "KeyO", { ctrlKey: true, shiftKey: true, altKey: true }), false),
    ).toBeUndefined();
    expect(
      shortcutOf(press("Escape", "Escape", { shiftKey: true, isComposing: true }), false),
    ).toBeUndefined();
  });
});
