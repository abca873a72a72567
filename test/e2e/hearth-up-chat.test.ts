import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Browser,
  ensureUiBuilt,
  hasChromium,
  launchBrowser,
  screenshot,
  signUpInUi,
} from "../support/browser.js";
import { type HearthProcess, hearthBin, startHearth } from "../support/hearth-process.js";
import { serviceEnvironment } from "../support/ports.js";
import { writeTinyGguf } from "../support/tiny-gguf.js";

/**
 * Issue 2 point 8 end to end: `hearth up` (all four services, the real model service with the
 * embedded llama.cpp runtime and a tiny GGUF written here), the built UI in Chromium, a message
 * answered with streamed text, a screenshot, and a clean Ctrl-C. Skips until the CLI is built.
 */
describe.skipIf(!hasChromium || !existsSync(hearthBin))("hearth up: a first chat in the browser", () => {
  let hearth: HearthProcess;
  let dataDir: string;
  let url: string;
  let browser: Browser;

  beforeAll(async () => {
    ensureUiBuilt();
    dataDir = mkdtempSync(join(tmpdir(), "hearth-up-"));
    const modelsDir = join(dataDir, "models");
    mkdirSync(modelsDir, { recursive: true });
    await writeTinyGguf(join(modelsDir, "tiny.gguf"));
    const env: Record<string, string> = {
      ...(await serviceEnvironment(dataDir)),
      HEARTH_MODELS_DIR: modelsDir,
    };
    url = `http://127.0.0.1:${env.HEARTH_PORT}`;
    hearth = startHearth(["up"], env);
    await hearth.waitFor(/Hearth is ready/, 90_000);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await hearth?.kill();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("picks the GGUF model, streams an answer, and stops cleanly on Ctrl-C", async () => {
    const { page } = browser;
    await signUpInUi(page, url, "first");
    const picker = page.getByRole("combobox", { name: "Model" });
    await expect.poll(() => picker.locator("option").count(), { timeout: 30_000 }).toBeGreaterThan(0);
    await page.getByLabel(/Send a message/).fill("Once upon a time");
    await page.getByRole("button", { name: "Send" }).click();
    const answer = page.locator("article.message.assistant").last();
    await expect
      .poll(async () => ((await answer.locator(".markdown").textContent()) ?? "").length, { timeout: 60_000 })
      .toBeGreaterThan(0);
    await expect
      .poll(() => answer.getAttribute("data-status"), { timeout: 60_000 })
      .toMatch(/^(done|interrupted)$/);
    const file = await screenshot(page, "hearth-up-first-chat");
    expect(statSync(file).size).toBeGreaterThan(1000);

    hearth.child.kill("SIGINT");
    expect((await hearth.exited).code).toBe(0);
  });
});
