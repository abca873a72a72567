import { describe, expect, it } from "vitest";
import { ContextWindows, contextFromShow } from "../model/context-window.js";
import type { ChatMessage } from "../model/model-client.js";
import type { GroundingSource } from "./grounding.js";
import {
  answerReserve,
  cutToTokens,
  estimateMessageTokens,
  estimateTokens,
  fitPrompt,
} from "./prompt-budget.js";

function source(title: string, text: string): GroundingSource {
  return {
    citation: { kind: "document", title, url: `/doc/${title}`, snippet: text.slice(0, 30) },
    heading: title,
    text,
  };
}

function webSource(title: string, text: string): GroundingSource {
  return {
    citation: { kind: "web", title, url: `https://example.org/${title}`, snippet: text.slice(0, 30) },
    heading: title,
    text,
  };
}

const size = (m: ChatMessage) => estimateMessageTokens(m.content);

describe("estimating tokens", () => {
  it("counts a token per three bytes of Latin text and one per CJK character", () => {
    expect(estimateTokens("abcdef")).toBe(2);
    expect(estimateTokens("年假天数")).toBe(4);
    expect(estimateTokens("é")).toBe(1); // two bytes
  });

  it("cuts between characters, never inside a surrogate pair or before a combining mark", () => {
    const text = "😀".repeat(20);
    const cut = cutToTokens(text, 10);
    expect(cut.endsWith("…")).toBe(true);
    expect(cut.slice(0, -1)).toBe("😀".repeat([...cut].length - 1));
    expect(estimateTokens(cut)).toBeLessThanOrEqual(10);
    const accented = "e\u0301".repeat(30);
    const cutAccented = cutToTokens(accented, 8).slice(0, -1);
    expect(cutAccented.length % 2).toBe(0);
    expect(cutToTokens("short", 10)).toBe("short");
  });
});

