import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeKnowledge } from "../../packages/web/test/support/fake-knowledge-search.js";
import {
  type FakeOidcProvider,
  startFakeOidcProvider,
} from "../../packages/web/test/support/fake-oidc-provider.js";
import { signIn, signUp } from "../../packages/web/test/support/web-client.js";
import type { WebHarness } from "../../packages/web/test/support/web-harness.js";
import { type Browser, hasChromium, screenshot, signUpInUi } from "../support/browser.js";
import { startUiStand, type UiStand } from "../support/ui-stand.js";

/**
 * The account features in a real Chromium on the built UI: sign-up asks for the password twice
 * (English and Chinese), a user changes their password in Settings, an admin deletes a user after
 * a confirmation, adds one and resets their password, and an upload's import is cancelled while
 * it is in progress. Single sign-on is configured against a fake OpenID Connect provider: a click on
 * the SSO button ends signed in, back on the page it started from, and signing out ends the
 * provider's session too, back on the sign-in page.
 */
describe.skipIf(!hasChromium)("accounts and imports in the browser", () => {
  let stand: UiStand;
  let services: FakeKnowledge;
  let web: WebHarness;
  let url: string;
  let en: Browser;
  let zh: Browser;
  let provider: FakeOidcProvider;

  beforeAll(async () => {
    provider = await startFakeOidcProvider();
    stand = await startUiStand({
      model: { models: ["tiny-story"] },
      knowledgeAndSearch: true,
      web: {
        oidc: {
          issuer: provider.issuer,
          clientId: provider.clientId,
          clientSecret: provider.clientSecret,
          syncGroups: true,
          adminGroups: ["/Hearth/Admins"],
        },
      },
    });
    ({ web, url } = stand);
    services = stand.services!;
    en = await stand.browser({ locale: "en-US" });
    zh = await stand.browser({ locale: "zh-CN" });
  });
  afterAll(async () => {
    await stand?.close();
    await provider?.close();
  });

  const userCount = async () => Number((await web.db.selectFrom("users").select("id").execute()).length);

  it("asks for the new password twice at sign-up and says so when the two differ", async () => {
    const { page } = en;
    await page.goto(url);
    await page.locator("#auth-title").waitFor();
    await page.getByLabel("User name").fill("alice");
    await page.getByLabel("Password", { exact: true }).fill("correct horse battery");
    await page.getByLabel("Confirm password").fill("correct horse batery");
    await page.getByRole("button", { name: "Create account" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toBe("The two passwords do not match.");
    expect(await userCount()).toBe(0);
    await signUpInUi(page, url, "alice");
    expect(await userCount()).toBe(1);
  });

  it("says the same in Chinese", async () => {
    const { page } = zh;
    await page.goto(url);
    await page.getByRole("button", { name: "没有账号？注册" }).click();
    await page.getByLabel("用户名").fill("bob");
    await page.getByLabel("密码", { exact: true }).fill("correct horse battery");
    await page.getByLabel("确认密码").fill("something else");
    await page.getByRole("button", { name: "注册", exact: true }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toBe("两次输入的密码不一致。");
    await signUpInUi(page, url, "bob");
  });

  it("changes the user's own password in Settings", async () => {
    const { page } = en;
    await page.getByRole("link", { name: "Settings" }).click();
    const form = page.getByRole("form", { name: "Change password" });
    await form.getByLabel("Current password").fill("not my password");
    await form.getByLabel("New password", { exact: true }).fill("a new password 2");
    await form.getByLabel("Confirm new password").fill("a new password 2");
    await form.getByRole("button", { name: "Change password" }).click();
    await expect
      .poll(() => form.getByRole("alert").textContent())
      .toContain("The current password is wrong.");
    await form.getByLabel("Current password").fill("correct horse battery");
    await form.getByLabel("Confirm new password").fill("a new password 3");
    await form.getByRole("button", { name: "Change password" }).click();
    await expect
      .poll(() => form.getByRole("alert").textContent())
      .toContain("The two passwords do not match.");
    await form.getByLabel("Confirm new password").fill("a new password 2");
    await form.getByRole("button", { name: "Change password" }).click();
    await expect
      .poll(() => form.getByRole("status").textContent())
      .toBe("Password changed. Your other sessions have been signed out.");
    await screenshot(page, "settings-change-password-en");
    // The new password signs in; the old one no longer does.
    await signIn(web.app, "alice", "a new password 2");
    const old = await web.app.inject({
      method: "POST",
      url: "/api/auth/login",
      payload: { username: "alice", password: "correct horse battery" },
    });
    expect(old.json().error.code).toBe("INVALID_CREDENTIALS");
  });

  it("lets an admin delete another user after a confirmation, not themselves", async () => {
    const { page } = en;
    await signUp(web.app, "carol");
    await page.getByRole("link", { name: "Admin" }).click();
    await page.locator('tr[data-user="carol"]').waitFor();
    expect(await page.getByRole("button", { name: "Delete account: alice" }).count()).toBe(0);
    // Dismissed first: nothing happens.
    page.once("dialog", (dialog) => void dialog.dismiss());
    await page.getByRole("button", { name: "Delete account: carol" }).click();
    await page.waitForTimeout(200);
    expect(await page.locator('tr[data-user="carol"]').count()).toBe(1);
    let question = "";
    page.once("dialog", (dialog) => {
      question = dialog.message();
      void dialog.accept();
    });
    await page.getByRole("button", { name: "Delete account: carol" }).click();
    await expect.poll(() => page.locator('tr[data-user="carol"]').count()).toBe(0);
    expect(question).toContain("Delete the account carol?");
    expect(
      await web.db.selectFrom("users").select("username").where("username", "=", "carol").execute(),
    ).toEqual([]);
  });

  it("lets an admin add a user and reset their password, typed or generated", async () => {
    const { page } = en;
    await page.getByRole("button", { name: "Add user" }).click();
    const form = page.getByRole("form", { name: "Add a user" });
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe("add-user-title");
    const name = form.getByLabel("User name");
    const password = form.getByLabel("Password");
    // The service's rules, each shown beside its field (marked invalid) when broken.
    await name.fill("alice");
    await password.fill("short");
    await form.getByRole("button", { name: "Add user" }).click();
    await expect.poll(() => form.getByRole("alert").textContent()).toContain("at least 8 characters");
    expect(await password.getAttribute("aria-invalid")).toBe("true");
    await password.fill("dora password 1");
    await form.getByRole("button", { name: "Add user" }).click();
    await expect
      .poll(() => form.getByRole("alert").textContent())
      .toContain("Another account already has this user name.");
    expect(await name.getAttribute("aria-invalid")).toBe("true");
    await name.fill("dora");
    await form.getByRole("button", { name: "Add user" }).click();
    await expect.poll(() => page.getByText("Added dora: they can sign in now.").count()).toBe(1);
    await page.locator('tr[data-user="dora"]').waitFor();
    const dora = await signIn(web.app, "dora", "dora password 1");

    // No reset of one's own password here (Settings asks for the current one).
    expect(await page.getByRole("button", { name: "Reset password: alice" }).count()).toBe(0);
    const opener = page.getByRole("button", { name: "Reset password: dora" });
    await opener.click();
    const panel = page.getByRole("region", { name: "Reset the password of dora" });
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe("reset-password-title");
    await panel.getByLabel("New password").fill("dora password 2");
    await panel.getByRole("button", { name: "Set password" }).click();
    await expect
      .poll(() => panel.getByRole("status").first().textContent())
      .toBe("The password of dora is set; their sessions have been signed out.");
    const ended = await web.app.inject({ url: "/api/conversations", headers: dora.headers });
    expect(ended.json().error.code).toBe("SESSION_EXPIRED");
    await signIn(web.app, "dora", "dora password 2");

    await panel.getByRole("button", { name: "Generate a password" }).click();
    const shown = panel.locator(".key-once code");
    await shown.waitFor();
    await screenshot(page, "admin-reset-password-en");
    await signIn(web.app, "dora", (await shown.textContent())!);
    const old = await web.app.inject({
      method: "POST",
      url: "/api/auth/login",
      payload: { username: "dora", password: "dora password 2" },
    });
    expect(old.json().error.code).toBe("INVALID_CREDENTIALS");
    await panel.getByRole("button", { name: "Copy the new password" }).click();
    await panel.getByRole("button", { name: "Copied" }).waitFor();
    // Escape closes the panel, and the password with it; focus goes back to its button.
    await panel.getByRole("button", { name: "Close" }).focus();
    await page.keyboard.press("Escape");
    await expect.poll(() => panel.count()).toBe(0);
    await expect.poll(() => opener.evaluate((button) => button === document.activeElement)).toBe(true);
  });

  it("signs in with SSO from the sign-in page's button, back on the page it started from, and out at the provider too", async () => {
    // An administrator made the group Finance; the provider says wang.fang is in Keycloak's /Team/Finance.
    const alice = await signIn(web.app, "alice", "a new password 2");
    const finance = await web.app.inject({
      method: "POST",
      url: "/api/admin/groups",
      headers: alice.headers,
      payload: { name: "Finance" },
    });
    expect(finance.statusCode).toBe(201);
    provider.reset({
      sub: "kc-7",
      preferred_username: "wang.fang",
      name: "王芳",
      email: "wang.fang@example.cn",
      groups: ["/Team/Finance", "/Team/Unknown"],
    });
    // As Keycloak: discovery names an end_session_endpoint.
    provider.behaviour.endSession = true;
    const browser = await stand.browser({ locale: "en-US" });
    const { page } = browser;
    await page.goto(`${url}/settings`);
    await page.locator("#auth-title").waitFor();
    await page.getByRole("link", { name: "Sign in with SSO" }).click();
    // Through the provider and back: signed in as the new account, on Settings where it started.
    await page
      .getByRole("button", { name: /\(wang\.fang\)/, includeHidden: true })
      .waitFor({ state: "attached" });
    expect(new URL(page.url()).pathname).toBe("/settings");
    // Settings says the account signs in with SSO instead of offering a password change.
    await page.getByText("This account signs in with single sign-on (SSO)").waitFor();
    expect(await page.getByLabel("Current password").count()).toBe(0);
    await screenshot(page, "settings-sso-account-en");
    // The account and its session are the service's own.
    const user = await web.db
      .selectFrom("users")
      .select(["id", "status"])
      .where("username", "=", "wang.fang")
      .executeTakeFirstOrThrow();
    expect(user.status).toBe("active");
    const identities = await web.db.selectFrom("external_identities").selectAll().execute();
    expect(identities).toEqual([
      expect.objectContaining({ user_id: user.id, subject: "kc-7", email: "wang.fang@example.cn" }),
    ]);
    // The administrator's list marks it.
    const { page: admin } = en;
    await admin.goto(`${url}/admin`);
    const row = admin.locator('tr[data-user="wang.fang"]');
    await expect.poll(() => row.locator(".badge").textContent()).toBe("SSO");
    // In the group its claim names, and the page says where SSO accounts' groups and roles come from.
    expect(await row.getByLabel("Finance: wang.fang").isChecked()).toBe(true);
    await admin
      .locator("#sso-groups-note")
      .getByText("Groups of SSO accounts come from the identity provider")
      .waitFor();
    await admin
      .locator("#sso-roles-note")
      .getByText("Roles of SSO accounts come from the identity provider")
      .waitFor();
    await screenshot(admin, "admin-users-sso-sync-en");

    // Signing out goes through the provider's end-session endpoint, with the session's ID token as
    // the hint, and comes back to the sign-in page.
    await page.getByRole("button", { name: /^Sign out/ }).click();
    await page.locator("#auth-title").waitFor();
    expect(provider.endSessionRequests).toHaveLength(1);
    expect(provider.endSessionRequests[0]!.get("id_token_hint")).toBe(provider.idTokens.at(-1));
    expect(page.url()).toBe(`${url}/`);
    expect((await page.request.get(`${url}/api/auth/session`).then((r) => r.json())).user).toBeNull();
  });

  it("shows the SSO button and a failed SSO sign-in's error in Chinese", async () => {
    const browser = await stand.browser({ locale: "zh-CN" });
    const { page } = browser;
    // A callback that did not come back to the sign-in it started lands here with its code.
    await page.goto(`${url}/api/auth/oidc/callback?code=x&state=forged`);
    await page.getByRole("link", { name: "使用单点登录" }).waitFor();
    await expect
      .poll(() => page.getByRole("alert").textContent())
      .toBe("单点登录没有回到发起它的那次登录（耗时过长，或在别处发起）。请重试。");
    // The code is taken out of the address: a reload does not show it again.
    expect(new URL(page.url()).search).toBe("");
    await screenshot(page, "sign-in-sso-error-zh");
    // With password sign-in off (web.oidc.passwordLogin: false), the page offers SSO alone, and the
    // password form only behind the administrators' link.
    await page.route("**/api/auth/session", async (route) => {
      const answer = await route.fetch();
      await route.fulfill({ response: answer, json: { ...(await answer.json()), passwordLogin: false } });
    });
    await page.goto(url);
    await page.getByRole("link", { name: "使用单点登录" }).waitFor();
    expect(await page.getByLabel("用户名").count()).toBe(0);
    expect(await page.getByRole("button", { name: "没有账号？注册" }).count()).toBe(0);
    await page.getByRole("button", { name: "管理员使用密码登录" }).click();
    await page.getByLabel("用户名").waitFor();
    await page.unroute("**/api/auth/session");
  });

  it("cancels an upload's import while it is in progress", async () => {
    const { page } = en;
    services.holdIngestion = true;
    await page.getByRole("link", { name: "Knowledge" }).click();
    await page.getByLabel("New knowledge base").fill("manuals");
    await page.getByRole("button", { name: "Create" }).click();
    await page.getByRole("heading", { name: "manuals" }).waitFor();
    const folder = mkdtempSync(join(tmpdir(), "hearth-cancel-"));
    const file = join(folder, "long-manual.txt");
    writeFileSync(file, "A manual that takes long to import.");
    await page.locator('input[type="file"]:not([webkitdirectory])').setInputFiles(file);
    const row = page.locator("tr", { has: page.getByRole("link", { name: "long-manual.txt" }) });
    await expect.poll(() => row.getAttribute("data-status")).toBe("queued");
    const cancel = page.getByRole("button", { name: "Cancel import: long-manual.txt" });
    await cancel.waitFor();
    await screenshot(page, "knowledge-import-cancel-en");
    await cancel.click();
    await expect.poll(() => row.getAttribute("data-status")).toBe("failed");
    expect(await row.textContent()).toContain("The import was cancelled before the document was indexed");
    await expect.poll(() => cancel.count()).toBe(0);
    services.holdIngestion = false;
  });

  it("offers a re-index of the documents indexed with older settings, and starts it", async () => {
    const { page } = en;
    services.staleDocuments = 2;
    await page.reload();
    await page.getByRole("link", { name: "Knowledge" }).click();
    await page.getByRole("button", { name: "manuals", exact: true }).click();
    const reindex = page.getByRole("button", { name: "Re-index (2)" });
    await reindex.waitFor();
    await reindex.click();
    await page.getByText("Re-index started").waitFor();
    // The count is read again: nothing is stale any more, so the button goes.
    await expect.poll(() => reindex.count()).toBe(0);
    expect(services.staleDocuments).toBe(0);
  });
});
