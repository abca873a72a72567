/**
 * Search agent benchmarks (`npm run bench -- search`):
 * - fan-out overhead over the slowest provider that answered, 5 providers over local HTTP;
 * - de-duplication and ranking of 500 results;
 * - sensitive-word filter throughput with a 10,000-word list, beside a naive per-word scan.
 */
import { createServer } from "node:http";
import { searchProviderSchema } from "../packages/core/src/index.js";
import { fanOut, ProviderSlot } from "../packages/search/src/fan-out/fan-out.js";
import { createProvider } from "../packages/search/src/providers/create-provider.js";
import type {
  EngineAnswer,
  ProviderRequest,
  SearchProvider,
} from "../packages/search/src/providers/search-provider.js";
import { rankResults } from "../packages/search/src/ranking/rank-results.js";
import { createSensitiveWordFilter, normaliseForMatching } from "../packages/sensitive-words/src/index.js";

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** A deterministic pseudo-random generator, so that every run measures the same data. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

class Timed implements SearchProvider {
  readonly id: string;
  readonly type = "searxng";
  lastMs = 0;
  constructor(readonly inner: SearchProvider) {
    this.id = inner.id;
  }
  async search(request: ProviderRequest): Promise<EngineAnswer> {
    const started = performance.now();
    try {
      return await this.inner.search(request);
    } finally {
      this.lastMs = performance.now() - started;
    }
  }
}

