import { describe, expect, it } from "vitest";
import { findMentions } from "./mentions.js";

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

  it("reads names with spaces, and takes the # off what is sent", () => {
    expect(findMentions("per #HR policy, how many days?", bases)).toEqual({
      mentioned: [bases[4]],
      text: "per HR policy, how many days?",
    });
    expect(findMentions("#Docs and #Doc and #Docsify", bases).text).toBe("Docs and Doc and #Docsify");
  });
});
