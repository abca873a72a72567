import { describe, expect, it } from "vitest";
import { StopSequences } from "./stop-sequences.js";

describe("stop sequences", () => {
  it("cuts the text before the first stop sequence, also when it spans chunks", () => {
    const stops = new StopSequences([" happy", "\n\n"]);
    expect(stops.push("little big")).toBe("little big");
    expect(stops.push(" hap")).toBe("");
    expect(stops.push("py red")).toBe("");
    expect(stops.stopped).toBe(true);
    expect(stops.push(" more")).toBe("");
  });

  it("releases held-back text that turned out not to be a stop sequence", () => {
    const stops = new StopSequences([" happy"]);
    expect(stops.push("big ha")).toBe("big");
    expect(stops.push("t")).toBe(" hat");
    expect(stops.push(" h")).toBe("");
    expect(stops.flush()).toBe(" h");
  });
});
