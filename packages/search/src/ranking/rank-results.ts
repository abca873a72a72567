import { canonicalise, nearDuplicates, type PageFingerprint, pageFingerprint } from "@hearth/contracts";
import type { ProviderHit } from "../providers/search-provider.js";
import { hostOf, matchesDomain } from "./domain-match.js";

export type Freshness = "day" | "week" | "month" | "year";

/** One engine's answer, in its order. */
export interface EngineResults {
  providerId: string;
  /** Weight of the engine in fusion (config `weight`). */
  weight: number;
  hits: ProviderHit[];
}

/** A page after merging: every engine that found it, and its fused score. */
export interface RankedResult {
  url: string;
  title: string;
  snippet: string;
  publishedAt?: string;
  sources: string[];
  score: number;
}

export interface RankOptions {
  /** Reciprocal rank fusion constant (Cormack et al. 2009 use 60). */
  rrfK?: number;
  denyDomains?: readonly string[];
  allowDomains?: readonly string[];
  /** The period the request asked for; results inside it are favoured. */
  freshness?: Freshness;
  /** The query asks for recent news (see `wantsRecent`); favours fresh results even without `freshness`. */
  recent?: boolean;
  /** SimHash distance (of 64 bits) up to which two results are the same page (`nearDuplicates`' default when absent). */
  nearDuplicateBits?: number;
  now?: number;
}

interface Group {
  key: string;
  url: string;
  title: string;
  snippet: string;
  publishedAt?: string;
  /** provider id -> best (lowest) rank, 1-based. */
  ranks: Map<string, number>;
  fingerprint?: PageFingerprint;
}

const DAY_MS = 86_400_000;
const HALF_LIFE_DAYS: Record<Freshness, number> = { day: 1, week: 7, month: 30, year: 365 };
const RECENT_WORDS =
  /\b(latest|today|news|breaking|this week|yesterday|now|current|recent)\b|最新|今天|今日|新闻|昨天|本周|近期|目前|刚刚|实时/i;

/** Whether a query asks for fresh facts ("latest", "today", "最新", "新闻"...). */
export function wantsRecent(query: string): boolean {
  return RECENT_WORDS.test(query);
}

/**
 * Merges the engines' answers into one ranked list: URLs canonicalised, near-duplicate pages of
 * different engines (SimHash of title and snippet, the same numbers: `nearDuplicates`) merged,
 * weighted reciprocal rank fusion, a boost for pages that several engines agree on, freshness when
 * asked, and domain allow/deny lists. Results whose URL is not http(s) (e.g. `javascript:`) are
 * dropped.
 */
export function rankResults(engines: readonly EngineResults[], options: RankOptions = {}): RankedResult[] {
  const k = options.rrfK ?? 60;
  const weights = new Map(engines.map((engine) => [engine.providerId, engine.weight]));
  const deny = options.denyDomains ?? [];
  const allow = options.allowDomains ?? [];
  const groups = new Map<string, Group>();

  // Round-robin by rank so that the first engine to claim a URL is the best-ranked one.
  const longest = Math.max(0, ...engines.map((engine) => engine.hits.length));
  for (let rank = 0; rank < longest; rank++) {
    for (const engine of engines) {
      const hit = engine.hits[rank];
      if (!hit) continue;
      const canonical = canonicalise(hit.url);
      if (!canonical) continue;
      const { key, url, host } = canonical;
      if (deny.length > 0 && deny.some((domain) => matchesDomain(host, domain))) continue;
      const existing = groups.get(key);
      if (existing) {
        if (!existing.ranks.has(engine.providerId)) existing.ranks.set(engine.providerId, rank + 1);
        if (!existing.snippet && hit.snippet) existing.snippet = hit.snippet;
        if (!existing.title && hit.title) existing.title = hit.title;
        existing.publishedAt ??= hit.publishedAt;
        if (existing.url.startsWith("http:") && url.protocol === "https:") existing.url = url.href;
      } else {
        groups.set(key, {
          key,
          url: url.href,
          title: hit.title,
          snippet: hit.snippet,
          publishedAt: hit.publishedAt,
          ranks: new Map([[engine.providerId, rank + 1]]),
        });
      }
    }
  }

  const merged = mergeNearDuplicates([...groups.values()], options.nearDuplicateBits);
  const now = options.now ?? Date.now();
  const favourFresh = options.freshness !== undefined || options.recent === true;
  const halfLife = HALF_LIFE_DAYS[options.freshness ?? "week"];

  const ranked = merged.map((group) => {
    let score = 0;
    for (const [provider, rank] of group.ranks) score += (weights.get(provider) ?? 1) / (k + rank);
    // Agreement: every further engine that found the page adds 25% on top of its RRF share.
    score *= 1 + 0.25 * (group.ranks.size - 1);
    if (allow.length > 0 && allow.some((domain) => matchesDomain(hostOf(group.url), domain))) score *= 1.5;
    if (favourFresh) score *= freshnessFactor(group.publishedAt, now, halfLife, options.freshness);
    const sources = [...group.ranks.entries()].sort((a, b) => a[1] - b[1]).map(([provider]) => provider);
    return {
      url: group.url,
      title: group.title,
      snippet: group.snippet,
      ...(group.publishedAt ? { publishedAt: group.publishedAt } : {}),
      sources,
      score: Number(score.toFixed(6)),
    };
  });
  return ranked.sort((a, b) => b.score - a.score);
}

/** Fresh pages up to 1.5x, old ones down to 0.5x, undated 0.75x; outside the asked window 0.25x more. */
function freshnessFactor(
  publishedAt: string | undefined,
  now: number,
  halfLifeDays: number,
  window?: Freshness,
): number {
  if (!publishedAt) return 0.75;
  const ageDays = Math.max(0, (now - Date.parse(publishedAt)) / DAY_MS);
  let factor = 0.5 + 2 ** (-ageDays / halfLifeDays);
  if (window && ageDays > HALF_LIFE_DAYS[window]) factor *= 0.25;
  return factor;
}

/**
 * Unions groups whose title+snippet fingerprints are near duplicates (`bits`); the better-ranked
 * group absorbs the other. Two URLs one engine listed are two pages: an engine de-duplicates its
 * own answer, so a merged group holds at most one URL of each engine.
 */
function mergeNearDuplicates(groups: Group[], bits: number | undefined): Group[] {
  const candidates: Group[] = [];
  for (const group of groups) {
    group.fingerprint = pageFingerprint(group.title, group.snippet);
    if (group.fingerprint) candidates.push(group);
  }
  const absorbedBy = new Map<Group, Group>();
  const root = (group: Group): Group => {
    let current = group;
    while (absorbedBy.has(current)) current = absorbedBy.get(current)!;
    return current;
  };
  for (let i = 0; i < candidates.length; i++) {
    for (let j = i + 1; j < candidates.length; j++) {
      const a = candidates[i]!;
      const b = candidates[j]!;
      if (!nearDuplicates(a.fingerprint!, b.fingerprint!, bits)) continue;
      const ra = root(a);
      const rb = root(b);
      if (ra === rb || [...rb.ranks.keys()].some((provider) => ra.ranks.has(provider))) continue;
      absorbedBy.set(rb, ra);
      // No engine is in both (above): each keeps its own rank.
      for (const [provider, rank] of rb.ranks) ra.ranks.set(provider, rank);
      ra.publishedAt ??= rb.publishedAt;
    }
  }
  return groups.filter((group) => !absorbedBy.has(group));
}
