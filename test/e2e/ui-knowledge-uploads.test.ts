import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Dialog } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeKnowledge } from "../../packages/web/test/support/fake-knowledge-search.js";
import { signIn } from "../../packages/web/test/support/web-client.js";
import { type Browser, hasChromium, holdRequests, screenshot, uncovered } from "../support/browser.js";
import { startUiStand, type UiStand } from "../support/ui-stand.js";

/**
 * The knowledge page's uploads in a real Chromium on the built UI: a file still being sent goes on
 * while another page of the app is shown and is there again on coming back; leaving the tab asks
 * first while one is; and a document still being ingested can be cancelled from any page load (it
 * then reads Cancelled, not as a failure), also one whose job the page never started (a folder's
 * scan), which asks first for its others. A
 * document once indexed is found by the page's retrieval test, but not while it is switched off for
 * answers; its passages as indexed are listed, and found by a text; the base's id, which the API and
 * Dify take, is shown and copied; each passage shows its relevance, and a higher minimum relevance
 * tried in the test leaves the weaker out. A folder is uploaded and files dropped; a web page is
 * added by its address; a base's settings are changed, its minimum relevance and rerank model among
 * them, and the retrieval test says which model reranked its passages, or why none did; a refused
 * change is said in the settings form, under the field it is about. On a phone the documents are
 * cards, nothing lies over a status, and the passages open. A
 * file larger than the knowledge service takes is refused before it is sent, naming the limit.
 * An assistant made on the Assistants page with that base starts a new chat from the model picker,
 * its settings filled in, and its answer cites the base; deleted (asked first), its chat stays as it was.
 */
/** How long a step waits for the page (a loaded machine answers in seconds, not at once). */
const WAIT = { timeout: 10_000 };

