/**
 * When two URLs are one page. The search service merges engines' answers by it, and a client that
 * merges the answers of several queries (the web service grounding a chat turn) must use the same
 * rule, or one page found by two queries would be two sources.
 */

/** Query parameters that only track where a click came from; they never change the page. */
const TRACKING_PARAMETERS = new Set([
  "spm",
  "from",
  "fbclid",
  "gclid",
  "dclid",
  "msclkid",
  "yclid",
  "igshid",
  "mc_cid",
  "mc_eid",
  "_hsenc",
  "_hsmi",
  "ref",
  "ref_src",
  "ref_url",
  "scm",
  "share_source",
  "share_medium",
  "vd_source",
  "wfr",
  "utm",
  "srsltid",
  "_ga",
  "si",
]);
const HOST_PREFIXES = /^(www\d?|m|mobile|wap)\./;

/**
 * The URL a browser may safely open: http or https only, no credentials. Anything else
 * (`javascript:`, `data:`, `file:`, relative or unparsable) gives undefined and the result is dropped.
 */
export function safeHttpUrl(raw: string): URL | undefined {
  if (typeof raw !== "string" || raw.length === 0 || raw.length > 8192) return undefined;
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return undefined;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return undefined;
  if (url.username || url.password || url.hostname === "") return undefined;
  return url;
}

/**
 * A key that is equal for URLs of the same page: scheme, `www.`/`m.` prefixes, default ports,
 * trailing slashes, fragments, tracking parameters (`utm_*`, `spm`, `from`...) and parameter
 * order are ignored. Undefined for URLs that are not http(s).
 */
export function canonicalUrlKey(raw: string): string | undefined {
  return canonicalise(raw)?.key;
}

/** The parsed URL, its canonical key and its host (lower case, without `www.`), in one parse. */
export function canonicalise(raw: string): { url: URL; key: string; host: string } | undefined {
  const url = safeHttpUrl(raw);
  if (!url) return undefined;
  const hostname = url.hostname.replace(/\.$/, "");
  const host = hostname.replace(HOST_PREFIXES, "");
  const port = url.port && url.port !== "80" && url.port !== "443" ? `:${url.port}` : "";
  let path = url.pathname;
  if (path.includes("//")) path = path.replace(/\/{2,}/g, "/");
  path = path.replace(/\/(index|default)\.(html?|php|aspx?)$/i, "/");
  if (path.length > 1) path = path.replace(/\/+$/, "");
  if (path === "/") path = "";
  let query = "";
  if (url.search.length > 1) {
    const kept = url.search
      .slice(1)
      .split("&")
      .filter((pair) => {
        if (pair === "") return false;
        const name = (pair.split("=", 1)[0] ?? "").toLowerCase();
        return !name.startsWith("utm_") && !TRACKING_PARAMETERS.has(name);
      })
      .sort();
    if (kept.length > 0) query = `?${kept.join("&")}`;
  }
  return { url, key: `${host}${port}${path}${query}`, host: hostname.replace(/^www\./, "") };
}
