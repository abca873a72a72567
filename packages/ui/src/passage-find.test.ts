import { describe, expect, it } from "vitest";
import { findAll, passagesHolding } from "./passage-find.js";

describe("finding text in a document's passages", () => {
  it("finds every place, ignoring case, as offsets into the passage as written", () => {
    const text = "Annual leave: 15 days. ANNUAL leave is paid.";
    expect(findAll(text, "annual")).toEqual([
      { start: 0, end: 6 },
      { start: 23, end: 29 },
    ]);
    expect(text.slice(23, 29)).toBe("ANNUAL");
  });

  it("finds Chinese text and ignores the spaces around what is typed", () => {
    const text = "员工每年享有十五天带薪年假，年假可以累积。";
    expect(findAll(text, " 年假 ").map(({ start, end }) => text.slice(start, end))).toEqual(["年假", "年假"]);
  });

  it("finds full-width letters and digits by their half-width forms and the other way round, marking them as written", () => {
    const text = "型号ＡＢＣ－１２３，另见 abc-123";
    expect(findAll(text, "abc-123").map(({ start, end }) => text.slice(start, end))).toEqual([
      "ＡＢＣ－１２３",
      "abc-123",
    ]);
    expect(findAll(text, "ａｂｃ").map(({ start, end }) => text.slice(start, end))).toEqual([
      "ＡＢＣ",
      "abc",
    ]);
    expect(findAll("第　二条", "第 二")).toEqual([{ start: 0, end: 3 }]);
  });

  it("does not overlap matches and finds nothing for a blank needle", () => {
    expect(findAll("aaaa", "aa")).toEqual([
      { start: 0, end: 2 },
      { start: 2, end: 4 },
    ]);
    expect(findAll("anything", "   ")).toEqual([]);
  });

  it("keeps offsets right in a text whose lower case is longer (İ), searching it as written", () => {
    const text = "İstanbul office: İzmir too";
    const found = findAll(text, "İzmir");
    expect(found.map(({ start, end }) => text.slice(start, end))).toEqual(["İzmir"]);
  });

  it("keeps only the passages that hold the needle, all of them for a blank one", () => {
    const passages = [{ text: "The VPN needs a token." }, { text: "Leave policy." }, { text: "vpn again" }];
    expect(passagesHolding(passages, "VPN").map(({ passage }) => passage.text)).toEqual([
      "The VPN needs a token.",
      "vpn again",
    ]);
    expect(passagesHolding(passages, "")).toHaveLength(3);
    expect(passagesHolding(passages, "nowhere")).toEqual([]);
  });
});
