import { describe, expect, it } from "vitest";
import { findMentions, hashQuery, matchingKnowledgeBases, mentionOf } from "./mentions.js";

const bases = [
  { id: "1", name: "Doc" },
  { id: "2", name: "Docs" },
  { id: "3", name: "产品" },
  { id: "4", name: "产品手册" },
  { id: "5", name: "HR policy" },
];
const ids = (text: string) => findMentions(text, bases).mentioned.map((kb) => kb.id);

describe("#name mentions of knowledge bases", () => {
  it("takes the whole name, not every base whose name begins it", () => {
    expect(ids("#Docs question")).toEqual(["2"]);
    expect(ids("#Doc question")).toEqual(["1"]);
    expect(ids("what is in #Docs?")).toEqual(["2"]);
    expect(ids("#Docs")).toEqual(["2"]);
    expect(ids("#Docs, #Doc.")).toEqual(["2", "1"]);
  });

  it("needs the name to end there", () => {
    expect(ids("#Docsify setup")).toEqual([]);
    expect(ids("#Doctor")).toEqual([]);
    expect(ids("no mention of Docs")).toEqual([]);
  });

  it("lets a Chinese name run into Chinese text, the longest name winning", () => {
    expect(ids("#产品手册怎么用")).toEqual(["4"]);
    expect(ids("#产品怎么用")).toEqual(["3"]);
    expect(ids("看看#产品手册。")).toEqual(["4"]);
  });

  it("reads the full-width ＃ a Chinese input method types as #", () => {
    expect(findMentions("看看＃产品手册怎么用", bases)).toEqual({
      mentioned: [bases[3]],
      text: "看看产品手册怎么用",
    });
    expect(ids("＃Docs，＃Doc。")).toEqual(["2", "1"]);
    expect(ids("＃Docsify")).toEqual([]);
  });

  it("reads names with spaces, and takes the # off what is sent", () => {
    expect(findMentions("per #HR policy, how many days?", bases)).toEqual({
      mentioned: [bases[4]],
      text: "per HR policy, how many days?",
    });
    expect(findMentions("see #Docs and #Doc and #Docsify", bases).text).toBe("see Docs and Doc and #Docsify");
  });
});

describe("mentions that begin a message", () => {
  it("only choose their bases: what is sent (and the chat's title) starts with the question", () => {
    const docsEn = [...bases, { id: "6", name: "Docs EN" }];
    expect(findMentions("#Docs EN Preliminary Estimate for the roof", docsEn)).toEqual({
      mentioned: [docsEn[5]],
      text: "Preliminary Estimate for the roof",
    });
    expect(findMentions("  #Docs  #HR policy how many days? per #Doc", bases)).toEqual({
      mentioned: [bases[1], bases[4], bases[0]],
      text: "how many days? per Doc",
    });
    // A name running into Chinese text, or followed by punctuation, is part of the sentence.
    expect(findMentions("#产品手册怎么用", bases).text).toBe("产品手册怎么用");
    expect(findMentions("#Docs: what is new?", bases).text).toBe("Docs: what is new?");
    // Mentions alone: their names are the message.
    expect(findMentions("#Docs #Doc", bases).text).toBe("Docs Doc");
    expect(findMentions("#Docs", bases).text).toBe("Docs");
  });
});

describe("the # list of knowledge bases in the message box", () => {
  it("opens on a # typed where a mention may begin, with what follows it up to the caret", () => {
    expect(hashQuery("#", 1)).toEqual({ start: 0, query: "" });
    expect(hashQuery("per #HR", 7)).toEqual({ start: 4, query: "HR" });
    expect(hashQuery("#产品", 3)).toEqual({ start: 0, query: "产品" });
    // Chinese puts no space before it; punctuation may come before it too.
    expect(hashQuery("看看#产品", 5)).toEqual({ start: 2, query: "产品" });
    expect(hashQuery("(#Doc", 5)).toEqual({ start: 1, query: "Doc" });
    expect(hashQuery("first line\n#Doc", 15)).toEqual({ start: 11, query: "Doc" });
    // The full-width ＃ of a Chinese input method opens it too.
    expect(hashQuery("看看＃产品", 5)).toEqual({ start: 2, query: "产品" });
    expect(hashQuery("＃", 1)).toEqual({ start: 0, query: "" });
    // The caret decides: in a word, what is before it is the query; past a space, no list.
    expect(hashQuery("#Docsify", 4)).toEqual({ start: 0, query: "Doc" });
    expect(hashQuery("#Docs question", 14)).toBeUndefined();
    expect(hashQuery("#Docs question", 3)).toEqual({ start: 0, query: "Do" });
    // Past a space it stays open while a name holds what is typed (its words, case and width aside).
    const names = bases.map((kb) => kb.name);
    expect(hashQuery("per #HR pol", 11, names)).toEqual({ start: 4, query: "HR pol" });
    expect(hashQuery("per #ｈｒ Policy", 14, names)).toEqual({ start: 4, query: "ｈｒ Policy" });
    expect(hashQuery("per #HR policy, how", 19, names)).toBeUndefined();
    expect(hashQuery("#Docs question", 14, names)).toBeUndefined();
    expect(hashQuery("#HR\npol", 7, names)).toBeUndefined();
  });

  it("does not open on a # inside a word, as in C#, nor on ##", () => {
    expect(hashQuery("C#", 2)).toBeUndefined();
    expect(hashQuery("learn C#basics", 14)).toBeUndefined();
    expect(hashQuery("page.html#intro", 15)).toBeUndefined();
    expect(hashQuery("##", 2)).toBeUndefined();
    expect(hashQuery("##Doc", 5)).toBeUndefined();
    expect(hashQuery("C＃", 2)).toBeUndefined();
    expect(hashQuery("#＃Doc", 5)).toBeUndefined();
  });

  it("offers the names that begin with the query first, then those that hold it, without case or width", () => {
    const listed = [
      { id: "1", name: "Employee handbook" },
      { id: "2", name: "Handbook" },
      { id: "3", name: "产品手册" },
      { id: "4", name: "HR policy" },
    ];
    const offered = (query: string) => matchingKnowledgeBases(listed, query).map((kb) => kb.name);
    expect(offered("hand")).toEqual(["Handbook", "Employee handbook"]);
    expect(offered("HAND")).toEqual(["Handbook", "Employee handbook"]);
    expect(offered("ｈａｎｄ")).toEqual(["Handbook", "Employee handbook"]);
    expect(offered("产品")).toEqual(["产品手册"]);
    expect(offered("手册")).toEqual(["产品手册"]);
    expect(offered("")).toEqual(["Employee handbook", "Handbook", "产品手册", "HR policy"]);
    expect(offered("wiki")).toEqual([]);
  });

  it("inserts a mention that is read back whole, spaces and all", () => {
    const typed = (name: string, rest: string) => findMentions(`per ${mentionOf(name)}${rest}`, bases);
    expect(typed("HR policy", "how many days?")).toEqual({
      mentioned: [bases[4]],
      text: "per HR policy how many days?",
    });
    // The space it ends with keeps a shorter name from running into the text after it.
    expect(typed("Doc", "question").mentioned).toEqual([bases[0]]);
    expect(typed("产品", "手册怎么用").mentioned).toEqual([bases[2]]);
  });
});
