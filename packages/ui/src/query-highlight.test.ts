import { describe, expect, it } from "vitest";
import { queryMatches } from "./query-highlight.js";

/** The marked stretches of `text`, as a reader sees them. */
const marked = (text: string, query: string) =>
  queryMatches(text, query).map(({ start, end }) => text.slice(start, end));

describe("a retrieval test's marks", () => {
  it("marks the question's words wherever a word begins with them, case aside, not its common ones", () => {
    expect(
      marked("Annual leave: Leaves are booked in the portal, not on sleeves.", "How is annual leave booked?"),
    ).toEqual(["Annual", "leave", "Leave", "booked"]);
  });

  it("marks Chinese by two characters side by side, joining those that touch", () => {
    expect(marked("员工每年享有十五天带薪年假。", "年假有几天")).toEqual(["年假"]);
    expect(marked("带薪年假制度说明", "带薪年假")).toEqual(["带薪年假"]);
    expect(marked("提出抗诉。", "诉")).toEqual(["诉"]);
  });

  it("marks nothing for a question of common words only", () => {
    expect(queryMatches("What is this and how does it work?", "what is this")).toEqual([]);
  });
});
