import { lstat, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ModelRegistry, parsePullReference } from "../../packages/model/src/index.js";
import { partialHolds, startRegistryServer } from "../../packages/model/test/registry-server.js";
import { startModelService } from "../../packages/model/test/start-model-service.js";
import {
  type FakeKnowledge,
  startFakeKnowledgeAndSearch,
} from "../../packages/web/test/support/fake-knowledge-search.js";
import { type Session, signIn, signUp } from "../../packages/web/test/support/web-client.js";
import { startWeb, type WebHarness } from "../../packages/web/test/support/web-harness.js";
import {
  type Browser,
  ensureUiBuilt,
  hasChromium,
  launchBrowser,
  screenshot,
  signUpInUi,
} from "../support/browser.js";
import { tinyGgufBytes } from "../support/tiny-gguf.js";

const first = tinyGgufBytes({ seed: 21 });
const second = tinyGgufBytes({ seed: 22 });
/** A model padded past 512 KiB (bytes no tensor uses): held part-way, its download has reported progress. */
const padded = (seed: number) => {
  const model = tinyGgufBytes({ seed });
  const file = new Uint8Array(model.length + 700_000);
  file.set(model);
  return file;
};
const slow = padded(25);
const slowHalf = Math.floor(slow.length / 2);
const halted = padded(26);
/**
 * Where halted's download is held: past its first progress report (256 KiB), and short of slowHalf
 * (its partial file is kept, and the last test waits for a partial file to hold slowHalf bytes).
 */
const haltedAt = 300_000;

/** A gate: the registry server holds an answer part-way until `open` is called. */
function gate() {
  let open!: () => void;
  const until = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { until, open };
}

/** A streamed answer's text as it arrives; `done` settles when it ends (or is aborted). */
function readAsItComes(response: Response) {
  const read = { text: "", done: Promise.resolve() };
  read.done = (async () => {
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) read.text += chunk.value;
  })().catch(() => undefined);
  return read;
}

/**
 * Issue 6's admin models page on the real model service's registry: pull with progress, the
 * versions with semver, digest, date and changelog, and a rollback (confirmed) that switches the
 * model served, is audited, and is refused to non-admins.
 */
