import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";

const DARK = ':root[data-theme="dark"] ';

/** A stylesheet's rules in order: each selector with the colours it sets. */
function rules(css: string): Array<{ selector: string; color?: string; background?: string }> {
  const found: Array<{ selector: string; color?: string; background?: string }> = [];
  for (const [, selectors, body] of css.replace(/\/\*[\s\S]*?\*\//g, "").matchAll(/([^{}]+)\{([^}]*)\}/g)) {
    const color = /(?:^|;)\s*color:\s*(#[0-9a-f]{6})/i.exec(body!)?.[1];
    const background = /background(?:-color)?:\s*(#[0-9a-f]{6})/i.exec(body!)?.[1];
    for (const selector of selectors!.split(","))
      found.push({ selector: selector.trim(), color, background });
  }
  return found;
}

/** WCAG's contrast ratio of two #rrggbb colours. */
function contrast(a: string, b: string): number {
  const luminance = (hex: string) => {
    const [r, g, bl] = [1, 3, 5].map((i) => {
      const c = Number.parseInt(hex.slice(i, i + 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r! + 0.7152 * g! + 0.0722 * bl!;
  };
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (light! + 0.05) / (dark! + 0.05);
}

/**
 * Code in an answer is coloured by highlight.js's GitHub theme, then this app's highlight.css
 * (its dark theme, and colours changed for contrast): every token's colour, in each theme, is at
 * least 4.5:1 on the background it is drawn on (the code block's, or the token's own).
 */
describe("code highlighting's colours", () => {
  const github = readFileSync(
    createRequire(import.meta.url).resolve("highlight.js/styles/github.css"),
    "utf8",
  );
  const own = readFileSync(new URL("./highlight.css", import.meta.url), "utf8");
  /** Each selector's colours in a theme, as the cascade leaves them (a dark rule beats a plain one). */
  const theme = (dark: boolean) => {
    const applied = new Map<string, { color?: string; background?: string }>();
    const plain = [...rules(github), ...rules(own)].filter((rule) => !rule.selector.startsWith(DARK));
    const darkOnly = rules(own)
      .filter((rule) => rule.selector.startsWith(DARK))
      .map((rule) => ({ ...rule, selector: rule.selector.slice(DARK.length) }));
    for (const { selector, color, background } of dark ? [...plain, ...darkOnly] : plain) {
      const before = applied.get(selector) ?? {};
      applied.set(selector, { color: color ?? before.color, background: background ?? before.background });
    }
    return applied;
  };

  for (const dark of [false, true])
    it(`is readable in the ${dark ? "dark" : "light"} theme`, () => {
      const colours = theme(dark);
      const block = colours.get(".hljs")?.background;
      expect(block).toBeDefined();
      const low = [...colours]
        .filter(([selector, { color }]) => selector.startsWith(".hljs") && color)
        .map(([selector, { color, background }]) => ({
          selector,
          color,
          background: background ?? block,
          ratio: Math.round(contrast(color!, background ?? block!) * 100) / 100,
        }))
        .filter(({ ratio }) => ratio < 4.5);
      expect(low).toEqual([]);
      // The tokens coloured at all are checked in each theme (the file is read as expected).
      expect(colours.get(".hljs-built_in")?.color).toBeDefined();
    });
});
