import { describe, expect, it } from "vitest";
import { humanNumber } from "./model-details.js";

describe("humanNumber: a model's parameter_size as Ollama writes it (format.HumanNumber)", () => {
  it("writes billions with one decimal, millions with two, unless whole, and thousands whole", () => {
    // Ollama's own cases (format/format_test.go), then sizes of real models.
    const cases: Array<[number, string]> = [
      [0, "0"],
      [1_000_000, "1M"],
      [125_000_000, "125M"],
      [500_500_000, "500.50M"],
      [500_550_000, "500.55M"],
      [1_000_000_000, "1B"],
      [2_800_000_000, "2.8B"],
      [2_850_000_000, "2.9B"],
      [1_000_000_000_000, "1000B"],
      [494_032_768, "494.03M"],
      [7_615_616_512, "7.6B"],
      [292_800, "293K"],
      [999, "999"],
    ];
    expect(cases.map(([count]) => [count, humanNumber(count)])).toEqual(cases);
  });

  it("rounds a count exactly half-way to even, as Go does, where toFixed would round it up", () => {
    expect([2_500, 3_500, 1_125_000, 1_250_000_000].map(humanNumber)).toEqual(["2K", "4K", "1.12M", "1.2B"]);
  });
});
