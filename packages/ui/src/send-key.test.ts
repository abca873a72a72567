import { describe, expect, it } from "vitest";
import { sendsMessage } from "./send-key.js";

const press = (
  key: string,
  more: Partial<{ shiftKey: boolean; keyCode: number; isComposing: boolean }> = {},
) => sendsMessage({ key, shiftKey: false, keyCode: key === "Enter" ? 13 : 65, isComposing: false, ...more });

describe("the key that sends a message (composer and edit box)", () => {
  it("is Enter; Shift+Enter is a new line", () => {
    expect(press("Enter")).toBe(true);
    expect(press("Enter", { shiftKey: true })).toBe(false);
    expect(press("a")).toBe(false);
  });

  it("is not the Enter that commits an input method's candidate", () => {
    expect(press("Enter", { isComposing: true })).toBe(false);
    // Safari: keyCode 229 instead of isComposing.
    expect(press("Enter", { keyCode: 229 })).toBe(false);
  });
});