async function fanOutOverhead(): Promise<void> {
  const page = JSON.stringify({
    results: Array.from({ length: 20 }, (_, i) => ({
      url: `https://example.com/${i}`,
      title: `Result ${i}`,
      content: "snippet ".repeat(20),
    })),
  });
  const server = createServer((request, response) => {
    const delay = Number(/\/d(\d+)\//.exec(request.url ?? "")?.[1] ?? 0);
    setTimeout(() => {
      response.writeHead(200, { "content-type": "application/json" });
      response.end(page);
    }, delay);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  const timed = [2, 4, 6, 8, 10].map((delay, index) => {
    const config = searchProviderSchema.parse({
      id: `p${index}`,
      type: "searxng",
      url: `http://127.0.0.1:${port}/d${delay}`,
      rateLimit: { perSecond: 10_000 },
    });
    return { timed: new Timed(createProvider(config)), config };
  });
  const slots = timed.map(
    ({ timed: provider, config }) =>
      new ProviderSlot(provider, config, { failureThreshold: 5, cooldownMs: 1000 }),
  );
  const overheads: number[] = [];
  for (let i = 0; i < 320; i++) {
    const started = performance.now();
    const { outcomes } = await fanOut(slots, { query: "q", limit: 10, deadlineMs: 2000 });
    const total = performance.now() - started;
    if (outcomes.some((outcome) => outcome.status !== "ok"))
      throw new Error("a provider failed in the benchmark");
    if (i >= 20) overheads.push(total - Math.max(...timed.map(({ timed: provider }) => provider.lastMs)));
  }
  server.close();
  console.log(
    `fan-out overhead over the slowest of 5 providers (local HTTP, 300 runs): p50 ${percentile(overheads, 50).toFixed(3)} ms, p99 ${percentile(overheads, 99).toFixed(3)} ms`,
  );
}

function dedupAndRanking(): void {
  const next = random(7);
  const words = [
    "node",
    "release",
    "python",
    "rust",
    "search",
    "engine",
    "cache",
    "latency",
    "北京",
    "新闻",
    "发布",
    "模型",
    "开源",
    "数据",
  ];
  const sentence = () => Array.from({ length: 12 }, () => words[Math.floor(next() * words.length)]).join(" ");
  const pages = Array.from({ length: 300 }, (_, i) => ({
    url: `https://site${i % 40}.example.com/article/${i}`,
    title: `Title ${i} ${sentence()}`,
    snippet: sentence(),
  }));
  const engines = Array.from({ length: 5 }, (_, engine) => ({
    providerId: `engine${engine}`,
    weight: 1 + engine * 0.2,
    hits: Array.from({ length: 100 }, () => {
      const page = pages[Math.floor(next() * pages.length)]!;
      const variant = Math.floor(next() * 3);
      const url =
        variant === 0
          ? page.url
          : variant === 1
            ? page.url.replace("https://", "http://www.")
            : `${page.url}/?utm_source=e${engine}`;
      return { url, title: page.title, snippet: page.snippet };
    }),
  }));
  const times: number[] = [];
  let merged = 0;
  for (let i = 0; i < 520; i++) {
    const started = performance.now();
    merged = rankResults(engines, { recent: true }).length;
    if (i >= 20) times.push(performance.now() - started);
  }
  console.log(
    `de-duplication + ranking of 500 results (5 engines x 100, ${merged} pages after merging, 500 runs): min ${percentile(times, 0).toFixed(2)} ms, p50 ${percentile(times, 50).toFixed(2)} ms, p99 ${percentile(times, 99).toFixed(2)} ms`,
  );
}

function filterThroughput(): void {
  const next = random(11);
  const hanzi =
    "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可里后小么心多天而能好都然没日于起还发成事只作当想看无开手十用主行方又如前所本见经头面公同三已老从动两长知民样现分将外但身些与高意进把法此实回二理美点月明其种声全工己话儿者向情部正名定女问力机给等几很业最间新什打便位因重被走电四第门相次东政海口使教西再平真听世气信北少关并内加化由却代军产入先山五太水万市眼体别处总才场师书比住员九笑性通目华报立马命张活难神数件安表原车白应路期叫死常提感金何更反合放做系计或司利受光王果亲界及今京务制解各任至清物台象记边共风战干接它许八特觉望直服毛林题建南度统色字请交爱让认算论百吃义科怎元社术结六功指思非流每青管夫连远资队跟带花快条院变联言权往展该领传近留红治决周保达办运武半候七必城父强步完革深区即求品士转量空甚众技轻程告江语英基派满式李息写呢识极令黄德收脸钱党倒未持取设始版双历越史商千片容研像找友孩站广改议形委早房音火际则首单据导影失拿网香似斯专石若兵弟谁校读志飞观争究包组造落视济喜离虽坏兴故";
  const latin = "abcdefghijklmnopqrstuvwxyz";
  const words = new Set<string>();
  while (words.size < 10_000) {
    if (next() < 0.8)
      words.add(
        Array.from(
          { length: 2 + Math.floor(next() * 3) },
          () => hanzi[Math.floor(next() * hanzi.length)],
        ).join(""),
      );
    else
      words.add(
        Array.from({ length: 5 + Math.floor(next() * 5) }, () => latin[Math.floor(next() * 26)]).join(""),
      );
  }
  const list = [...words];
  const pieces: string[] = [];
  let bytes = 0;
  while (bytes < 512 * 1024) {
    const piece =
      next() < 0.7
        ? hanzi[Math.floor(next() * hanzi.length)]!
        : next() < 0.5
          ? " "
          : latin[Math.floor(next() * 26)]!;
    pieces.push(piece, next() < 0.01 ? "，" : "");
    bytes += Buffer.byteLength(piece) + 3 * Number(pieces.at(-1) !== "");
  }
  const text = pieces.join("");
  const megabytes = Buffer.byteLength(text) / 2 ** 20;

  let started = performance.now();
  const filter = createSensitiveWordFilter({
    lists: [{ id: "bench", action: "mask", words: list }],
    reloadIntervalMs: 0,
  });
  const buildMs = performance.now() - started;
  filter.check(text); // warm the character cache
  const runs = 5;
  started = performance.now();
  let hits = 0;
  for (let i = 0; i < runs; i++) hits = filter.check(text).hits.length;
  const filterSeconds = (performance.now() - started) / 1000 / runs;

  started = performance.now();
  const normalised = normaliseForMatching(text).text;
  const normaliseSeconds = (performance.now() - started) / 1000;

  const patterns = list.map((word) => normaliseForMatching(word).text);
  started = performance.now();
  let naiveHits = 0;
  for (const pattern of patterns) {
    for (let at = normalised.indexOf(pattern); at !== -1; at = normalised.indexOf(pattern, at + 1))
      naiveHits += 1;
  }
  const naiveSeconds = (performance.now() - started) / 1000;
  filter.close();
  console.log(
    `sensitive-word filter, 10,000 words, ${megabytes.toFixed(2)} MB of mixed Chinese/English text (automaton built in ${buildMs.toFixed(0)} ms):`,
  );
  console.log(
    `  Aho-Corasick filter (normalise + match + mask): ${(megabytes / filterSeconds).toFixed(1)} MB/s, ${hits} hits`,
  );
  console.log(`  normalisation alone: ${(megabytes / normaliseSeconds).toFixed(1)} MB/s`);
  console.log(
    `  naive per-word indexOf scan (on already normalised text): ${(megabytes / naiveSeconds).toFixed(2)} MB/s, ${naiveHits} raw hits; Aho-Corasick is ${(naiveSeconds / filterSeconds).toFixed(1)}x faster`,
  );
}

export async function run(): Promise<void> {
  await fanOutOverhead();
  dedupAndRanking();
  filterThroughput();
}
