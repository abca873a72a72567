import { onTestFinished } from "vitest";
import {
  type FakeKnowledge,
  startFakeKnowledgeAndSearch,
} from "../../packages/web/test/support/fake-knowledge-search.js";
import {
  type FakeModelOptions,
  type FakeModelService,
  startFakeModelService,
} from "../../packages/web/test/support/fake-model-service.js";
import { startWeb, type WebHarness } from "../../packages/web/test/support/web-harness.js";
import { type Browser, ensureUiBuilt, launchBrowser, signUpInUi } from "./browser.js";

/**
 * What a browser test of the UI runs against: the built UI served by the real web service, over
 * stand-ins for the model service and (when asked for) the knowledge and search services.
 */
export interface UiStand {
  model: FakeModelService;
  /** The knowledge and search stand-in; absent unless asked for (the web service then has none). */
  services: FakeKnowledge | undefined;
  web: WebHarness;
  /** Where the web service listens. */
  url: string;
  /**
   * Opens a browser with a fresh profile. One opened in a test closes as the test ends (an idle page
   * of the worker's Chromium still costs it CPU); one opened before the tests, with the stand.
   */
  browser(options?: Parameters<typeof launchBrowser>[0]): Promise<Browser>;
  /** Opens a browser as `browser` does and creates an account in it through the UI (the first one becomes admin). */
  signedIn(username: string, options?: Parameters<typeof launchBrowser>[0]): Promise<Browser>;
  /** Closes the browsers, then the services. */
  close(): Promise<void>;
}

export async function startUiStand(
  options: {
    model?: FakeModelOptions;
    knowledgeAndSearch?: boolean;
    /** The web section's settings beside the defaults (web.oidc for single sign-on). */
    web?: Record<string, unknown>;
  } = {},
): Promise<UiStand> {
  ensureUiBuilt();
  const model = await startFakeModelService(options.model);
  const services = options.knowledgeAndSearch ? await startFakeKnowledgeAndSearch() : undefined;
  const web = await startWeb(
    {
      modelUrl: model.url,
      ...(services ? { knowledgeUrl: services.url, searchUrl: services.url } : {}),
    },
    options.web,
  );
  const url = await web.app.listen({ host: "127.0.0.1", port: 0 });
  const browsers: Browser[] = [];
  const open = async (browserOptions: Parameters<typeof launchBrowser>[0]) => {
    const browser = await launchBrowser(browserOptions);
    browsers.push(browser);
    try {
      onTestFinished(async () => {
        browsers.splice(browsers.indexOf(browser), 1);
        await browser.close();
      });
    } catch {
      // Opened outside a test (beforeAll): it stays until the stand closes.
    }
    return browser;
  };
  return {
    model,
    services,
    web,
    url,
    browser: open,
    async signedIn(username, browserOptions) {
      const browser = await open(browserOptions);
      await signUpInUi(browser.page, url, username);
      return browser;
    },
    async close() {
      for (const browser of browsers.splice(0)) await browser.close();
      await web.close();
      await services?.close();
      await model.close();
    },
  };
}
