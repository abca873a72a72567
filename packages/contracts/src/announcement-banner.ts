/**
 * Announcement banners: short notices administrators put at the top of every signed-in user's
 * page ("Maintenance tonight 22:00"), as the web service stores them and the web UI shows them.
 * Free of other imports, so the UI bundles it alone (`@hearth/contracts/announcement-banner`).
 */

/** What a banner says about itself: its colour, and how a screen reader announces it. */
export const BANNER_TYPES = ["info", "success", "warning", "error"] as const;
export type BannerType = (typeof BANNER_TYPES)[number];

/** The longest text, in characters (counted as every Hearth text limit is: text-length.ts). */
export const BANNER_TEXT_MAX_CHARS = 500;

/** A banner as administrators manage it (`GET /api/admin/banners`), in the order users see them. */
export interface Banner {
  id: string;
  /** Plain text; links written `[label](https://…)` or as a bare http(s) address (bannerSegments). */
  text: string;
  type: BannerType;
  /** Whether a user may close it (it stays closed for them until its text is edited). */
  dismissible: boolean;
  /** Shown from then on; null: from its creation. */
  startsAt: string | null;
  /** Shown until then; null: until it is deleted. */
  endsAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A banner as a user sees it (`GET /api/banners`): shown now, and not closed by them. */
export interface ActiveBanner {
  id: string;
  text: string;
  type: BannerType;
  dismissible: boolean;
  /**
   * Which text this is: it goes up with each edit of the text. Closing the banner names it, so that
   * a text edited after the page read it still shows.
   */
  revision: number;
}

/** Whether a banner is shown at `now`: on or after its start, before its end. */
export function bannerShownAt(banner: Pick<Banner, "startsAt" | "endsAt">, now: Date): boolean {
  const time = now.getTime();
  if (banner.startsAt !== null && Date.parse(banner.startsAt) > time) return false;
  if (banner.endsAt !== null && Date.parse(banner.endsAt) <= time) return false;
  return true;
}

/** A piece of a banner's text: plain text, or a link with its label. */
export type BannerSegment = { kind: "text"; text: string } | { kind: "link"; text: string; href: string };

/**
 * `[label](https://…)` (Markdown's link), or a bare http(s) address. Anything else, HTML included,
 * is text: the UI renders every segment as a text node, so a banner can never inject markup. A bare
 * address ends at a space, a quote or bracket, and at Chinese (full-width) punctuation and brackets:
 * Chinese writes the sentence on after an address with no space ("见https://…，请…").
 */
const LINK =
  /\[([^\]\n]{1,200})\]\((https?:\/\/[^\s)]+)\)|(https?:\/\/[^\s<>"')\]\u3000-\u303f\uff01\uff08\uff09\uff0c\uff1a\uff1b\uff1f\u201c\u201d\u2018\u2019]+)/gu;

/** Punctuation that ends a sentence after a bare address rather than belonging to it. */
const TRAILING = /[.,;:!?。，；：！？]+$/u;

/**
 * A banner's text cut into text and links, in order. Only http and https addresses become links
 * (never `javascript:` or `data:`); a link's label is its text, else its address.
 */
export function bannerSegments(text: string): BannerSegment[] {
  const segments: BannerSegment[] = [];
  const pushText = (piece: string) => {
    if (!piece) return;
    const last = segments.at(-1);
    if (last?.kind === "text") last.text += piece;
    else segments.push({ kind: "text", text: piece });
  };
  let at = 0;
  for (const match of text.matchAll(LINK)) {
    const index = match.index;
    pushText(text.slice(at, index));
    if (match[1] !== undefined && match[2] !== undefined) {
      segments.push({ kind: "link", text: match[1], href: match[2] });
      at = index + match[0].length;
    } else {
      const address = match[3]!.replace(TRAILING, "");
      segments.push({ kind: "link", text: address, href: address });
      at = index + address.length;
    }
  }
  pushText(text.slice(at));
  return segments;
}
