import { foldText } from "@hearth/sensitive-words";
import { describe, expect, it } from "vitest";
import {
  analyzeText,
  analyzeToDocument,
  isJunctionTerm,
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
    // A phrase whose Chinese is broken by punctuation gives no bigram across the break: left out.
    expect(queryPhrases('"六个月内，提请抗诉"')).toEqual([]);
    // Nor are a question's clauses or Chinese spaced around a number: sentences, not words.
    expect(queryPhrases("在美国，60赫兹电力通常的涡轮转速是多少?")).toEqual([]);
    expect(queryPhrases("众所周知，南加州的社区很大，分布很广，还有什么其他特点？")).toEqual([]);
    expect(queryPhrases("谁赢得了第 49 届超级碗？")).toEqual([]);
  });
});

describe("phrases mixing Chinese with numbers or Latin words", () => {
  it("stores a text's terms in text order, junction terms where Chinese meets a number or a word, then jieba's words", () => {
    const { terms } = splitDocument(analyzeToDocument("依据第24条规定，支持5G网络"));
    expect(terms.split(" ")).toEqual([
      ...["依据", "据第", "1第", "24", "1条", "条规", "规定", "支持", "1持", "5g", "1网", "网络"],
      ...["依据", "第", "条", "规定", "支持", "网络"],
    ]);
    // Besides the junction terms, the terms a query matches, as analyzeText gives them.
    expect(
      terms
        .split(" ")
        .filter((term) => !isJunctionTerm(term))
        .sort(),
    ).toEqual(analyzeText("依据第24条规定，支持5G网络").sort());
  });

  it("gives such a phrase, quoted or a word standing alone, as the terms it stands as in a chunk", () => {
    expect(queryPhrases('"第24条"')).toEqual([["1第", "24", "1条"]]);
    expect(queryPhrases("“第24条”")).toEqual([["1第", "24", "1条"]]);
    expect(queryPhrases("依据 第24条")).toEqual([["1第", "24", "1条"]]);
    expect(queryPhrases('"第 24 条"')).toEqual([["1第", "24", "1条"]]);
    expect(queryPhrases('"5G网络"')).toEqual([["5g", "1网", "网络"]]);
    expect(queryPhrases('"附件3"')).toEqual([["附件", "1件", "3"]]);
    // A character between two numbers or words meets both: a junction term for each side.
    expect(queryPhrases('"GB 50016 第3条"')).toEqual([["gb", "50016", "1第", "1第", "3", "1条"]]);
    // Chinese spaced around a number in a sentence is not a word of its own.
    expect(queryPhrases("谁赢得了第 49 届超级碗？")).toEqual([]);
    expect(queryPhrases("第24条 2015")).toEqual([]);
    // The phrase's terms line up in every chunk holding it, whatever surrounds it.
    for (const text of ["依据第24条规定", "第24条", "《条例》第 24 条：", "参见第24条。"]) {
      expect(splitDocument(analyzeToDocument(text)).terms, text).toContain("1第 24 1条");
    }
    expect(splitDocument(analyzeToDocument("第3条 …… 24 …… 条款")).terms).not.toContain("1第 24 1条");
  });
});

describe("single Chinese characters", () => {
  it("stores each Han run's last character as a run-end term, apart from the terms queries match", () => {
    const { terms, runEnds } = splitDocument(analyzeToDocument("人民检察院提出抗诉。第一章 总则 法"));
    expect(terms.split(" ").sort()).toEqual(analyzeText("人民检察院提出抗诉。第一章 总则 法").sort());
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
