import { describe, expect, it } from "vitest";
import { csvCell, csvFile } from "./csv.js";

describe("csvCell", () => {
  it("keeps text that a spreadsheet would run as a formula as text", () => {
    for (const text of ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"])
      expect(csvCell(text), JSON.stringify(text)).toBe(`"'${text}"`);
    expect(csvCell('=HYPERLINK("http://evil.example","x")')).toBe(
      `"'=HYPERLINK(""http://evil.example"",""x"")"`,
    );
  });

  it("writes other text, numbers and nothing as they are, quoted", () => {
    expect(csvCell("laptop script")).toBe('"laptop script"');
    expect(csvCell("a=b")).toBe('"a=b"');
    expect(csvCell(-3)).toBe('"-3"');
    expect(csvCell(null)).toBe('""');
  });
});

describe("csvFile", () => {
  it("starts with a byte order mark, then the header and a line of cells per row", () => {
    expect(csvFile("user,requests", [["张三", 2]])).toBe('\uFEFFuser,requests\n"张三","2"\n');
  });
});
