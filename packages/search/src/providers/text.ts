const ENTITIES: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: " ",
  "#39": "'",
};

/** Engine snippets carry highlighting markup (`<strong>`, `<b>`) and entities; results hold plain text. */
export function plainText(value: unknown): string {
  if (typeof value !== "string") return "";
  return value
    .replace(/<[^>]*>/g, "")
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+\d*);/gi, (whole, name: string) => {
      if (name[0] === "#") {
        const code =
          name[1] === "x" || name[1] === "X" ? Number.parseInt(name.slice(2), 16) : Number(name.slice(1));
        return Number.isFinite(code) && code > 0 && code < 0x110000 ? String.fromCodePoint(code) : whole;
      }
      return ENTITIES[name.toLowerCase()] ?? whole;
    })
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, "")
    .replace(/\s+/g, " ")
    .trim();
}

const UNITS: Record<string, number> = {
  minute: 60_000,
  min: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
  week: 7 * 86_400_000,
  month: 30 * 86_400_000,
  year: 365 * 86_400_000,
  分钟: 60_000,
  小时: 3_600_000,
  天: 86_400_000,
  周: 7 * 86_400_000,
  月: 30 * 86_400_000,
  年: 365 * 86_400_000,
};

/**
 * Reads the dates engines give: ISO 8601, "2024-03-01 10:00:00", "Mar 1, 2024", and relative ones
 * ("3 days ago", "3天前"). Undefined when unreadable, never a made-up date.
 */
export function parseLooseDate(value: unknown, now = Date.now()): string | undefined {
  if (typeof value !== "string" || value.trim() === "") return undefined;
  const text = value.trim();
  const relative = /^(\d+)\s*(minute|min|hour|day|week|month|year|分钟|小时|天|周|月|年)s?\s*(ago|前)$/i.exec(
    text,
  );
  if (relative) return new Date(now - Number(relative[1]) * UNITS[relative[2]!.toLowerCase()]!).toISOString();
  // Engines often give local-less timestamps ("2023-04-18 00:00:00", Bing's 7-digit fractions); read them as UTC.
  const naive = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(:\d{2})?)(\.\d+)?$/.exec(text);
  const normalised = naive ? `${naive[1]}T${naive[2]}${naive[4] ? naive[4].slice(0, 4) : ""}Z` : text;
  const time = Date.parse(normalised);
  if (Number.isNaN(time)) return undefined;
  const year = new Date(time).getUTCFullYear();
  return year >= 1990 && year <= 2200 ? new Date(time).toISOString() : undefined;
}