describe("model versions and rollback through the web service", () => {
  let dir: string;
  let registryServer: Awaited<ReturnType<typeof startRegistryServer>>;
  let model: Awaited<ReturnType<typeof startModelService>>;
  let services: FakeKnowledge;
  let web: WebHarness;
  let admin: Session;
  let user: Session;
  let browser: Browser | undefined;
  let url: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "hearth-e2e-versions-"));
    registryServer = await startRegistryServer([
      { reference: "library/tiny:latest", bytes: first },
      { reference: "library/tiny:v2", bytes: second },
      { reference: "library/slow:latest", bytes: slow },
      { reference: "library/halted:latest", bytes: halted },
    ]);
    model = await startModelService(dir);
    services = await startFakeKnowledgeAndSearch();
    web = await startWeb({ modelUrl: model.url, knowledgeUrl: services.url, searchUrl: services.url });
    url = await web.app.listen({ host: "127.0.0.1", port: 0 });
    if (hasChromium) {
      ensureUiBuilt();
      browser = await launchBrowser({ locale: "en-US" });
    }
  });
  afterAll(async () => {
    await browser?.close();
    await web?.close();
    await services?.close();
    await model?.close();
    await registryServer?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("declares the version routes admin-only", () => {
    const routes = web.routes.map((route) => `${route.access} ${route.method} ${route.url}`);
    expect(routes).toEqual(
      expect.arrayContaining([
        "admin GET /api/admin/models/versions",
        "admin GET /api/admin/models/:model/versions",
        "admin POST /api/admin/models/:model/rollback",
      ]),
    );
  });

  it.skipIf(!hasChromium)(
    "pulls with progress, shows the versions and rolls back after confirmation",
    async () => {
      const { page } = browser!;
      await signUpInUi(page, url, "root");
      await page.getByRole("link", { name: "Admin" }).click();
      await page.getByRole("tab", { name: "Models" }).click();
      const pullButton = page.getByRole("button", { name: "Pull", exact: true });

      // A pull cancelled part-way: its download stops, the row says so (not as an error), nothing is
      // installed. It goes on while another admin tab is shown, and Models shown again shows its
      // progress and Cancel; a pull of another model meanwhile has its own row.
      const haltedReference = `${registryServer.url}/library/halted:latest`;
      const tinyReference = `${registryServer.url}/library/tiny:latest`;
      const haltedRow = page.locator(".pulls li", { hasText: haltedReference });
      const tinyRow = page.locator(".pulls li", { hasText: tinyReference });
      const held = gate();
      registryServer.state.pauseNextAt = [{ at: haltedAt, until: held.until }];
      await page.getByLabel(/Pull a model/).fill(haltedReference);
      await pullButton.click();
      try {
        await partialHolds(dir, haltedAt);
        // Started: the field is cleared; the same reference typed again cannot be pulled twice.
        expect(await page.getByLabel(/Pull a model/).inputValue()).toBe("");
        await page.getByLabel(/Pull a model/).fill(haltedReference);
        expect(await pullButton.isDisabled()).toBe(true);
        await page.getByLabel(/Pull a model/).fill("");
        await page.getByRole("tab", { name: "Users" }).click();
        await page.getByRole("tab", { name: "Users", selected: true }).waitFor();
        expect(await page.getByRole("button", { name: "Cancel pull" }).count()).toBe(0);
        await page.getByRole("tab", { name: "Models" }).click();
        await expect
          .poll(() => haltedRow.locator("output").textContent())
          .toMatch(/^Downloading [0-9a-f]{12} \d+%$/);
        await page.getByLabel(/Pull a model/).fill(tinyReference);
        await pullButton.click();
        // Given time: on a busy machine the pull's last steps take more than the poll's default second.
        await expect
          .poll(() => tinyRow.locator("output").textContent(), { timeout: 30_000 })
          .toBe("Done: tiny:latest 1.0.0 installed");
        // Started, the field is cleared for the next pull.
        expect(await page.getByLabel(/Pull a model/).inputValue()).toBe("");
        expect(await haltedRow.locator("output").textContent()).toMatch(/^Downloading /);
        await haltedRow.getByRole("button", { name: "Cancel pull" }).click();
        await expect.poll(() => haltedRow.locator("output").textContent()).toBe("Pull cancelled");
        await expect
          .poll(() => registryServer.state.leftEarly, { timeout: 10_000 })
          .toContain(`/v2/library/halted/blobs/${registryServer.digestOf(halted)}`);
      } finally {
        held.open();
      }
      expect(await page.getByRole("button", { name: "Cancel pull" }).count()).toBe(0);
      // Focus goes from the Cancel button, gone with the pull, to the Dismiss of its outcome, kept.
      await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe("Dismiss");
      expect(await haltedRow.getByRole("button", { name: "Dismiss" }).count()).toBe(1);
      expect(await page.getByRole("list", { name: "Versions: halted:latest" }).count()).toBe(0);
      expect((await new ModelRegistry(dir).list()).map((m) => m.name)).not.toContain("halted:latest");
      // The pull that ended here had the models read again.
      const versions = page.getByRole("list", { name: "Versions: tiny:latest" });
      await expect.poll(() => versions.locator("li").count()).toBe(1);
      // New weights under the same name (as `hearth models pull --name tiny` does): version 1.1.0.
      await new ModelRegistry(dir).pull(
        parsePullReference(`${registryServer.url}/library/tiny:v2`, { name: "tiny" }),
      );
      await page.reload();
      await page.getByRole("tab", { name: "Models" }).click();
      await expect.poll(() => versions.locator("li").count()).toBe(2);
      const current = versions.locator("li[data-current]");
      expect(await current.locator("strong").textContent()).toBe("1.1.0");
      expect(await current.locator("code").textContent()).toBe(registryServer.digestOf(second).slice(7, 19));
      expect(await current.textContent()).toMatch(/pulled from .*library\/tiny:v2/);
      expect(await versions.locator("li").nth(1).textContent()).toContain("1.0.0");
      expect(await versions.locator("time").first().getAttribute("datetime")).toMatch(/^\d{4}-\d\d-\d\dT/);
      await screenshot(page, "web-ui-model-versions-en");

      // Dismissing the confirmation changes nothing.
      page.once("dialog", (dialog) => void dialog.dismiss());
      await page.getByRole("button", { name: "Roll back: tiny:latest" }).click();
      await new Promise((settle) => setTimeout(settle, 300));
      expect((await new ModelRegistry(dir).list())[0]?.version).toBe("1.1.0");

      let question = "";
      page.once("dialog", (dialog) => {
        question = dialog.message();
        void dialog.accept();
      });
      await page.getByRole("button", { name: "Roll back: tiny:latest" }).click();
      await expect.poll(() => current.locator("strong").textContent()).toBe("1.0.0");
      expect(question).toContain("tiny:latest from 1.1.0 to 1.0.0");
      // Back on 1.0.0, the version offered is newer: a roll forward, said so (not "Roll back to 1.1.0").
      expect(await page.getByRole("combobox", { name: "Switch to: tiny:latest" }).inputValue()).toBe("1.1.0");
      expect(await page.getByRole("button", { name: "Roll back: tiny:latest" }).count()).toBe(0);
      expect(await page.getByRole("button", { name: "Roll forward: tiny:latest" }).textContent()).toBe(
        "Roll forward",
      );
      // The model service now serves the old weights, and the rollback is in the audit log.
      const tags = (await (await fetch(`${model.url}/api/tags`)).json()) as {
        models: Array<{ name: string; digest: string }>;
      };
      expect(`sha256:${tags.models.find((m) => m.name === "tiny:latest")?.digest}`).toBe(
        registryServer.digestOf(first),
      );
      const entry = await web.db
        .selectFrom("audit_log")
        .selectAll()
        .where("action", "=", "model.rollback")
        .executeTakeFirstOrThrow();
      expect(entry.target).toBe("tiny:latest");
      expect(JSON.parse(entry.details!)).toMatchObject({ from: "1.1.0", to: "1.0.0" });

      await page.getByRole("combobox", { name: "Language" }).selectOption("zh-CN");
      await page.getByRole("button", { name: "升级：tiny:latest" }).waitFor();
      expect(await page.getByRole("list", { name: "版本：tiny:latest" }).textContent()).toContain("当前");
      await screenshot(page, "web-ui-model-versions-zh");
      await page.getByRole("combobox", { name: "语言" }).selectOption("en");
    },
  );

  it.skipIf(!hasChromium)(
    "marks a version whose weights were lost, offers no rollback to it, and says what a delete did with the weights",
    async () => {
      const { page } = browser!;
      const registry = new ModelRegistry(dir);
      const file = join(dir, "lossy.gguf");
      const lossyNow = async () => (await registry.list()).find((m) => m.name === "lossy:latest");
      // Registered (by this listing or the running service's scan, whichever comes first): a link to its blob.
      await writeFile(file, tinyGgufBytes({ seed: 23 }));
      await expect.poll(async () => (await lossyNow())?.version, { timeout: 30_000 }).toBe("1.0.0");
      await expect.poll(async () => (await lstat(file)).isSymbolicLink(), { timeout: 30_000 }).toBe(true);
      // Overwritten in place (written through the link, into the blob): 1.0.0's weights are lost.
      await writeFile(file, tinyGgufBytes({ seed: 24 }));
      await expect.poll(async () => (await lossyNow())?.lostVersions, { timeout: 30_000 }).toEqual(["1.0.0"]);
      const lossy = (await lossyNow())!;
      expect(lossy.version).toBe("1.1.0");
      await registry.copy("lossy", "lossy:copy");
      // The model service learns of both by its scan of the models dir: the page is loaded once it has.
      const listed = async () => {
        const answer = await page.request.get(`${url}/api/admin/models`);
        const body = (await answer.json()) as { models: Array<{ id: string }> };
        return body.models
          .map((m) => m.id)
          .filter((id) => id.startsWith("lossy"))
          .sort();
      };
      await expect.poll(listed, { timeout: 30_000 }).toEqual(["lossy:copy", "lossy:latest"]);
      await page.reload();
      await page.getByRole("tab", { name: "Models" }).click();
      const versions = page.getByRole("list", { name: "Versions: lossy:latest" });
      await expect.poll(() => versions.locator("li").count(), { timeout: 10_000 }).toBe(2);
      expect(await versions.locator("li").nth(1).textContent()).toMatch(/^1\.0\.0.*\(weights lost\)/);
      expect(await versions.locator("li").nth(0).textContent()).not.toContain("weights lost");
      // Its only other version is lost: no rollback is offered (tiny's still is).
      expect(await page.getByRole("button", { name: /^Roll (back|forward): lossy:latest$/ }).count()).toBe(0);
      expect(await page.getByRole("button", { name: /^Roll (back|forward): tiny:latest$/ }).count()).toBe(1);
      await page.getByRole("combobox", { name: "Language" }).selectOption("zh-CN");
      await expect
        .poll(async () =>
          page.getByRole("list", { name: "版本：lossy:latest" }).locator("li").nth(1).textContent(),
        )
        .toMatch(/^1\.0\.0.*（权重已丢失）/);
      await page.getByRole("combobox", { name: "语言" }).selectOption("en");

      const said = page.locator(".models-said");
      let question = "";
      page.once("dialog", (dialog) => {
        question = dialog.message();
        void dialog.accept();
      });
      await page.getByRole("button", { name: "Delete: lossy:copy" }).click();
      const short = `sha256:${lossy.digest.slice(7, 19)}`;
      await expect
        .poll(() => said.textContent(), { timeout: 10_000 })
        .toBe(`Deleted lossy:copy. Kept its weights ${short}: still used by lossy:latest.`);
      expect(question).toMatch(/^Delete lossy:copy\? Its weights are deleted too, unless another model/);
      page.once("dialog", (dialog) => void dialog.accept());
      await page.getByRole("button", { name: "Delete: lossy:latest" }).click();
      await expect
        .poll(() => said.textContent(), { timeout: 10_000 })
        .toBe(`Deleted lossy:latest. Deleted its weights ${short}: no other model used them.`);
      await page.getByRole("combobox", { name: "Language" }).selectOption("zh-CN");
      await expect
        .poll(() => said.textContent())
        .toBe(`已删除 lossy:latest。已删除其权重 ${short}：没有其他模型使用。`);
      await page.getByRole("combobox", { name: "语言" }).selectOption("en");
      expect((await registry.list()).map((m) => m.name)).toEqual(["tiny:latest"]);
    },
  );

  it("answers versions and rollbacks to admins with the registry's codes, and refuses users", async () => {
    // The first account is the admin: "root" signed up in the browser, or here when there is none.
    admin = hasChromium ? await signIn(web.app, "root") : await signUp(web.app, "root");
    user = await signUp(web.app, "plain");
    if ((await new ModelRegistry(dir).list()).length === 0) {
      await new ModelRegistry(dir).pull(
        parsePullReference(`${registryServer.url}/library/tiny:latest`, { name: "tiny" }),
      );
      await new ModelRegistry(dir).pull(
        parsePullReference(`${registryServer.url}/library/tiny:v2`, { name: "tiny" }),
      );
    }
    const list = await web.app.inject({ url: "/api/admin/models/versions", headers: admin.headers });
    expect(list.statusCode).toBe(200);
    expect(list.json()).toMatchObject({ reachable: true, models: [{ name: "tiny:latest" }] });
    const versions = await web.app.inject({
      url: "/api/admin/models/tiny:latest/versions",
      headers: admin.headers,
    });
    expect(versions.json().versions.map((v: { version: string }) => v.version)).toEqual(["1.0.0", "1.1.0"]);

    const rollback = (session: Session, model: string, payload: { to?: string } = {}) =>
      web.app.inject({
        method: "POST",
        url: `/api/admin/models/${model}/rollback`,
        headers: session.headers,
        payload,
      });
    const refused = await rollback(user, "tiny:latest");
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.code).toBe("ADMIN_REQUIRED");

    const rolled = await rollback(admin, "tiny:latest", { to: "1.1.0" });
    expect(rolled.statusCode).toBe(200);
    expect(rolled.json()).toMatchObject({ name: "tiny:latest", version: "1.1.0" });

    const missing = await rollback(admin, "nothere");
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe("MODEL_NOT_FOUND");
    // Deleting what the model service cannot find: its message, in the web's error format.
    const deleted = await web.app.inject({
      method: "DELETE",
      url: "/api/admin/models/nothere",
      headers: admin.headers,
    });
    expect(deleted.statusCode).toBe(404);
    expect(deleted.json().error).toEqual({
      code: "MODEL_NOT_FOUND",
      message: expect.stringContaining("nothere"),
    });
    const noVersion = await rollback(admin, "tiny:latest", { to: "7.0.0" });
    expect(noVersion.statusCode).toBe(404);
    expect(noVersion.json().error.code).toBe("MODEL_VERSION_NOT_FOUND");
    expect((await new ModelRegistry(dir).list())[0]?.version).toBe("1.1.0");
  });

  it("deletes a model, answering which weights it kept (another model uses them) and which it deleted", async () => {
    // Also run alone (-t): the admin and the model the tests before it leave, made here when missing.
    admin ??= await signUp(web.app, "root");
    const registry = new ModelRegistry(dir);
    if ((await registry.list()).length === 0)
      await registry.pull(parsePullReference(`${registryServer.url}/library/tiny:latest`, { name: "tiny" }));
    const current = (await registry.list()).find((m) => m.name === "tiny:latest")!;
    await registry.copy("tiny", "tiny:copy");
    const remove = (model: string) =>
      web.app.inject({ method: "DELETE", url: `/api/admin/models/${model}`, headers: admin.headers });
    const kept = await remove("tiny:copy");
    expect(kept.statusCode).toBe(200);
    expect(kept.json()).toEqual({
      model: "tiny:copy",
      deletedWeights: [],
      keptWeights: [{ digest: current.digest, usedBy: ["tiny:latest"] }],
    });
    // The last name of its weights: they are deleted with it (and the model is gone).
    await registry.copy("tiny", "tiny:solo");
    await registry.remove("tiny");
    const deleted = await remove("tiny:solo");
    expect(deleted.statusCode).toBe(200);
    expect(deleted.json()).toEqual({
      model: "tiny:solo",
      deletedWeights: [{ digest: current.digest, size: expect.any(Number) }],
      keptWeights: [],
    });
    expect(await registry.list()).toEqual([]);
    const entries = await web.db
      .selectFrom("audit_log")
      .select("target")
      .where("action", "=", "model.delete")
      .where("target", "like", "tiny:%")
      .execute();
    expect(entries.map((e) => e.target)).toEqual(["tiny:copy", "tiny:solo"]);
  });

  it("stops a pull's download when its only administrator cancels it, and not while another pull of it goes on", async () => {
    admin ??= await signUp(web.app, "root");
    const reference = `${registryServer.url}/library/slow:latest`;
    const digest = registryServer.digestOf(slow);
    const blobPath = `/v2/library/slow/blobs/${digest}`;
    const pull = (signal?: AbortSignal) =>
      fetch(`${url}/api/admin/models/pull`, {
        method: "POST",
        headers: { ...admin.headers, "content-type": "application/json" },
        body: JSON.stringify({ model: reference }),
        signal,
      });
    const cancelledPulls = async () =>
      (
        await web.db
          .selectFrom("audit_log")
          .select("details")
          .where("action", "=", "model.pull-failed")
          .where("target", "=", reference)
          .execute()
      ).filter((entry) => JSON.parse(entry.details!).cancelled === true).length;
    const installed = async () => (await new ModelRegistry(dir).list()).map((m) => m.name);
    /** The downloads of its file the registry saw stopped (its connection closed before the last byte). */
    const stoppedDownloads = () => registryServer.state.leftEarly.filter((path) => path === blobPath).length;

    // Alone: the administrator cancels (the page aborts its request) with half the file received.
    // The model service stops downloading: the registry sees its connection closed.
    const stopped = gate();
    registryServer.state.pauseNextAt = [{ at: slowHalf, until: stopped.until }];
    const cancelling = new AbortController();
    const alone = readAsItComes(await pull(cancelling.signal));
    try {
      await partialHolds(dir, slowHalf);
      cancelling.abort();
      await alone.done;
      await expect.poll(stoppedDownloads, { timeout: 10_000 }).toBe(1);
    } finally {
      stopped.open();
    }
    await expect.poll(cancelledPulls, { timeout: 10_000 }).toBe(1);
    // Nothing installed; the lock released, the bytes received kept for the next pull to resume from.
    await expect.poll(() => readdir(join(dir, ".hearth", "pulls")), { timeout: 10_000 }).toEqual([]);
    expect(await readdir(join(dir, ".hearth", "blobs"))).toContain(`${digest.replace(":", "-")}.partial`);
    expect(await installed()).not.toContain("slow:latest");

    // Two pulls of it at once (two administrators, or two tabs): one cancels, the other goes on,
    // resuming from the bytes kept, and installs it.
    const held = gate();
    registryServer.state.pauseNextAt = [{ at: 1000, until: held.until }];
    const requestsBefore = registryServer.state.requests.length;
    const leaving = new AbortController();
    const left = readAsItComes(await pull(leaving.signal));
    let staying: ReturnType<typeof readAsItComes>;
    try {
      await partialHolds(dir, slowHalf + 1000);
      staying = readAsItComes(await pull());
      // Joined: told at once how far the shared download has come.
      await expect.poll(() => /"completed":[1-9]/.test(staying.text), { timeout: 10_000 }).toBe(true);
      leaving.abort();
      await left.done;
      await expect.poll(cancelledPulls, { timeout: 10_000 }).toBe(2);
      // Given a moment for the model service to see its connection close before the download goes on.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(stoppedDownloads()).toBe(1);
    } finally {
      held.open();
    }
    await staying.done;
    expect(JSON.parse(staying.text.trim().split("\n").at(-1)!)).toMatchObject({
      status: "success",
      name: "slow:latest",
      digest,
    });
    expect(registryServer.state.requests.slice(requestsBefore)).toEqual([blobPath]);
    expect(registryServer.state.ranges.at(-1)).toBe(`bytes=${slowHalf}-`);
    expect(stoppedDownloads()).toBe(1);
    expect(await installed()).toContain("slow:latest");
  });
});
