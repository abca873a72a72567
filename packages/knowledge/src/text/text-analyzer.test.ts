import { foldText } from "@hearth/sensitive-words";
import { describe, expect, it } from "vitest";
import {
  analyzeText,
  analyzeToDocument,
  queryCharacters,
  queryPhrases,
  splitDocument,
} from "./text-analyzer.js";

describe("foldText", () => {
  it("folds full-width letters, digits and case to half-width lower case", () => {
    expect(foldText("ＨＥＡＲＴＨ　２０２６")).toBe("hearth 2026");
  });

  it("folds traditional Chinese to simplified", () => {
    expect(foldText("機器學習與資料庫")).toBe("机器学习与资料库");
  });
});

describe("analyzeText", () => {
  it("segments Chinese into words, plus character bigrams", () => {
    const terms = analyzeText("我们在北京大学学习自然语言处理");
    expect(terms).toContain("北京大学");
    expect(terms).toContain("大学");
    expect(terms).toContain("自然语言");
    expect(terms).not.toContain("，");
  });

  it("gives a traditional query the same terms as its simplified text", () => {
    expect(analyzeText("機器學習很有趣")).toEqual(analyzeText("机器学习很有趣"));
  });

  it("stems English words and drops stop words and punctuation", () => {
    expect(analyzeText("The Indexes were RUNNING, quickly!")).toEqual(["index", "run", "quickli"]);
  });

  it("keeps numbers and mixed Chinese/English terms", () => {
    expect(analyzeText("SQLite 支持 FTS5 全文检索")).toEqual(
      expect.arrayContaining(["sqlite", "fts5", "支持", "全文", "检索"]),
    );
  });

  it("splits digits from the Chinese text that follows them", () => {
    const terms = analyzeText("2015年黑豹队的防守");
    expect(terms[0]).toBe("2015");
    expect(terms).toEqual(expect.arrayContaining(["防守", "豹队"]));
  });

  it("returns only letter/digit terms, safe to store space-separated", () => {
    for (const term of analyzeText('C++ & "quotes" — 中文（全角）标点！ ｆｕｌｌ')) {
      expect(term).toMatch(/^[\p{L}\p{N}]+$/u);
    }
  });
});

describe("letter-spaced Chinese and exact phrases", () => {
  it("reads lone Han characters set apart by spaces as one word, as the unspaced word reads", () => {
    expect(analyzeText("总 则")).toEqual(analyzeText("总则"));
    expect(analyzeText("行 政 诉 讼 监 督")).toEqual(analyzeText("行政诉讼监督"));
    // Words of two or more characters between spaces stay apart.
    expect(analyzeText("第一章 总则")).toEqual([...analyzeText("第一章"), ...analyzeText("总则")]);
  });

  it("gives the compound tokens and quoted phrases of a query as term sequences", () => {
    expect(queryPhrases("what does ERR-4021 mean for 2.10.3?")).toEqual([
      ["err", "4021"],
      ["2", "10", "3"],
    ]);
    expect(queryPhrases("alice.smith@example.com")).toEqual([analyzeText("alice smith example com")]);
    expect(queryPhrases('"disk quota" exceeded')).toEqual([["disk", "quota"]]);
    expect(queryPhrases("plain words only")).toEqual([]);
  });

  it("gives a Chinese phrase, quoted or a word of three or more characters, as its character bigrams", () => {
    // Bigrams stand next to each other in a chunk's terms wherever the characters do (jieba's
    // words for the whole stretch come before them, so they would not).
    expect(queryPhrases('"第二十四条"')).toEqual([["第二", "二十", "十四", "四条"]]);
    expect(queryPhrases("“提请抗诉报告书”")).toEqual([["提请", "请抗", "抗诉", "诉报", "报告", "告书"]]);
    expect(queryPhrases("六个月内")).toEqual([["六个", "个月", "月内"]]);
    expect(queryPhrases("六個月內")).toEqual([["六个", "个月", "月内"]]);
    expect(queryPhrases("行 政 诉 讼")).toEqual([["行政", "政诉", "诉讼"]]);
    expect(queryPhrases("抗诉 第二十四条")).toEqual([["第二", "二十", "十四", "四条"]]);
    // A word of two characters is one term, like an English word: nothing to keep together.
    expect(queryPhrases("抗诉")).toEqual([]);
    expect(queryPhrases('"抗诉"')).toEqual([]);
    // Chinese beside Latin words or digits is not matched as written (its terms do not line up).
    expect(queryPhrases('"第24条"')).toEqual([]);
    // Nor are a question's clauses or Chinese spaced around a number: sentences, not words.
    expect(queryPhrases("在美国，60赫兹电力通常的涡轮转速是多少?")).toEqual([]);
    expect(queryPhrases("众所周知，南加州的社区很大，分布很广，还有什么其他特点？")).toEqual([]);
    expect(queryPhrases("谁赢得了第 49 届超级碗？")).toEqual([]);
  });
});

describe("single Chinese characters", () => {
  it("stores each Han run's last character as a run-end term, apart from the terms queries match", () => {
    const { terms, runEnds } = splitDocument(analyzeToDocument("人民检察院提出抗诉。第一章 总则 法"));
    expect(terms.split(" ")).toEqual(analyzeText("人民检察院提出抗诉。第一章 总则 法"));
    // 诉 ends a run and starts no term: its run-end term does. A lone 法 is a word of its own.
    expect(runEnds).toBe("诉0 章0 则0");
    expect(splitDocument(analyzeToDocument("plain English"))).toEqual({
      terms: "plain english",
      runEnds: "",
    });
  });

  it("reads a character set apart by spaces from Chinese words, or alone, as a character to find", () => {
    expect(queryCharacters("诉")).toEqual(["诉"]);
    expect(queryCharacters("訴")).toEqual(["诉"]);
    expect(queryCharacters("诉 审查")).toEqual(["诉"]);
    expect(queryCharacters("审查 “诉”？")).toEqual(["诉"]);
  });

  it("leaves characters in sentences, beside numbers or Latin words, and letter-spaced words as words", () => {
    expect(queryCharacters("提出抗诉的期限")).toEqual([]);
    expect(queryCharacters("诉,审查")).toEqual([]);
    expect(queryCharacters("2009 年 8 月")).toEqual([]);
    expect(queryCharacters("第 33 届超级碗")).toEqual([]);
    expect(queryCharacters("MA 和 PH 在哪里")).toEqual([]);
    expect(queryCharacters("总 则")).toEqual([]);
  });
});
