import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import {
  type BrowserContext,
  chromium,
  type Locator,
  type Page,
  type Browser as PlaywrightBrowser,
} from "playwright-core";
import { repoRoot } from "./shared-data.js";

export const CHROMIUM = process.env.HEARTH_CHROMIUM ?? "/usr/bin/chromium";
export const hasChromium = existsSync(CHROMIUM);
export const screenshotDir = resolve(repoRoot, "test-results");

/** Builds the UI once when packages/ui/dist is missing (npm test builds it first anyway). */
export function ensureUiBuilt(): void {
  if (existsSync(resolve(repoRoot, "packages/ui/dist/index.html"))) return;
  execFileSync("npm", ["run", "build", "-w", "@hearth/ui"], { cwd: repoRoot, stdio: "inherit" });
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * One Chromium for the worker's browser tests, started with the first and ended with the worker:
 * each "browser" a test opens is a fresh context in it (its own cookies, storage and permissions,
 * as a new profile would have), which takes a third of the time starting Chromium again took.
 */
let shared: Promise<PlaywrightBrowser> | undefined;
function sharedChromium(): Promise<PlaywrightBrowser> {
  shared ??= chromium
    .launch({
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      // No signal handlers in the worker: a later test file that sends the process SIGINT (a CLI's
      // Ctrl-C) would have Playwright's close the browser and exit the worker. Chromium still ends
      // with the worker (its pipe to it closes).
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
    })
    .then((browser) => {
      // Started again if it went (a crash): the next test gets a working one.
      browser.on("disconnected", () => (shared = undefined));
      return browser;
    });
  return shared;
}

/** Debian's Chromium through playwright-core, headless, with a fresh context and the given browser language. */
export async function launchBrowser(
  options: { locale?: string; width?: number; height?: number } = {},
): Promise<Browser> {
  const context = await (await sharedChromium()).newContext({
    locale: options.locale ?? "en-US",
    viewport: { width: options.width ?? 1280, height: options.height ?? 800 },
  });
  const page = await context.newPage();
  // Playwright waits forever by default; a test should fail with the step that hung.
  context.setDefaultTimeout(10_000);
  return { context, page, close: () => context.close() };
}

/**
 * Holds the page's `method` requests to `url` (a glob) on their way until the function it resolves
 * with is called, so that what the page shows meanwhile can be seen (a request to a stand-in on this
 * machine is otherwise over before it is drawn); the page's other requests go on.
 */
export async function holdRequests(page: Page, url: string, method = "POST"): Promise<() => void> {
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route(url, async (route) => {
    if (route.request().method() !== method) return route.fallback();
    await held;
    await route.continue();
  });
  return release;
}

/** A full-page screenshot in test-results/<name>.png; resolves with its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(screenshotDir, { recursive: true });
  const path = join(screenshotDir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Creates an account through the UI (the first one becomes admin) and waits for the chat. */
export async function signUpInUi(
  page: Page,
  url: string,
  username: string,
  password = "correct horse battery",
): Promise<void> {
  await page.goto(url);
  // The form renders once the session probe answers.
  await page.locator("#auth-title").waitFor();
  const toggle = page.getByRole("button", { name: /No account\? Create one|没有账号？注册/ });
  if (await toggle.isVisible().catch(() => false)) await toggle.click();
  await page.getByLabel(/User name|用户名/).fill(username);
  await page.getByLabel(/^(Password|密码)$/).fill(password);
  await page.getByLabel(/^(Confirm password|确认密码)$/).fill(password);
  await page.getByRole("button", { name: /^(Create account|注册)$/ }).click();
  // Signed in: the sign-out button names the account, in brackets of the page's language (on a
  // phone it is behind the header's menu).
  await page
    .getByRole("button", { name: new RegExp(`[(（]${username}[)）]`), includeHidden: true })
    .waitFor({ state: "attached" });
}

/** How many lines an element's text takes on the screen (a label that wraps a character a line shows many). */
export const textLines = (locator: Locator) =>
  locator.evaluate((element) => {
    const range = document.createRange();
    range.selectNodeContents(element);
    return new Set([...range.getClientRects()].map((rect) => Math.round(rect.top))).size;
  });

/**
 * Whether the element is what the screen shows at each corner of its box (inset by 2 px): nothing
 * (a pinned column) lies over it and it is not scrolled out of its table's box.
 */
export const uncovered = (locator: Locator) =>
  locator.evaluate((element) => {
    const box = element.getBoundingClientRect();
    const points: Array<[number, number]> = [
      [box.left + 2, box.top + 2],
      [box.right - 2, box.top + 2],
      [box.left + 2, box.bottom - 2],
      [box.right - 2, box.bottom - 2],
    ];
    return points.every(([x, y]) => {
      const top = document.elementFromPoint(x, y);
      return top !== null && (top === element || element.contains(top) || top.contains(element));
    });
  });

/** The left and right edges of what an element holds (inside its border and padding), in CSS pixels. */
export const contentEdges = (locator: Locator) =>
  locator.evaluate((element) => {
    const box = element.getBoundingClientRect();
    const style = getComputedStyle(element);
    const inset = (side: "Left" | "Right") =>
      Number.parseFloat(style[`border${side}Width`]) + Number.parseFloat(style[`padding${side}`]);
    return { left: Math.round(box.left + inset("Left")), right: Math.round(box.right - inset("Right")) };
  });