describe("fitting a prompt to the context", () => {
  const long = (word: string) => `${word.padEnd(5, word)} `.repeat(600).trim(); // 3,600 bytes: about 1,200 tokens

  it("sends everything as before when the context is unknown", () => {
    const fit = fitPrompt({
      messages: [{ role: "user", content: "q" }],
      sources: [source("a", long("alpha")), source("b", long("bravo"))],
      size,
      contextTokens: undefined,
    });
    expect(fit.citations.map((c) => c.n)).toEqual([1, 2]);
    expect(fit.messages).toHaveLength(2);
  });

  it("keeps the sources that fit, cuts the next, leaves the rest out, and numbers what it sends", () => {
    const sources = ["a", "b", "c", "d", "e"].map((t) => source(`${t}.md`, long(`${t}word`)));
    const fit = fitPrompt({
      messages: [{ role: "user", content: "What about leave?" }],
      sources,
      size,
      contextTokens: 4096,
      answerTokens: 20,
    });
    const system = fit.messages[0]!.content as string;
    expect(fit.citations.map((c) => [c.n, c.title])).toEqual([
      [1, "a.md"],
      [2, "b.md"],
      [3, "c.md"],
    ]);
    expect(fit.leftOut).toEqual({ knowledge: 2, web: 0 });
    expect(system).toContain('<source id="3" title="c.md">');
    expect(system).not.toContain("dword");
    // The third is cut at a word, marked with an ellipsis.
    expect(system).toMatch(/cword…\n<\/source>$/);
    expect(fit.estimatedTokens).toBeLessThanOrEqual((4096 - 20) / 1.1);
    expect(fit.messages.at(-1)).toEqual({ role: "user", content: "What about leave?" });
  });

  it("shares the room between passages and web results, half each, numbered by rank in turn", () => {
    // Knowledge passages as grounding gives them (first), then web results, each about 1,200 tokens.
    const sources = [
      ...["a", "b", "c", "d", "e"].map((t) => source(`${t}.md`, long(`${t}word`))),
      ...["w1", "w2", "w3"].map((t) => webSource(t, long(`${t}page`))),
    ];
    const fit = fitPrompt({
      messages: [{ role: "user", content: "What about leave?" }],
      sources,
      size,
      contextTokens: 4096,
      answerTokens: 20,
    });
    // Each kind's half takes its best source whole and the next cut: knowledge 1, web 1, knowledge 2, web 2.
    expect(fit.citations.map((c) => [c.n, c.kind, c.title])).toEqual([
      [1, "document", "a.md"],
      [2, "web", "w1"],
      [3, "document", "b.md"],
      [4, "web", "w2"],
    ]);
    expect(fit.leftOut).toEqual({ knowledge: 3, web: 1 });
    const system = fit.messages[0]!.content as string;
    expect(system).toMatch(/<source id="4" title="w2">\n[^<]*w2page…\n<\/source>$/);
    expect(system).toMatch(/<source id="3" title="b.md">\n[^<]*bword…\n<\/source>/);
    expect(fit.estimatedTokens).toBeLessThanOrEqual((4096 - 20) / 1.1);
  });

  it("gives the room one kind does not need to the other", () => {
    const sources = [
      ...["a", "b", "c", "d", "e"].map((t) => source(`${t}.md`, long(`${t}word`))),
      webSource("w1", "A short page about leave."),
    ];
    const fit = fitPrompt({
      messages: [{ role: "user", content: "What about leave?" }],
      sources,
      size,
      contextTokens: 4096,
      answerTokens: 20,
    });
    // As much knowledge as when there is no web result, less the short page's room.
    expect(fit.citations.map((c) => c.title)).toEqual(["a.md", "w1", "b.md", "c.md"]);
    expect(fit.leftOut).toEqual({ knowledge: 2, web: 0 });
    // With room for every source, all are sent, still numbered by rank in turn; nothing is left out.
    const roomy = fitPrompt({
      messages: [{ role: "user", content: "What about leave?" }],
      sources,
      size,
      contextTokens: undefined,
    });
    expect(roomy.citations.map((c) => c.title)).toEqual(["a.md", "w1", "b.md", "c.md", "d.md", "e.md"]);
    expect(roomy.leftOut).toEqual({ knowledge: 0, web: 0 });
  });

  it("keeps a quarter of the context for the answer when max_tokens is not given", () => {
    const fit = fitPrompt({
      messages: [{ role: "user", content: "q" }],
      sources: ["a", "b", "c", "d"].map((t) => source(t, long(t))),
      size,
      contextTokens: 4096,
    });
    expect(fit.estimatedTokens).toBeLessThanOrEqual((4096 * 0.75) / 1.1);
    expect(fit.estimatedTokens).toBeGreaterThan((4096 * 0.75) / 1.1 - 100);
  });

  it("drops the oldest turns first, whole, and always keeps the system prompt and the latest message", () => {
    const messages: ChatMessage[] = [
      { role: "system", content: "Be terse." },
      { role: "user", content: `old question ${long("x")}` },
      { role: "assistant", content: `old answer ${long("y")}` },
      { role: "user", content: "recent question" },
      { role: "assistant", content: `recent answer ${long("z")}` },
      { role: "user", content: "latest question" },
    ];
    const fit = fitPrompt({ messages, sources: [], size, contextTokens: 2048, answerTokens: 200 });
    expect(fit.messages.map((m) => m.content.slice(0, 15))).toEqual([
      "Be terse.",
      "recent question",
      "recent answer z",
      "latest question",
    ]);
    expect(fit.droppedMessages).toBe(2);

    // Sources come before history: the recent turn gives way to them.
    const grounded = fitPrompt({
      messages,
      sources: [source("a", long("alpha"))],
      size,
      contextTokens: 2048,
      answerTokens: 200,
    });
    expect(grounded.messages.map((m) => m.role)).toEqual(["system", "system", "user"]);
    expect(grounded.citations).toHaveLength(1);
  });

  it("sends the latest message alone when even it does not fit, for the model service to refuse", () => {
    const fit = fitPrompt({
      messages: [
        { role: "user", content: "earlier" },
        { role: "assistant", content: "answer" },
        { role: "user", content: long("huge") },
      ],
      sources: [source("a", "a passage")],
      size,
      contextTokens: 256,
    });
    expect(fit.messages).toEqual([{ role: "user", content: long("huge") }]);
    expect(fit.citations).toEqual([]);
  });

  it("adds the newest memories that fit to the system prompt, in at most half the room, the sources keeping the rest", () => {
    // Ten memories of about 100 tokens each, newest first; the context has room for some of them.
    const memories = Array.from({ length: 10 }, (_, n) => `Memory ${9 - n}: ${"fact ".repeat(58)}`.trim());
    const base = {
      messages: [{ role: "user", content: "q" } as ChatMessage],
      systemPrompt: "Be terse.",
      memories,
      size,
      contextTokens: 2048,
      answerTokens: 200,
    };
    const fit = fitPrompt({ ...base, sources: [source("a", long("alpha"))] });
    expect(fit.messages.map((m) => m.role)).toEqual(["system", "system", "user"]);
    const system = fit.messages[1]!.content;
    expect(fit.systemPrompt).toBe(system);
    const [own, block] = system.split("\n\n");
    expect(own).toBe("Be terse.");
    const lines = block!.split("\n");
    expect(lines[0]).toBe("About the user (what they asked you to remember):");
    const sent = lines.slice(1);
    expect(sent.length).toBeGreaterThan(3);
    expect(sent.length).toBeLessThan(memories.length);
    expect(sent).toEqual(memories.slice(0, sent.length).map((memory) => `- ${memory}`));
    expect(fit.memoriesLeftOut).toBe(memories.length - sent.length);
    // At most half the room: the source still has its share, cut to it.
    expect(fit.citations).toHaveLength(1);
    expect(fit.messages[0]!.content).toContain("alpha");
    expect(fit.estimatedTokens).toBeLessThanOrEqual((2048 - 200) / 1.1);

    // One too long for the room is left out; an older, shorter one still goes.
    const skipped = fitPrompt({ ...base, memories: [long("huge"), "I work in Go"], sources: [] });
    expect(skipped.systemPrompt).toBe(
      "Be terse.\n\nAbout the user (what they asked you to remember):\n- I work in Go",
    );
    expect(skipped.memoriesLeftOut).toBe(1);
    // Without a system prompt of the conversation's, the block is the system prompt.
    expect(
      fitPrompt({ ...base, systemPrompt: null, memories: ["I work in Go"], sources: [] }).messages,
    ).toEqual([
      { role: "system", content: "About the user (what they asked you to remember):\n- I work in Go" },
      { role: "user", content: "q" },
    ]);
    // The context unknown: every memory; none at all when even the latest message does not fit.
    const unknown = fitPrompt({ ...base, contextTokens: undefined, sources: [] });
    expect(unknown.systemPrompt!.split("\n").slice(3)).toEqual(memories.map((memory) => `- ${memory}`));
    expect(unknown.memoriesLeftOut).toBe(0);
    const tiny = fitPrompt({
      ...base,
      messages: [{ role: "user", content: long("huge") }],
      sources: [],
      contextTokens: 256,
      answerTokens: undefined,
    });
    expect(tiny.messages).toEqual([
      { role: "system", content: "Be terse." },
      { role: "user", content: long("huge") },
    ]);
  });

  it("scales the estimate by what the model reported", () => {
    const base = {
      messages: [{ role: "user", content: "q" } as ChatMessage],
      size,
      contextTokens: 8192,
      answerTokens: 20,
    };
    const sources = ["a", "b", "c", "d", "e"].map((t) => source(t, long(t)));
    const plain = fitPrompt({ ...base, sources });
    const scaled = fitPrompt({ ...base, sources, scale: 3 });
    expect(scaled.estimatedTokens * 3).toBeLessThanOrEqual((8192 - 20) / 1.1);
    expect(scaled.citations.length).toBeLessThan(plain.citations.length);
  });
});