describe.skipIf(!hasChromium)("knowledge uploads in the browser", () => {
  let stand: UiStand;
  let services: FakeKnowledge;
  let desk: Browser;

  beforeAll(async () => {
    stand = await startUiStand({
      model: {
        models: ["tiny-story"],
        embeddingModels: ["bge-m3:latest"],
        rerankModels: ["bge-reranker-v2-m3:latest"],
      },
      knowledgeAndSearch: true,
    });
    services = stand.services!;
    desk = await stand.signedIn("alice", { locale: "en-US" });
  });
  afterAll(() => stand?.close());

  it("keeps sending a file while another page is shown, asks before the tab is left meanwhile, and cancels its import after a reload", async () => {
    const { page } = desk;
    services.holdIngestion = true;
    await page.getByRole("link", { name: "Knowledge" }).click();
    // None yet: the page says how to start, until there is one.
    const noneYet = page.getByText("No knowledge bases yet. Create one, add documents or web pages to it");
    await noneYet.waitFor();
    await page.getByLabel("New knowledge base").fill("manuals");
    await page.getByRole("button", { name: "Create" }).click();
    await page.getByRole("heading", { name: "manuals" }).waitFor();
    expect(await noneYet.count()).toBe(0);
    // The upload is held on its way until released: the file is still being sent meanwhile.
    const release = await holdRequests(page, "**/api/knowledge-bases/*/documents");
    await page
      .locator('input[type="file"]:not([webkitdirectory])')
      .setInputFiles({ name: "slow.txt", mimeType: "text/plain", buffer: Buffer.from("A slow manual.") });
    const upload = page.locator("ul.uploads li", { hasText: "slow.txt" });
    await expect.poll(() => upload.getAttribute("data-status")).toBe("uploading");
    await page.getByText("Uploads go on while you use other pages of Hearth.").waitFor();

    // Another page of the app, and back: the file is still being sent, shown as it was.
    await page.getByRole("link", { name: "Settings" }).click();
    await page.getByRole("heading", { name: "Settings" }).waitFor();
    await page.getByRole("link", { name: "Knowledge" }).click();
    await page.getByRole("button", { name: "manuals", exact: true }).click();
    await expect.poll(() => upload.getAttribute("data-status")).toBe("uploading");

    // Leaving the tab asks first; staying keeps the upload going.
    const asked = new Promise<Dialog>((resolve) => page.once("dialog", resolve));
    await page.close({ runBeforeUnload: true });
    const dialog = await asked;
    expect(dialog.type()).toBe("beforeunload");
    await dialog.dismiss();
    expect(page.isClosed()).toBe(false);

    release();
    await expect.poll(() => upload.getAttribute("data-status")).toBe("done");
    await page.unroute("**/api/knowledge-bases/*/documents");
    const row = page.locator("tr", { has: page.getByRole("link", { name: "slow.txt" }) });
    await expect.poll(() => row.getAttribute("data-status")).toBe("queued");

    // Nothing is being sent any more: the tab reloads without asking, and the page that loads,
    // which never started the upload, still offers to cancel its import.
    await page.reload();
    await page.getByRole("link", { name: "Knowledge" }).waitFor();
    await page.getByRole("button", { name: "manuals", exact: true }).click();
    expect(await page.locator("ul.uploads").count()).toBe(0);
    const cancel = page.getByRole("button", { name: "Cancel import: slow.txt" });
    await cancel.click();
    // The service lists it failed with JOB_CANCELLED: it reads Cancelled, not in the error colour,
    // saying to upload it again.
    await expect.poll(() => row.getAttribute("data-status")).toBe("failed");
    const status = row.locator("td").nth(1);
    expect(await status.textContent()).toBe(
      "Cancelled The import was cancelled before the document was indexed; upload it again.",
    );
    const errorColour = await page.evaluate(() => {
      const probe = document.body.appendChild(document.createElement("span"));
      probe.style.color = "var(--error)";
      const colour = getComputedStyle(probe).color;
      probe.remove();
      return colour;
    });
    const colours = await status
      .locator("span")
      .evaluateAll((spans) => spans.map((span) => getComputedStyle(span).color));
    expect(colours).not.toContain(errorColour);
    await expect.poll(() => cancel.count()).toBe(0);
    services.holdIngestion = false;
  });

  it("cancels a job it did not start, asking first when it has other documents still to do", async () => {
    const { page } = desk;
    const base = (
      (await (await page.request.get(`${stand.url}/api/knowledge-bases`)).json()) as {
        knowledgeBases: Array<{ id: string; name: string }>;
      }
    ).knowledgeBases.find((b) => b.name === "manuals")!;
    // A folder's scan started on the knowledge service itself: two documents under one job.
    services.ingestElsewhere(base.id, { "scan-1.txt": "First.", "scan-2.txt": "Second." });
    await page.reload();
    await page.getByRole("button", { name: "manuals", exact: true }).click();
    const rows = ["scan-1.txt", "scan-2.txt"].map((name) =>
      page.locator("tr", { has: page.getByRole("link", { name }) }),
    );
    const questions: string[] = [];
    const answer = (accept: boolean) =>
      page.once("dialog", (dialog) => {
        questions.push(dialog.message());
        void (accept ? dialog.accept() : dialog.dismiss());
      });
    answer(false);
    await page.getByRole("button", { name: "Cancel import: scan-1.txt" }).click();
    await expect.poll(() => questions.length).toBe(1);
    expect(questions[0]).toContain("Cancel the import of 2 documents?");
    for (const row of rows) expect(await row.getAttribute("data-status")).toBe("queued");

    answer(true);
    await page.getByRole("button", { name: "Cancel import: scan-1.txt" }).click();
    for (const row of rows) await expect.poll(() => row.getAttribute("data-status")).toBe("failed");
    expect(await page.getByRole("button", { name: /^Cancel import/ }).count()).toBe(0);
  });

  it("finds an uploaded document's passage in a retrieval test, a new question replacing one under way, and shows it in its document; not while it is switched off; each with its relevance, those below a minimum relevance tried there left out", async () => {
    const { page } = desk;
    await page.getByRole("link", { name: "Knowledge" }).click();
    await page.getByLabel("New knowledge base").fill("handbook");
    await page.getByRole("button", { name: "Create" }).click();
    await page.getByRole("heading", { name: "handbook" }).waitFor();
    // Its id, for the API and Dify, with a button that copies it.
    await desk.context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: stand.url });
    const shown = page.getByText("ID for the API and Dify:");
    const id = (await shown.locator("code").textContent()) ?? "";
    await shown.getByRole("button", { name: "Copy the knowledge base ID" }).click();
    await shown.getByRole("button", { name: "Copied" }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(id);
    await page.locator('input[type="file"]:not([webkitdirectory])').setInputFiles({
      name: "leave-policy.txt",
      mimeType: "text/plain",
      buffer: Buffer.from("The office opens at nine.\n\nEvery employee gets twenty vacation days a year."),
    });
    const row = page.locator("tr", { has: page.getByRole("link", { name: "leave-policy.txt" }) });
    await expect.poll(() => row.getAttribute("data-status")).toBe("indexed");

    // The first question is held on its way; a second one, asked meanwhile, replaces it.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let first: Promise<void> | undefined;
    await page.route("**/api/knowledge-bases/*/query", (route) => {
      if (first) return route.continue();
      first = held.then(() => route.continue().catch(() => {}));
      return first;
    });
    const question = page.getByLabel("Question");
    await question.fill("When does the office open?");
    await question.press("Enter");
    await page.getByRole("status").filter({ hasText: "Searching…" }).waitFor();
    const abandoned = page.waitForEvent("requestfailed", (request) => request.url().endsWith("/query"));
    await question.fill("How many vacation days?");
    await question.press("Enter");
    expect((await abandoned).postDataJSON()).toEqual({
      query: "When does the office open?",
      topK: 10,
      // The base has no embedding model: the test starts on full text.
      mode: "lexical",
      minRelevance: 0,
    });
    expect((await abandoned).url()).toContain(`/api/knowledge-bases/${id}/query`);
    const passages = page.getByRole("list", { name: "Passages found" }).getByRole("listitem");
    await expect.poll(() => passages.count()).toBe(1);
    release();
    await first;
    await page.unroute("**/api/knowledge-bases/*/query");
    expect(await passages.count()).toBe(1);
    const passage = passages.first();
    expect(await passage.getByRole("link").textContent()).toBe("leave-policy.txt");
    expect(await passage.textContent()).toContain("Every employee gets twenty vacation days a year.");
    expect(await passage.locator("mark").allTextContents()).toEqual(["vacation", "days"]);
    // The base has no embedding model: vectors and hybrid are offered disabled, saying why.
    await page.getByText("Vectors and hybrid search need an embedding model").waitFor();

    await passage.getByRole("link").click();
    const source = page.getByRole("dialog", { name: "leave-policy.txt" });
    expect(await source.locator("mark").textContent()).toBe(
      "Every employee gets twenty vacation days a year.",
    );
    await source.getByRole("button", { name: "Close" }).click();

    // The document's passages as indexed, opened from its Passages figure, in order; a find keeps
    // those holding a text, marked.
    await row.getByRole("button", { name: "Show the 2 passages of leave-policy.txt" }).click();
    const chunks = page.getByRole("dialog", { name: "Passages of leave-policy.txt" });
    const listed = chunks.getByRole("list", { name: "Passages of leave-policy.txt" }).getByRole("listitem");
    await expect.poll(() => listed.count()).toBe(2);
    expect(await listed.allTextContents()).toEqual([
      "#125 charactersThe office opens at nine.",
      "#248 charactersEvery employee gets twenty vacation days a year.",
    ]);
    await chunks.getByText("2 passages, in document order").waitFor();
    await chunks.getByLabel("Find in passages").fill("VACATION");
    await chunks.getByText("1 of 2 passages hold it").waitFor();
    expect(await listed.count()).toBe(1);
    expect(await listed.locator("mark").allTextContents()).toEqual(["vacation"]);
    // Escape in the find box closes the dialog (a search field's Escape would only empty it).
    await chunks.getByLabel("Find in passages").press("Escape");
    await chunks.waitFor({ state: "detached" });

    await question.fill("parking permits");
    await question.press("Enter");
    const nothing = page.getByText("No passage of this knowledge base matches the question.");
    await nothing.waitFor();
    expect(await passages.count()).toBe(0);

    // Switched off for answers, the document is kept but found no more, its row muted and marked
    // Off; switched on again, it is found again.
    const inAnswers = row.getByRole("checkbox", { name: "Use leave-policy.txt in answers" });
    expect(await inAnswers.isChecked()).toBe(true);
    const switched = (enabled: boolean) =>
      page.waitForResponse(
        (response) =>
          response.request().method() === "PATCH" &&
          JSON.stringify(response.request().postDataJSON()) === JSON.stringify({ enabled }),
      );
    let answered = switched(false);
    await inAnswers.uncheck();
    expect((await answered).status()).toBe(200);
    expect(await row.getAttribute("class")).toBe("document-off");
    await row.getByText("Off", { exact: true }).waitFor();
    await question.fill("How many vacation days?");
    await question.press("Enter");
    await nothing.waitFor();
    expect(await passages.count()).toBe(0);

    answered = switched(true);
    await inAnswers.check();
    expect((await answered).status()).toBe(200);
    expect(await row.getAttribute("class")).toBeNull();
    expect(await row.getByText("Off", { exact: true }).count()).toBe(0);
    await question.press("Enter");
    await expect.poll(() => passages.count()).toBe(1);
    expect(await passages.first().textContent()).toContain(
      "Every employee gets twenty vacation days a year.",
    );

    // Each passage's badge is its relevance (0 to 1); its score, on its search's own scale, is the
    // badge's title. The stand-in's relevance is the share of the question's words a passage holds.
    await question.fill("office vacation days");
    await question.press("Enter");
    await expect.poll(() => passages.count()).toBe(2);
    const badges = passages.locator(".badge");
    expect(await badges.allTextContents()).toEqual(["Relevance 0.67", "Relevance 0.33"]);
    expect(await badges.first().getAttribute("title")).toBe(
      "Score 2, on the scale of the search that ranked it",
    );
    // A higher minimum relevance, tried here before any is saved, leaves the weaker passage out.
    const least = page.getByRole("region", { name: "Retrieval test" }).getByLabel("Minimum relevance");
    expect(await least.inputValue()).toBe("0");
    await least.fill("0.5");
    const asked = page.waitForRequest((request) => request.url().endsWith("/query"));
    await question.press("Enter");
    expect((await asked).postDataJSON()).toEqual({
      query: "office vacation days",
      topK: 10,
      mode: "lexical",
      minRelevance: 0.5,
    });
    await expect.poll(() => passages.count()).toBe(1);
    expect(await badges.allTextContents()).toEqual(["Relevance 0.67"]);
    expect(await passages.first().textContent()).toContain("twenty vacation days");
    await least.fill("0.7");
    await question.press("Enter");
    await page
      .getByText("No passage of this knowledge base that matches the question is as relevant as 0.70.")
      .waitFor();
    expect(await passages.count()).toBe(0);

    // The questions answered are offered again (not the one a newer question replaced), newest
    // first, each once: one asks it again with a click; they are this browser's, kept over a
    // reload, until cleared.
    const recent = page.locator(".retrieval-recent");
    const offered = () => recent.getByRole("button").allTextContents();
    expect(await offered()).toEqual([
      "office vacation days",
      "How many vacation days?",
      "parking permits",
      "Clear",
    ]);
    const again = page.waitForRequest((request) => request.url().endsWith("/query"));
    await recent.getByRole("button", { name: "parking permits" }).click();
    expect((await again).postDataJSON()).toMatchObject({ query: "parking permits" });
    expect(await question.inputValue()).toBe("parking permits");
    await expect
      .poll(offered)
      .toEqual(["parking permits", "office vacation days", "How many vacation days?", "Clear"]);
    await page.reload();
    await page.getByRole("button", { name: "handbook", exact: true }).click();
    await expect.poll(offered).toContain("parking permits");
    await recent.getByRole("button", { name: "Clear" }).click();
    await recent.waitFor({ state: "detached" });
  });

  it("uploads a chosen folder's files and dropped files, leaving out hidden ones and saying which names came twice", async () => {
    const { page } = desk;
    const folder = mkdtempSync(join(tmpdir(), "hearth-folder-upload-"));
    mkdirSync(join(folder, "policies"));
    mkdirSync(join(folder, ".git"));
    writeFileSync(join(folder, "leave.md"), "Twenty vacation days a year.");
    writeFileSync(join(folder, ".DS_Store"), "finder");
    writeFileSync(join(folder, ".git", "config"), "[core]");
    writeFileSync(join(folder, "policies", "leave.md"), "An older leave policy.");
    writeFileSync(join(folder, "policies", "travel.md"), "Book trains, not planes.");
    await page.getByRole("link", { name: "Knowledge" }).click();
    await page.getByLabel("New knowledge base").fill("folder");
    await page.getByRole("button", { name: "Create" }).click();
    await page.getByRole("heading", { name: "folder" }).waitFor();
    await page.getByLabel("Upload a folder").setInputFiles(folder);
    await page
      .getByText(
        "Several files are named leave.md: only the first of each was uploaded, since a document is known by its name in a knowledge base. Rename the others to upload them too.",
      )
      .waitFor();
    const names = () => page.locator("td.document-name a").allTextContents();
    await expect.poll(async () => (await names()).sort()).toEqual(["leave.md", "travel.md"]);

    // Dropped on the upload area (a file manager's drag), a file is uploaded as one chosen is.
    const dataTransfer = await page.evaluateHandle(() => {
      const data = new DataTransfer();
      data.items.add(new File(["Dropped here."], "dropped.txt", { type: "text/plain" }));
      return data;
    });
    await page.locator(".upload-drop").dispatchEvent("dragover", { dataTransfer });
    expect(await page.locator(".upload-drop").getAttribute("class")).toBe("upload-drop dragging");
    await page.locator(".upload-drop").dispatchEvent("drop", { dataTransfer });
    await expect.poll(async () => (await names()).sort()).toEqual(["dropped.txt", "leave.md", "travel.md"]);
    expect(await page.locator(".upload-drop").getAttribute("class")).toBe("upload-drop");
    rmSync(folder, { recursive: true, force: true });
  });

  it("adds a web page by its address, which is then found like an upload; a page that cannot be fetched says so", async () => {
    const { page } = desk;
    services.webPages.set(
      "https://intranet.example/handbook/parking",
      "Parking permits are issued by the front desk every Monday.",
    );
    await page.getByRole("link", { name: "Knowledge" }).click();
    await page.getByLabel("New knowledge base").fill("intranet");
    await page.getByRole("button", { name: "Create" }).click();
    await page.getByRole("heading", { name: "intranet" }).waitFor();
    const address = page.getByLabel("Add a web page by its address");
    await address.fill("https://intranet.example/handbook/parking");
    const sent = page.waitForRequest((request) => request.url().endsWith("/documents/from-url"));
    await address.press("Enter");
    expect((await sent).postDataJSON()).toEqual({ url: "https://intranet.example/handbook/parking" });
    await page
      .getByText(
        "Adding https://intranet.example/handbook/parking: it is fetched and indexed like an upload.",
      )
      .waitFor();
    expect(await address.inputValue()).toBe("");
    const row = page.locator("tr", {
      has: page.getByRole("link", { name: "intranet.example/handbook/parking" }),
    });
    await expect.poll(() => row.getAttribute("data-status")).toBe("indexed");
    await page.getByLabel("Question").fill("Who issues parking permits?");
    await page.getByLabel("Question").press("Enter");
    const passages = page.getByRole("list", { name: "Passages found" }).getByRole("listitem");
    await expect.poll(() => passages.count()).toBe(1);
    expect(await passages.first().textContent()).toContain("issued by the front desk");

    await address.fill("https://intranet.example/gone");
    await page.getByRole("button", { name: "Add page" }).click();
    const failed = page.locator("tr", { has: page.getByRole("link", { name: "intranet.example/gone" }) });
    await expect.poll(() => failed.getAttribute("data-status")).toBe("failed");
    // Why, in the service's words: which page, and what went wrong.
    await failed
      .getByText(
        "The document's URL could not be fetched. (https://intranet.example/gone could not be fetched: connection refused)",
      )
      .waitFor();
  });

  it("changes a base's name, description, embedding model, passage size, minimum relevance and rerank model in its settings, asking before its documents are indexed again; the retrieval test reranks with it", async () => {
    const { page } = desk;
    await page.getByRole("link", { name: "Knowledge" }).click();
    await page.getByLabel("New knowledge base").fill("settings");
    await page.getByRole("button", { name: "Create" }).click();
    await page.getByRole("heading", { name: "settings" }).waitFor();
    await page.locator('input[type="file"]:not([webkitdirectory])').setInputFiles({
      name: "a.txt",
      mimeType: "text/plain",
      buffer: Buffer.from("Alpha."),
    });
    await expect
      .poll(() =>
        page.locator("tr", { has: page.getByRole("link", { name: "a.txt" }) }).getAttribute("data-status"),
      )
      .toBe("indexed");
    await page.getByText("Searched by words only (no embedding model)").waitFor();

    await page.getByText("Knowledge base settings", { exact: true }).click();
    const form = page.getByRole("form", { name: "Knowledge base settings" });
    await form.getByLabel("Name").fill("settings renamed");
    await form.getByLabel("Description").fill("What the team decided.");
    // Embedding models first, the chat models apart after them, labelled as maybe not embedding.
    const embeddingModel = form.getByLabel("Embedding model");
    expect(
      await embeddingModel
        .locator("optgroup")
        .evaluateAll((groups) =>
          groups.map((group) => [
            group.getAttribute("label"),
            ...[...group.querySelectorAll("option")].map((option) => option.value),
          ]),
        ),
    ).toEqual([
      ["Embedding models", "bge-m3:latest"],
      ["Other models – may not support embeddings", "tiny-story"],
    ]);
    await embeddingModel.selectOption("bge-m3:latest");
    await form.getByLabel("Passage size (tokens)").fill("256");
    await form.getByLabel("Overlap (tokens)").fill("32");
    await form.getByLabel("Minimum relevance").fill("0.45");
    // Declined, nothing is sent.
    const asked: string[] = [];
    const decline = (dialog: Dialog) => {
      asked.push(dialog.message());
      void dialog.dismiss();
    };
    page.once("dialog", decline);
    const bodies = services.knowledgeBaseBodies.length;
    await form.getByRole("button", { name: "Save settings" }).click();
    await expect.poll(() => asked.length).toBe(1);
    expect(asked[0]).toBe(
      "A new embedding model or passage size indexes all 1 documents again. They stay searchable meanwhile. Save?",
    );
    expect(services.knowledgeBaseBodies.length).toBe(bodies);

    page.once("dialog", (dialog) => void dialog.accept());
    await form.getByRole("button", { name: "Save settings" }).click();
    await page
      .getByText(
        "Settings saved: its documents are being indexed again with them, and stay searchable meanwhile.",
      )
      .waitFor();
    expect(services.knowledgeBaseBodies.filter((b) => b.method === "PATCH").at(-1)?.body).toEqual({
      name: "settings renamed",
      description: "What the team decided.",
      embeddingModel: "bge-m3:latest",
      chunking: { maxTokens: 256, overlapTokens: 32 },
      minRelevance: 0.45,
    });
    // The retrieval test starts from the minimum relevance saved (once the base is read again).
    await expect
      .poll(() =>
        page.getByRole("region", { name: "Retrieval test" }).getByLabel("Minimum relevance").inputValue(),
      )
      .toBe("0.45");
    await page.getByRole("heading", { name: "settings renamed" }).waitFor();
    await page.locator(".knowledge-description", { hasText: "What the team decided." }).waitFor();
    await page.getByText("Searched by words and meaning (embedding model bge-m3:latest)").waitFor();

    // Saved again as it is: nothing is sent; the model taken off again is full text only.
    await page
      .getByRole("form", { name: "Knowledge base settings" })
      .getByRole("button", { name: "Save settings" })
      .click();
    await page.getByText("Nothing was changed.").waitFor();
    page.once("dialog", (dialog) => void dialog.accept());
    await page
      .getByRole("form", { name: "Knowledge base settings" })
      .getByLabel("Embedding model")
      .selectOption("");
    await page
      .getByRole("form", { name: "Knowledge base settings" })
      .getByRole("button", { name: "Save settings" })
      .click();
    await page.getByText("Searched by words only (no embedding model)").waitFor();
    expect(services.knowledgeBaseBodies.filter((b) => b.method === "PATCH").at(-1)?.body).toEqual({
      embeddingModel: null,
    });

    // A rerank model, the rerankers first, then the other models the user may use (an
    // OpenAI-compatible server's reranker is listed as any), is set without asking: nothing is
    // indexed again.
    const rerankModel = page
      .getByRole("form", { name: "Knowledge base settings" })
      .getByLabel("Rerank model");
    expect(
      await rerankModel.locator("option").evaluateAll((options) => options.map((o) => o.textContent)),
    ).toEqual(["None: passages in search order", "bge-reranker-v2-m3:latest", "tiny-story"]);
    expect(
      await rerankModel
        .locator("optgroup")
        .evaluateAll((groups) => groups.map((g) => g.getAttribute("label"))),
    ).toEqual(["Rerank models", "Other models – may not support reranking"]);
    // One not listed as a reranker is said to be so as soon as it is chosen, before Save.
    await rerankModel.selectOption("tiny-story");
    const mayNot = page.locator(".model-purpose-warning");
    await expect.poll(() => mayNot.textContent()).toMatch(/^This model is not listed as a reranker/);
    await rerankModel.selectOption("bge-reranker-v2-m3:latest");
    expect(await mayNot.count()).toBe(0);
    await page
      .getByRole("form", { name: "Knowledge base settings" })
      .getByRole("button", { name: "Save settings" })
      .click();
    await page.getByText("Settings saved.", { exact: true }).waitFor();
    expect(services.knowledgeBaseBodies.filter((b) => b.method === "PATCH").at(-1)?.body).toEqual({
      rerankModel: "bge-reranker-v2-m3:latest",
    });
    // Said in the language of the moment: switched to Chinese, and back.
    await page.getByRole("combobox", { name: "Language" }).selectOption("zh-CN");
    await page.getByText("设置已保存。", { exact: true }).waitFor();
    await page.getByRole("combobox", { name: "语言" }).selectOption("en");
    await page.getByText("Settings saved.", { exact: true }).waitFor();
    // The account's language as it was (none chosen): its later pages follow the browser's.
    await page.evaluate(async () => {
      const csrf = decodeURIComponent(document.cookie.match(/hearth_csrf=([^;]+)/)![1]!);
      await fetch("/api/account/preferences", {
        method: "PUT",
        headers: { "x-csrf-token": csrf, "content-type": "application/json" },
        body: JSON.stringify({ language: null }),
      });
    });
    // The retrieval test reranks with it, says so, and leaves it out when "Rerank" is cleared.
    const test = page.getByRole("region", { name: "Retrieval test" });
    const rerank = test.getByLabel("Rerank", { exact: true });
    expect(await rerank.isChecked()).toBe(true);
    const question = test.getByLabel("Question");
    await question.fill("alpha");
    let sent = page.waitForRequest((request) => request.url().endsWith("/query"));
    await question.press("Enter");
    expect((await sent).postDataJSON()).toMatchObject({ query: "alpha", rerank: true });
    const reranked = test.getByText(
      "Reranked by bge-reranker-v2-m3:latest: each passage's relevance is its score.",
    );
    await reranked.waitFor();
    await rerank.uncheck();
    sent = page.waitForRequest((request) => request.url().endsWith("/query"));
    await question.press("Enter");
    expect((await sent).postDataJSON()).toMatchObject({ query: "alpha", rerank: false });
    await reranked.waitFor({ state: "detached" });
    // A rerank model that fails: the passages in search order, and why.
    await rerank.check();
    services.failingRerankModels.add("bge-reranker-v2-m3:latest");
    try {
      await question.press("Enter");
      await test
        .getByText(
          "The passages could not be reranked with this knowledge base's rerank model (it cannot rerank, or the model service did not answer): they are in search order.",
        )
        .waitFor();
      expect(await reranked.count()).toBe(0);
    } finally {
      services.failingRerankModels.clear();
    }
  });

  it("shows a refused settings change in the form, under the field it is about (which takes focus), else beside Save, not at the page's top", async () => {
    const { page } = desk;
    await page.getByRole("link", { name: "Knowledge" }).click();
    await page.getByLabel("New knowledge base").fill("refusals");
    await page.getByRole("button", { name: "Create" }).click();
    await page.getByRole("heading", { name: "refusals" }).waitFor();
    // Opened unless still open from the base shown before.
    const panel = page.locator("details.knowledge-settings-panel");
    if (!(await panel.evaluate((details: HTMLDetailsElement) => details.open)))
      await page.getByText("Knowledge base settings", { exact: true }).click();
    const form = page.getByRole("form", { name: "Knowledge base settings" });
    const save = form.getByRole("button", { name: "Save settings" });
    const refusal = form.getByRole("alert");
    /** Whether the refusal is on screen, where the reader is (not scrolled out of sight). */
    const onScreen = async () => {
      const box = await refusal.boundingBox();
      return !!box && box.y >= 0 && box.y + box.height <= page.viewportSize()!.height;
    };
    const focused = (field: ReturnType<typeof form.getByLabel>) =>
      field.evaluate((element) => element === document.activeElement);
    services.nonRerankers.add("tiny-story");
    try {
      // A folder given by a relative path: the folder's rule, under its field, which takes focus.
      const folder = form.getByLabel("Folder on the server to mirror");
      await folder.fill("docs");
      await save.click();
      await refusal.waitFor();
      expect(await refusal.textContent()).toBe(
        "Error: Folder on the server to mirror: the full path of a folder on the knowledge service's machine, such as /srv/docs (C:\\docs on Windows).",
      );
      await expect.poll(() => focused(folder)).toBe(true);
      expect(await onScreen()).toBe(true);
      expect(await folder.getAttribute("aria-invalid")).toBe("true");
      expect(await folder.getAttribute("aria-describedby")).toBe(await refusal.getAttribute("id"));
      // Said once, in the form: nothing at the page's top.
      expect(await page.getByRole("alert").count()).toBe(1);

      // A chat model chosen to rerank: under the rerank model's field.
      await folder.fill("");
      const rerankModel = form.getByLabel("Rerank model");
      await rerankModel.selectOption("tiny-story");
      await save.click();
      await expect.poll(() => focused(rerankModel)).toBe(true);
      expect(await refusal.textContent()).toBe(
        "Error: This model cannot rerank passages: choose a rerank model, or none.",
      );
      expect(await onScreen()).toBe(true);
      expect(await folder.getAttribute("aria-invalid")).toBeNull();
      expect(await rerankModel.getAttribute("aria-invalid")).toBe("true");

      // A failure about no field: beside Save.
      await rerankModel.selectOption("");
      await form.getByLabel("Description").fill("Refused once.");
      services.knowledgeBaseError = {
        status: 503,
        code: "DATABASE_UNAVAILABLE",
        message: "The knowledge store cannot be read",
      };
      await save.click();
      await form
        .locator("[role=alert] + .actions", { has: page.getByRole("button", { name: "Save settings" }) })
        .waitFor();
      expect(await onScreen()).toBe(true);
      services.knowledgeBaseError = undefined;
      // Saved: said beside Save too, the refusal gone.
      await save.click();
      await form.getByText("Settings saved.", { exact: true }).waitFor();
      expect(await refusal.count()).toBe(0);
    } finally {
      services.nonRerankers.clear();
      services.knowledgeBaseError = undefined;
    }
  });

  it("lists a base's documents on a phone (390 px, Chinese) as cards, each status whole, their passages and Delete on the screen", async () => {
    const { page } = desk;
    await page.getByRole("link", { name: "Knowledge" }).click();
    await page.getByLabel("New knowledge base").fill("phone");
    await page.getByRole("button", { name: "Create" }).click();
    await page.getByRole("heading", { name: "phone" }).waitFor();
    const names = [
      "en-synthetic-repair-estimate-3p.txt",
      "行政诉讼监督工作手册（二〇二四年修订版）.txt",
      "short.txt",
    ];
    // And one refused, whose reason is long: its card wraps it.
    const refused = "setup.txt";
    await page.locator('input[type="file"]:not([webkitdirectory])').setInputFiles([
      ...names.map((name) => ({
        name,
        mimeType: "text/plain",
        buffer: Buffer.from("First passage.\n\nSecond passage."),
      })),
      { name: refused, mimeType: "text/plain", buffer: Buffer.from("MZ\u0090\u0000") },
    ]);
    const statusOf = (name: string) =>
      page.locator("tr", { has: page.getByRole("link", { name }) }).getAttribute("data-status");
    for (const name of names) await expect.poll(() => statusOf(name)).toBe("indexed");
    await expect.poll(() => statusOf(refused)).toBe("failed");

    const phone = await stand.browser({ locale: "zh-CN", width: 390, height: 844 });
    await phone.context.addCookies(await desk.context.cookies());
    await phone.page.goto(`${stand.url}/knowledge`);
    await phone.page.getByRole("button", { name: "phone", exact: true }).click();
    const scroller = phone.page.locator(".table-scroll", { has: phone.page.locator("tr[data-status]") });
    const row = scroller.locator("tr", { has: phone.page.getByRole("link", { name: names[1] }) });
    const status = row.locator("td").nth(1).getByText("已索引");
    await status.waitFor();
    await row.scrollIntoViewIfNeeded();
    await screenshot(phone.page, "knowledge-documents-zh-390");
    // The status is read whole: no pinned column lies over it.
    expect(await uncovered(status), "the status beside the name").toBe(true);
    // Each document is a card: nothing to scroll sideways, its name, passages and Delete on the screen.
    expect(await scroller.evaluate((element) => element.scrollWidth <= element.clientWidth)).toBe(true);
    const name = row.locator("td").first();
    expect(await uncovered(name), "the document's name stays on the screen").toBe(true);
    const passages = row.getByRole("button", { name: `查看 ${names[1]} 的 2 个分块` });
    expect(await uncovered(passages), "the passage count that opens the passages").toBe(true);
    const removeOnPhone = row.getByRole("button", { name: `删除：${names[1]}` });
    expect(await uncovered(removeOnPhone)).toBe(true);
    const removeBox = (await removeOnPhone.boundingBox())!;
    expect(removeBox.x + removeBox.width).toBeLessThanOrEqual(390);
    await passages.click();
    await phone.page.getByRole("dialog").getByText("Second passage.").waitFor();
    await phone.page.keyboard.press("Escape");

    // On a laptop's width the whole table is on the screen, each row's switch and Delete in a line.
    await phone.page.setViewportSize({ width: 1280, height: 800 });
    const remove = row.getByRole("button", { name: `删除：${names[1]}` });
    expect(await uncovered(remove)).toBe(true);
    const switchBox = (await row.locator(".document-switch").boundingBox())!;
    expect(Math.abs((await remove.boundingBox())!.y - switchBox.y)).toBeLessThan(switchBox.height);
    await screenshot(phone.page, "knowledge-documents-zh-1280");
  });

  it("refuses at once a file larger than the knowledge service takes, naming the limit, and says it too when the service refuses one", async () => {
    const { page } = desk;
    services.maxUploadBytes = 1024 * 1024;
    try {
      // The page reads the limit with the bases.
      await page.getByRole("link", { name: "Settings" }).click();
      await page.getByRole("link", { name: "Knowledge" }).click();
      await page.getByLabel("New knowledge base").fill("limits");
      await page.getByRole("button", { name: "Create" }).click();
      await page.getByRole("heading", { name: "limits" }).waitFor();
      const sent: string[] = [];
      const record = (request: import("playwright-core").Request) => {
        if (request.method() === "POST" && request.url().endsWith("/documents")) sent.push(request.url());
      };
      page.on("request", record);
      const picker = page.locator('input[type="file"]:not([webkitdirectory])');
      await picker.setInputFiles({
        name: "scan.txt",
        mimeType: "text/plain",
        buffer: Buffer.alloc(2 * 1024 * 1024, 0x61),
      });
      const upload = page.locator("ul.uploads li", { hasText: "scan.txt" });
      await expect.poll(() => upload.getAttribute("data-status")).toBe("error");
      expect(await upload.locator(".error-text").textContent()).toBe(
        "The file is larger than this site accepts: at most 1 MiB.",
      );
      expect(sent).toEqual([]);
      page.off("request", record);

      // A limit lowered on the service since the page read it: sent, then refused, saying the limit.
      services.maxUploadBytes = 100;
      await picker.setInputFiles({
        name: "notes.txt",
        mimeType: "text/plain",
        buffer: Buffer.alloc(200, 0x61),
      });
      const row = page.locator("tr", { has: page.getByRole("link", { name: "notes.txt" }) });
      await expect.poll(() => row.getAttribute("data-status")).toBe("failed");
      expect(await row.locator(".document-error").textContent()).toBe(
        " The file is larger than this site accepts: at most 100 B.",
      );
    } finally {
      services.maxUploadBytes = 100 * 1024 * 1024;
    }
  });

  it("shows the stage each document is in and how far it has got: a PDF's pages read, chunks being indexed, a moving bar where the service says nothing of how far", async () => {
    const { page } = desk;
    await page.getByRole("link", { name: "Knowledge" }).click();
    await page.getByLabel("New knowledge base").fill("stages");
    await page.getByRole("button", { name: "Create" }).click();
    await page.getByRole("heading", { name: "stages" }).waitFor();
    // The knowledge service's list as it is part way through them (status and progress as it says them).
    const document = (name: string, status: string, progress?: object) => ({
      id: name,
      name,
      status,
      error: null,
      chunkCount: 0,
      enabled: true,
      ...(progress ? { progress } : {}),
    });
    await page.route("**/api/knowledge-bases/*/documents", (route) =>
      route.request().method() === "GET"
        ? route.fulfill({
            json: {
              documents: [
                document("manual.pdf", "parsing", { phase: "parsing", done: 88, total: 175 }),
                // A base without an embedding model writes the chunks while the status is still "parsing".
                document("notes.pdf", "parsing", { phase: "indexing", done: 35, total: 575 }),
                document("slides.pptx", "parsing"),
                document("later.txt", "queued"),
              ],
            },
          })
        : route.fallback(),
    );
    try {
      // Read again, the page loaded anew.
      await page.reload();
      await page.getByRole("button", { name: "stages", exact: true }).click();
      const state = (name: string) =>
        page
          .locator("tr", { has: page.getByRole("link", { name }) })
          .locator("td")
          .nth(1);
      const text = async (name: string) =>
        ((await state(name).textContent()) ?? "").replace(/\s+/g, " ").trim();
      await expect.poll(() => text("manual.pdf")).toBe("Reading 88 of 175 pages read");
      expect(await state("manual.pdf").getByRole("progressbar").getAttribute("value")).toBe("88");
      expect(await text("notes.pdf")).toBe("Indexing 35 of 575 passages indexed");
      expect(await state("notes.pdf").getByRole("progressbar", { name: "notes.pdf: Indexing" }).count()).toBe(
        1,
      );
      // Nothing said of how far: a bar without a value, which the browser shows moving.
      expect(await text("slides.pptx")).toBe("Reading");
      expect(await state("slides.pptx").getByRole("progressbar").getAttribute("value")).toBeNull();
      // Waiting its turn: no bar.
      expect(await text("later.txt")).toBe("Queued");
      expect(await state("later.txt").getByRole("progressbar").count()).toBe(0);
      await screenshot(page, "knowledge-document-stages");
    } finally {
      await page.unroute("**/api/knowledge-bases/*/documents");
    }
  });

  it("creates an assistant with the knowledge base, starts a new chat with it from the picker, and gets an answer citing the base", async () => {
    const { page } = desk;
    const nav = page.getByRole("navigation", { name: /Main/ });
    await nav.getByRole("link", { name: "Assistants" }).click();
    await page.getByRole("heading", { name: "Assistants", level: 2 }).waitFor();
    await page.getByText("No assistants yet.").waitFor();
    await page.getByRole("button", { name: "New assistant" }).click();
    const dialog = page.getByRole("dialog", { name: "New assistant" });
    await dialog.getByLabel("Name", { exact: true }).fill("HR assistant");
    await dialog.getByLabel("Description").fill("Answers leave questions");
    expect(await dialog.getByLabel("Base model").inputValue()).toBe("tiny-story");
    await dialog.getByLabel("System prompt").fill("You answer HR questions from the handbook.");
    await dialog.getByRole("group", { name: "Knowledge bases" }).getByLabel("handbook").check();
    await dialog.getByLabel("Web search").selectOption("off");
    await dialog.getByLabel("Visibility").selectOption("private");
    await dialog.getByRole("button", { name: "Create assistant" }).click();
    await expect
      .poll(() => page.getByRole("status").filter({ hasText: "saved" }).textContent(), WAIT)
      .toBe("Assistant HR assistant saved.");
    await dialog.waitFor({ state: "detached", ...WAIT });
    const row = page.locator("tr", { hasText: "HR assistant" });
    // The list is read again after the dialog closes: the row may come a moment later.
    await row.waitFor(WAIT);
    expect(await row.locator("td").allTextContents()).toEqual([
      "HR assistant",
      "Answers leave questions",
      "tiny-story",
      "alice",
      "Private",
      expect.stringMatching(/^assistant:/),
      "EditDelete",
    ]);

    // A new chat started with it from the picker: its system prompt and knowledge base filled in.
    await nav.getByRole("link", { name: "Chat" }).click();
    await page.getByRole("button", { name: "+ New chat" }).click();
    const picker = page.getByLabel("Model", { exact: true });
    expect(
      await picker.locator("optgroup").evaluateAll((groups) => groups.map((g) => g.getAttribute("label"))),
    ).toEqual(["Assistants", "Models"]);
    await picker.selectOption({ label: "HR assistant" });
    await page.getByText("Assistant: HR assistant").waitFor();
    await expect
      .poll(() => page.locator(".system-prompt summary").textContent(), WAIT)
      .toContain("You answer HR questions from the handbook.");
    expect(await page.getByLabel("handbook").isChecked()).toBe(true);
    await page.getByLabel(/Send a message/).fill("How many vacation days do we get?");
    await page.getByRole("button", { name: "Send" }).click();
    const answer = page.locator("article.message.assistant").last();
    await expect.poll(() => answer.getAttribute("data-status"), WAIT).toBe("done");
    await answer
      .getByRole("navigation", { name: "Sources" })
      .getByRole("link", { name: "leave-policy.txt" })
      .waitFor();
    const sent = stand.model.requests.at(-1)!;
    expect(sent.model).toBe("tiny-story");
    expect(sent.messages.filter((m) => m.role === "system").map((m) => m.content)).toContainEqual(
      "You answer HR questions from the handbook.",
    );
    // The conversation remembers its assistant, shown in its header.
    await page.waitForURL(/\/c\//, WAIT);
    await page.getByText("Assistant: HR assistant").waitFor();
    const conversation = new URL(page.url()).pathname;

    // Deleted (asked first), the assistant leaves its chat as it was.
    await nav.getByRole("link", { name: "Assistants" }).click();
    page.once("dialog", (asked) => void asked.accept());
    await page.getByRole("button", { name: "Delete assistant HR assistant" }).click();
    await expect
      .poll(() => page.getByRole("status").filter({ hasText: "deleted" }).textContent(), WAIT)
      .toBe("Assistant HR assistant deleted.");
    await page.getByText("No assistants yet.").waitFor();
    await page.goto(`${stand.url}${conversation}`);
    await page.getByText("Assistant: HR assistant").waitFor();
    expect(await page.locator("article.message.assistant").count()).toBe(1);

    // One deleted elsewhere (another tab, its owner) after the picker listed it: the first message
    // says why, and the picker no longer offers it, its base model chosen instead.
    const alice = await signIn(stand.web.app, "alice");
    const made = await stand.web.app.inject({
      method: "POST",
      url: "/api/assistants",
      headers: alice.headers,
      payload: { name: "Short-lived", model: "tiny-story" },
    });
    expect(made.statusCode, made.body).toBe(201);
    await nav.getByRole("link", { name: "Assistants" }).click();
    await page.getByRole("cell", { name: "Short-lived", exact: true }).waitFor(WAIT);
    await nav.getByRole("link", { name: "Chat" }).click();
    await page.getByRole("button", { name: "+ New chat" }).click();
    await picker.locator("option", { hasText: "Short-lived" }).waitFor({ state: "attached", ...WAIT });
    await picker.selectOption({ label: "Short-lived" });
    await page.getByText("Assistant: Short-lived").waitFor();
    const gone = await stand.web.app.inject({
      method: "DELETE",
      url: `/api/assistants/${(made.json() as { id: string }).id}`,
      headers: alice.headers,
    });
    expect(gone.statusCode).toBe(204);
    await page.getByLabel(/Send a message/).fill("Still there?");
    await page.getByRole("button", { name: "Send" }).click();
    await page.getByText(/This assistant does not exist/).waitFor(WAIT);
    await expect.poll(() => picker.locator("option", { hasText: "Short-lived" }).count(), WAIT).toBe(0);
    expect(await picker.inputValue()).toBe("tiny-story");
    expect(await page.getByText("Assistant: Short-lived").count()).toBe(0);
  });
  it("marks the embedding models and rerankers on the admin's Models tab", async () => {
    const { page } = desk;
    await page.getByRole("navigation", { name: /Main/ }).getByRole("link", { name: "Admin" }).click();
    await page.getByRole("tab", { name: "Models" }).click();
    // A model's row is the one with its Delete button.
    const rows = page.locator("tbody tr", { has: page.getByRole("button", { name: /^Delete: / }) });
    await expect.poll(() => rows.count()).toBe(3);
    const names = await rows.locator(".row-name").allTextContents();
    expect(names).toEqual(
      expect.arrayContaining([
        "tiny-story",
        "bge-m3:latestEmbedding model",
        "bge-reranker-v2-m3:latestReranker",
      ]),
    );
    await screenshot(page, "admin-models-purposes-en");
  });
});
