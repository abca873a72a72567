import { mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { AhoCorasick } from "./aho-corasick.js";
import {
  createSensitiveWordFilter,
  type SensitiveWordFilter,
  WordListUnreadableError,
} from "./sensitive-word-filter.js";

const filters: SensitiveWordFilter[] = [];
const make = (...args: Parameters<typeof createSensitiveWordFilter>) => {
  const filter = createSensitiveWordFilter(...args);
  filters.push(filter);
  return filter;
};
afterEach(() => {
  for (const filter of filters.splice(0)) filter.close();
});

describe("Aho-Corasick", () => {
  it("finds every occurrence of every pattern, overlapping ones included", () => {
    const automaton = new AhoCorasick(["he", "she", "his", "hers"]);
    const found = automaton.findAll("ushers").map((m) => `${m.pattern}@${m.start}-${m.end}`);
    expect(found.sort()).toEqual(["0@2-4", "1@1-4", "3@2-6"].sort());
  });
});

describe("sensitive-word filter", () => {
  it("sees through full width, case, traditional characters and separators inserted between characters", () => {
    const filter = make({
      lists: [{ id: "politics", action: "flag", words: ["法轮功", "badword"] }],
      reloadIntervalMs: 0,
    });
    for (const evasion of [
      "法 轮 功",
      "法-轮_功",
      "法\u200b轮\u200d功",
      "法輪功",
      "ＢＡＤＷＯＲＤ",
      "b.a.d.w.o.r.d",
      "B A D word",
    ]) {
      expect(filter.check(`前文 ${evasion} 后文`).flagged, evasion).toEqual(["politics"]);
    }
    expect(filter.check("法律和功能").flagged).toEqual([]);
  });

  it("does not hit a Latin word inside a longer word", () => {
    const filter = make({ lists: [{ id: "rude", action: "mask", words: ["ass"] }], reloadIntervalMs: 0 });
    expect(filter.check("a class on grass").hits).toEqual([]);
    expect(filter.check("you ass!").masked).toBe("you ***!");
  });

  it("applies each list's action: block, drop, mask and flag", () => {
    const filter = make({
      lists: [
        { id: "illegal", action: "block", words: ["制造炸药"] },
        { id: "spam", action: "drop", words: ["六合彩"] },
        { id: "abuse", action: "mask", words: ["傻逼", "idiot"] },
        { id: "watch", action: "flag", words: ["示威"] },
      ],
      reloadIntervalMs: 0,
    });
    expect(filter.check("如何制 造 炸 药").blocked).toBe(true);
    expect(filter.check("最新六合彩开奖").dropped).toBe(true);
    const masked = filter.check("你这个傻.逼, what an IDIOT");
    expect(masked.masked).toBe("你这个***, what an *****");
    expect(masked.blocked || masked.dropped).toBe(false);
    expect(filter.check("街头示威").flagged).toEqual(["watch"]);
    expect(filter.check("今天天气很好")).toMatchObject({
      hits: [],
      blocked: false,
      dropped: false,
      flagged: [],
      masked: "今天天气很好",
    });
  });

  it("lets a longer allowed word through that holds a listed one, and only inside it", () => {
    const filter = make({
      lists: [
        { id: "secrets", action: "block", words: ["机密"] },
        { id: "allowed", action: "allow", words: ["手机密码", "机密性"] },
      ],
      reloadIntervalMs: 0,
    });
    expect(filter.check("手机密码忘了怎么办")).toMatchObject({ hits: [], blocked: false });
    expect(filter.check("数据的机密性").blocked).toBe(false);
    const both = filter.check("手机密码和机密文件");
    expect(both.blocked).toBe(true);
    expect(both.hits.map((hit) => [hit.start, hit.end])).toEqual([[5, 7]]);
  });

  it("counts hits per list without handing out the matched text", () => {
    const counts: Array<[string, string, number]> = [];
    const filter = make({
      lists: [{ id: "abuse", action: "mask", words: ["idiot"] }],
      reloadIntervalMs: 0,
      onHits: (...args) => counts.push(args),
    });
    filter.check("idiot and idiot");
    expect(counts).toEqual([["abuse", "mask", 2]]);
  });

  it("reads word lists from files and reloads them when they change", async () => {
    const folder = mkdtempSync(join(tmpdir(), "hearth-words-"));
    try {
      const file = join(folder, "list.txt");
      writeFileSync(file, "# comment line\n赌博\n\n");
      const reloaded: string[] = [];
      const filter = make({
        lists: [{ id: "gambling", action: "drop", file }],
        reloadIntervalMs: 30,
        onReload: (id) => reloaded.push(id),
      });
      expect(filter.check("网上赌博").dropped).toBe(true);
      expect(filter.check("网上彩票").dropped).toBe(false);
      writeFileSync(file, "赌博\n彩票\n");
      // A rewrite within the file system's clock tick keeps the modification time: moved on.
      const later = new Date(Date.now() + 5_000);
      utimesSync(file, later, later);
      for (let i = 0; i < 250 && reloaded.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(filter.check("网上彩票").dropped).toBe(true);
      expect(filter.wordCounts).toEqual({ gambling: 2 });
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it("refuses to start with a list file that cannot be read, naming the list", () => {
    const attempt = () =>
      make({ lists: [{ id: "missing", action: "block", file: "/nonexistent/words.txt" }] });
    expect(attempt).toThrow(WordListUnreadableError);
    expect(attempt).toThrow(/"missing" \(\/nonexistent\/words\.txt\): ENOENT/);
    try {
      attempt();
    } catch (error) {
      expect(error).toMatchObject({ code: "WORD_LIST_UNREADABLE", listId: "missing" });
    }
  });

  it("refuses to start with a list file that is not UTF-8 (a GBK file), naming the file and the fix", () => {
    const folder = mkdtempSync(join(tmpdir(), "hearth-words-"));
    try {
      const file = join(folder, "block.txt");
      // What Chinese Windows Notepad saves as "ANSI".
      writeFileSync(file, Buffer.from([0xd0, 0xb9, 0xc3, 0xdc, 0x0a])); // 泄密 in GBK
      const attempt = () => make({ lists: [{ id: "illegal", action: "block", file }] });
      expect(attempt).toThrow(WordListUnreadableError);
      expect(attempt).toThrow(`word list "illegal" (${file}): not UTF-8 text`);
      expect(attempt).toThrow(/save it as UTF-8/);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('reads a UTF-16 file with a byte order mark (Notepad\'s "Unicode") and a UTF-8 one with a BOM', () => {
    const folder = mkdtempSync(join(tmpdir(), "hearth-words-"));
    try {
      const little = join(folder, "le.txt");
      const big = join(folder, "be.txt");
      const bom = join(folder, "bom.txt");
      writeFileSync(little, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from("泄密\r\n", "utf16le")]));
      writeFileSync(
        big,
        Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from("机密\n", "utf16le").swap16()]),
      );
      writeFileSync(bom, "\uFEFF绝密\n");
      const filter = make({
        lists: [
          { id: "le", action: "block", file: little },
          { id: "be", action: "block", file: big },
          { id: "bom", action: "block", file: bom },
        ],
        reloadIntervalMs: 0,
      });
      expect(filter.check("这是泄密行为").hits.map((hit) => hit.list)).toEqual(["le"]);
      expect(filter.check("机密文件").hits.map((hit) => hit.list)).toEqual(["be"]);
      expect(filter.check("绝密文件").hits.map((hit) => hit.list)).toEqual(["bom"]);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it("keeps a list's previous words when its file is rewritten in another encoding, saying why", async () => {
    const folder = mkdtempSync(join(tmpdir(), "hearth-words-"));
    try {
      const file = join(folder, "block.txt");
      writeFileSync(file, "泄密\n");
      const failures: Array<[string, string]> = [];
      const filter = make({
        lists: [{ id: "illegal", action: "block", file }],
        reloadIntervalMs: 30,
        onReloadError: (id, error) => failures.push([id, error.message]),
      });
      expect(filter.check("这是泄密行为").blocked).toBe(true);
      writeFileSync(file, Buffer.from("d0b9c3dca3acbbfac3dc0a", "hex")); // 泄密，机密 in GBK
      // A rewrite within the file system's clock tick keeps the modification time: moved on.
      const later = new Date(Date.now() + 5_000);
      utimesSync(file, later, later);
      for (let i = 0; i < 250 && failures.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(failures[0]).toEqual(["illegal", expect.stringContaining(`(${file}): not UTF-8 text`)]);
      expect(filter.check("这是泄密行为").blocked).toBe(true);
      expect(filter.wordCounts).toEqual({ illegal: 1 });
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it("replaces an inline list's words at run time", () => {
    const filter = make({
      lists: [
        { id: "admin", action: "block", words: ["forbidden"] },
        { id: "abuse", action: "mask", words: ["idiot"] },
      ],
      reloadIntervalMs: 0,
    });
    expect(filter.check("a forbidden thing").blocked).toBe(true);
    filter.setWords("admin", ["secret plan"]);
    expect(filter.check("a forbidden thing").blocked).toBe(false);
    expect(filter.check("the SECRET-PLAN").blocked).toBe(true);
    expect(filter.check("you idiot").masked).toBe("you *****");
    expect(filter.wordCounts).toEqual({ admin: 1, abuse: 1 });
    expect(filter.longestWord).toBe("secretplan".length);
    expect(() => filter.setWords("nope", [])).toThrow(/nope/);
  });

  it("masks the words of the lists whose actions the caller names", () => {
    const filter = make({
      lists: [
        { id: "illegal", action: "block", words: ["炸药"] },
        { id: "watch", action: "flag", words: ["示威"] },
      ],
      reloadIntervalMs: 0,
    });
    expect(filter.check("炸药和示威").masked).toBe("炸药和示威");
    const verdict = filter.check("炸药和示威", { maskActions: ["block", "drop", "mask"] });
    expect(verdict.masked).toBe("**和示威");
    expect(verdict.blocked).toBe(true);
    expect(verdict.flagged).toEqual(["watch"]);
  });
});