describe("the room kept for a conversation's capped answer", () => {
  it("keeps the cap when under a quarter of the context (more history fits), never more", () => {
    const messages: ChatMessage[] = [
      { role: "user", content: `old question ${"word ".repeat(440)}` },
      { role: "assistant", content: "old answer" },
      { role: "user", content: "latest question" },
    ];
    const size = (m: ChatMessage) => estimateMessageTokens(m.content);
    const fit = (maxTokens: number | null) =>
      fitPrompt({
        messages,
        sources: [],
        size,
        contextTokens: 1024,
        answerTokens: answerReserve(1024, maxTokens),
      }).droppedMessages;
    // The usual quarter (256 tokens) leaves no room for the long old turn; a 64-token cap does.
    expect(fit(null)).toBe(2);
    expect(fit(64)).toBe(0);
    // A cap past the context keeps only the usual quarter, not the whole context.
    expect(answerReserve(1024, 100_000)).toBe(256);
    expect(fit(100_000)).toBe(2);
    expect(answerReserve(undefined, 64)).toBeUndefined();
  });
});

describe("the model's context window", () => {
  it("reads num_ctx, else the trained context length, from /api/show", () => {
    expect(
      contextFromShow({
        parameters: "temperature 0.6\nnum_ctx 4096",
        model_info: { "qwen2.context_length": 32768 },
      }),
    ).toBe(4096);
    expect(contextFromShow({ parameters: "", model_info: { "llama.context_length": 2048 } })).toBe(2048);
    expect(contextFromShow({ parameters: "", model_info: { "general.architecture": "" } })).toBeUndefined();
    expect(contextFromShow("nonsense")).toBeUndefined();
  });

  it("asks once per model and caches the answer; learns a scale only from shortfalls", async () => {
    let asked = 0;
    let now = 0;
    const windows = new ContextWindows(
      async () => {
        asked++;
        return { parameters: "num_ctx 2048" };
      },
      () => now,
    );
    expect(await Promise.all([windows.contextTokens("m"), windows.contextTokens("m")])).toEqual([2048, 2048]);
    expect(await windows.contextTokens("m")).toBe(2048);
    expect(asked).toBe(1);
    now += 6 * 60_000;
    await windows.contextTokens("m");
    expect(asked).toBe(2);

    expect(windows.scale("m")).toBe(1);
    windows.noteUsage("m", 100, 250);
    expect(windows.scale("m")).toBe(2.5);
    windows.noteUsage("m", 100, 80);
    expect(windows.scale("m")).toBe(1);
    windows.noteUsage("m", 100, 10_000);
    expect(windows.scale("m")).toBe(4);
  });

  it("answers with the context it knows while it asks the model service again", async () => {
    let now = 0;
    const answers: Array<(value: unknown) => void> = [];
    const windows = new ContextWindows(
      () => new Promise((resolve) => answers.push(resolve)),
      () => now,
    );
    const first = windows.contextTokens("m");
    answers[0]!({ parameters: "num_ctx 2048" });
    expect(await first).toBe(2048);
    now += 6 * 60_000;
    // Asked again (the question is out), and answered at once with what it knew.
    expect(await windows.contextTokens("m")).toBe(2048);
    expect(answers).toHaveLength(2);
    answers[1]!({ parameters: "num_ctx 1024" });
    await new Promise((resolve) => setImmediate(resolve));
    expect(await windows.contextTokens("m")).toBe(1024);
    expect(answers).toHaveLength(2);
  });

  it("treats a model service that cannot say as an unknown context", async () => {
    const windows = new ContextWindows(async () => {
      throw new Error("404");
    });
    expect(await windows.contextTokens("m")).toBeUndefined();
  });
});
