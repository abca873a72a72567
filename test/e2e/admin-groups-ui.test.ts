import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey, signIn, signUp } from "../../packages/web/test/support/web-client.js";
import type { WebHarness } from "../../packages/web/test/support/web-harness.js";
import { type Browser, hasChromium, screenshot, signUpInUi } from "../support/browser.js";
import { startUiStand, type UiStand } from "../support/ui-stand.js";

/**
 * Groups and users' keys on the admin page in a real Chromium: an admin renames a group, deletes it
 * after a confirmation that says its models become admin-only (and they do; the models' access
 * editor shows it, and sets or clears admin-only itself), and revokes a user's API key, which is
 * refused at once.
 */
describe.skipIf(!hasChromium)("admin groups and users' keys in the browser", () => {
  let stand: UiStand;
  let web: WebHarness;
  let url: string;
  let en: Browser;

  beforeAll(async () => {
    stand = await startUiStand({ model: { models: ["tiny-story:latest", "stories260K:latest"] } });
    ({ web, url } = stand);
    en = await stand.browser({ locale: "en-US" });
  });
  afterAll(() => stand?.close());

  const v1 = (key: string, path: string, body?: unknown) =>
    fetch(`${url}${path}`, {
      method: body ? "POST" : "GET",
      headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
      body: body ? JSON.stringify(body) : undefined,
    });

  it("renames a group, and deletes it after saying its models become admin-only", async () => {
    const { page } = en;
    await signUpInUi(page, url, "root");
    const admin = await signIn(web.app, "root");
    const bob = await signUp(web.app, "bob");
    const bobKey = await createApiKey(web.app, bob);
    await page.getByRole("link", { name: "Admin" }).click();
    await page.getByLabel("New group").fill("restricted");
    await page.getByRole("button", { name: "Create" }).click();
    await page.locator('li[data-group="restricted"]').waitFor();
    const groupId = (await web.db.selectFrom("groups").select("id").executeTakeFirstOrThrow()).id;
    await web.app.inject({
      method: "PUT",
      url: "/api/admin/models/stories260K:latest/access",
      headers: admin.headers,
      payload: { groupIds: [groupId] },
    });

    page.once("dialog", (dialog) => void dialog.accept("Restricted staff"));
    await page.getByRole("button", { name: "Rename: restricted" }).click();
    await page.locator('li[data-group="Restricted staff"]').waitFor();
    await screenshot(page, "admin-groups-en");

    let question = "";
    page.once("dialog", (dialog) => {
      question = dialog.message();
      void dialog.accept();
    });
    await page.getByRole("button", { name: "Delete group: Restricted staff" }).click();
    await expect.poll(() => page.locator('li[data-group="Restricted staff"]').count()).toBe(0);
    expect(question).toContain("becomes admin-only");
    // Bob, never in the group, still may not use the model, nor see it.
    const chat = await v1(bobKey, "/v1/chat/completions", {
      model: "stories260K:latest",
      messages: [{ role: "user", content: "hi" }],
    });
    expect(chat.status).toBe(403);
    const listed = ((await (await v1(bobKey, "/v1/models")).json()) as { data: Array<{ id: string }> }).data;
    expect(listed.map((m) => m.id)).toEqual(["tiny-story:latest"]);
    await page.getByRole("tab", { name: "Models" }).click();
    const adminOnly = (model: string) => page.getByRole("checkbox", { name: `Admins only: ${model}` });
    await expect.poll(() => adminOnly("stories260K:latest").isChecked()).toBe(true);
    // It claims no cause: a model is admin-only as well when set so, with the same control.
    expect(await page.getByText(/groups were deleted/).count()).toBe(0);
    expect(await adminOnly("tiny-story:latest").isChecked()).toBe(false);
    const bobsModels = async () =>
      ((await (await v1(bobKey, "/v1/models")).json()) as { data: Array<{ id: string }> }).data.map(
        (m) => m.id,
      );
    // Clicked, not check(): the box shows what the server holds once the change is saved.
    await adminOnly("tiny-story:latest").click();
    await expect.poll(bobsModels).toEqual([]);
    await expect.poll(() => adminOnly("tiny-story:latest").isChecked()).toBe(true);
    // Unchecked: open to everyone again (no group chosen).
    await adminOnly("stories260K:latest").click();
    await expect.poll(() => adminOnly("stories260K:latest").isChecked()).toBe(false);
    await adminOnly("tiny-story:latest").click();
    await expect.poll(bobsModels).toEqual(["tiny-story:latest", "stories260K:latest"]);
  });

  it("says why a group's name was refused at the group form, for a new group and a renamed one", async () => {
    const { page } = en;
    await page.getByRole("tab", { name: "Users" }).click();
    const field = page.getByLabel("New group");
    for (const name of ["finance", "sales"]) {
      await field.fill(name);
      await page.getByRole("button", { name: "Create" }).click();
      await page.locator(`li[data-group="${name}"]`).waitFor();
    }
    const refusal = page.getByRole("alert").filter({ hasText: "Another group already has this name" });
    /** How far below the New group field the refusal is shown, in pixels. */
    const distanceBelowField = async () => (await refusal.boundingBox())!.y - (await field.boundingBox())!.y;
    await field.fill("Finance");
    await page.getByRole("button", { name: "Create" }).click();
    await refusal.waitFor();
    expect(await distanceBelowField()).toBeGreaterThan(0);
    expect(await distanceBelowField()).toBeLessThan(100);
    // Nothing is said under the Users heading, far above.
    expect(await page.locator("#users-title + .error-text").count()).toBe(0);
    await screenshot(page, "admin-group-name-taken-en");

    page.once("dialog", (dialog) => void dialog.accept("finance"));
    await page.getByRole("button", { name: "Rename: sales" }).click();
    await refusal.waitFor();
    expect(await distanceBelowField()).toBeLessThan(100);
    expect(await page.getByRole("alert").count()).toBe(1);
  });

  it("lists a user's API keys and revokes one, refused from the next request on", async () => {
    const { page } = en;
    const bob = await signIn(web.app, "bob");
    const leaked = await createApiKey(web.app, bob, "leaked");
    expect((await v1(leaked, "/v1/models")).status).toBe(200);
    await page.getByRole("tab", { name: "Users" }).click();
    await page.getByRole("button", { name: "API keys: bob" }).click();
    const panel = page.getByRole("region", { name: "API keys: bob" });
    await panel.getByText("leaked").waitFor();
    page.once("dialog", (dialog) => void dialog.accept());
    await panel.getByRole("button", { name: "Revoke: leaked" }).click();
    await expect.poll(() => panel.getByRole("button", { name: "Revoke: leaked" }).count()).toBe(0);
    expect((await v1(leaked, "/v1/models")).status).toBe(401);
  });
});
