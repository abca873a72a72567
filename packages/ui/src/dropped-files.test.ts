import { describe, expect, it } from "vitest";
import { chosenFolderFiles, firstOfEachName } from "./dropped-files.js";

describe("files given to a knowledge base at once", () => {
  it("keeps the first file of each name and says which names came again", () => {
    const files = [{ name: "README.md" }, { name: "a.pdf" }, { name: "README.md" }, { name: "README.md" }];
    expect(firstOfEachName(files)).toEqual({
      files: [{ name: "README.md" }, { name: "a.pdf" }],
      repeated: ["README.md"],
    });
    expect(firstOfEachName([{ name: "规章.pdf" }, { name: "规章.PDF" }]).repeated).toEqual([]);
  });

  it("leaves out a chosen folder's hidden files and whatever lies in its hidden folders", () => {
    const file = (path: string) =>
      Object.assign(new File(["x"], path.split("/").at(-1)!), { webkitRelativePath: path }) as File;
    const chosen = chosenFolderFiles([
      file("handbook/leave.md"),
      file("handbook/.DS_Store"),
      file("handbook/.git/config"),
      file("handbook/policies/travel.pdf"),
    ]);
    expect(chosen.map((f) => f.webkitRelativePath)).toEqual([
      "handbook/leave.md",
      "handbook/policies/travel.pdf",
    ]);
  });
});
