import { safeHttpUrl } from "@hearth/contracts";

/** The registrable-ish host of a URL for domain lists: lower case, without `www.`. */
export function hostOf(raw: string): string {
  const url = safeHttpUrl(raw);
  return url ? url.hostname.toLowerCase().replace(/^www\./, "") : "";
}

/** Whether `host` is `domain` or one of its subdomains. */
export function matchesDomain(host: string, domain: string): boolean {
  const wanted = domain
    .toLowerCase()
    .replace(/^\*?\./, "")
    .replace(/^www\./, "");
  return host === wanted || host.endsWith(`.${wanted}`);
}
