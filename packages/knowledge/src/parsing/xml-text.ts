/** Small helpers for reading text out of office XML without building a DOM (fast on big files). */

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

export function decodeXmlEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
    if (name[0] === "#") {
      const code =
        name[1] === "x" || name[1] === "X"
          ? Number.parseInt(name.slice(2), 16)
          : Number.parseInt(name.slice(1), 10);
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : "";
    }
    return ENTITIES[name] ?? whole;
  });
}

/** The concatenated text of every `<tag>text</tag>` in a fragment (e.g. w:t, a:t). */
export function elementTexts(xml: string, tag: string): string {
  const pattern = new RegExp(`<${tag}(?:\\s[^>]*)?>([^<]*)</${tag}>`, "g");
  let text = "";
  for (const match of xml.matchAll(pattern)) text += decodeXmlEntities(match[1]!);
  return text;
}

/** Every element `<tag ...>...</tag>` (non-nested) in a fragment, in order. */
export function elements(xml: string, tag: string): string[] {
  const pattern = new RegExp(`<${tag}(?:\\s[^>]*)?>[\\s\\S]*?</${tag}>`, "g");
  return [...xml.matchAll(pattern)].map((match) => match[0]);
}

export function attribute(xml: string, tagAndAttribute: RegExp): string | undefined {
  return tagAndAttribute.exec(xml)?.[1];
}
