/**
 * Knowledge-base names through the web service, on the real knowledge service (`hearth serve
 * knowledge`): unique per owner only, compared case-insensitively, so that one user never learns
 * another's private base names from a 409 nor can squat them.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type FakeModelService,
  startFakeModelService,
} from "../../packages/web/test/support/fake-model-service.js";
import { type Session, signUp } from "../../packages/web/test/support/web-client.js";
import { startWeb, type WebHarness } from "../../packages/web/test/support/web-harness.js";
import { type HearthProcess, startHearth } from "../support/hearth-process.js";
import { freePort } from "../support/ports.js";

describe("knowledge-base names through the web service", () => {
  let dataDir: string;
  let knowledge: HearthProcess;
  let model: FakeModelService;
  let web: WebHarness;
  let admin: Session;
  let alice: Session;
  let bob: Session;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "hearth-kb-names-"));
    const port = await freePort();
    knowledge = startHearth(["serve", "knowledge"], {
      HEARTH_DATA_DIR: dataDir,
      HEARTH_KNOWLEDGE_PORT: String(port),
    });
    await knowledge.waitFor(/knowledge service ready at/, 60_000);
    model = await startFakeModelService();
    web = await startWeb({ modelUrl: model.url, knowledgeUrl: `http://127.0.0.1:${port}` });
    admin = await signUp(web.app, "admin");
    alice = await signUp(web.app, "alice");
    bob = await signUp(web.app, "bob");
  }, 90_000);
  afterAll(async () => {
    await web?.close();
    await model?.close();
    await knowledge?.kill();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const create = (session: Session, payload: Record<string, unknown>) =>
    web.app.inject({ method: "POST", url: "/api/knowledge-bases", headers: session.headers, payload });
  const rename = (session: Session, id: string, name: string) =>
    web.app.inject({
      method: "PATCH",
      url: `/api/knowledge-bases/${id}`,
      headers: session.headers,
      payload: { name },
    });
  const names = async (session: Session) =>
    (
      (await web.app.inject({ url: "/api/knowledge-bases", headers: session.headers })).json() as {
        knowledgeBases: Array<{ name: string }>;
      }
    ).knowledgeBases.map((base) => base.name);
  /** The names of the bases the user owns (an administrator sees everyone's). */
  const ownNames = async (session: Session) =>
    (
      (await web.app.inject({ url: "/api/knowledge-bases", headers: session.headers })).json() as {
        knowledgeBases: Array<{ name: string; owned: boolean }>;
      }
    ).knowledgeBases
      .filter((base) => base.owned)
      .map((base) => base.name)
      .sort();

  it("lets another user create a name a private base already has, revealing nothing", async () => {
    const secret = await create(alice, { name: "Secret Merger Plans 2027", visibility: "private" });
    expect(secret.statusCode).toBe(201);
    const same = await create(bob, { name: "Secret Merger Plans 2027", visibility: "private" });
    expect(same.statusCode).toBe(201);
    expect(same.json().id).not.toBe(secret.json().id);
    expect(await names(bob)).toEqual(["Secret Merger Plans 2027"]);
    expect(await names(alice)).toEqual(["Secret Merger Plans 2027"]);
  });

  it("refuses a second base of one owner with the same name, whatever its case", async () => {
    const again = await create(bob, { name: "secret MERGER plans 2027" });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe("KNOWLEDGE_BASE_NAME_TAKEN");
    const other = await create(bob, { name: "Roadmap" });
    expect(other.statusCode).toBe(201);
    const renamed = await rename(bob, other.json().id, "SECRET merger plans 2027");
    expect(renamed.statusCode).toBe(409);
    expect(renamed.json().error.code).toBe("KNOWLEDGE_BASE_NAME_TAKEN");
  });

  it("lets a user rename a base to a name only another user has", async () => {
    const mine = await create(alice, { name: "Drafts" });
    expect(mine.statusCode).toBe(201);
    const renamed = await rename(alice, mine.json().id, "roadmap");
    expect(renamed.statusCode).toBe(200);
    expect(renamed.json().name).toBe("roadmap");
  });

  it("renames a deleted user's base whose name its new owner has, in the same change, and says so", async () => {
    const hank = await signUp(web.app, "hank");
    for (const name of ["Docs KB", "Notes", "notes (hank)"])
      expect((await create(admin, { name })).statusCode).toBe(201);
    // A second "Docs KB" of the admin's own is refused: the rule the transfer keeps.
    expect((await create(admin, { name: "docs KB" })).json().error.code).toBe("KNOWLEDGE_BASE_NAME_TAKEN");
    const docs = (await create(hank, { name: "docs kb" })).json() as { id: string };
    const notes = (await create(hank, { name: "NOTES" })).json() as { id: string };
    const plans = (await create(hank, { name: "Plans" })).json() as { id: string };

    const deleted = await web.app.inject({
      method: "DELETE",
      url: `/api/admin/users/${hank.userId}`,
      headers: admin.headers,
    });
    expect(deleted.statusCode).toBe(204);
    expect(await ownNames(admin)).toEqual(
      ["Docs KB", "Notes", "notes (hank)", "docs kb (hank)", "NOTES (hank 2)", "Plans"].sort(),
    );
    const audit = await web.app.inject({
      url: "/api/admin/audit?action=user.delete",
      headers: admin.headers,
    });
    expect(audit.json().entries[0].details).toEqual({
      knowledgeBasesTo: admin.userId,
      knowledgeBases: [docs.id, notes.id, plans.id],
      renamedKnowledgeBases: [
        { id: docs.id, from: "docs kb", to: "docs kb (hank)" },
        { id: notes.id, from: "NOTES", to: "NOTES (hank 2)" },
      ],
    });
    // Its own name again, in another case too, is no clash; another base's name still is.
    expect((await rename(admin, docs.id, "docs kb (hank)")).statusCode).toBe(200);
    expect((await rename(admin, docs.id, "Docs KB (Hank)")).json().name).toBe("Docs KB (Hank)");
    expect((await rename(admin, docs.id, "notes")).json().error.code).toBe("KNOWLEDGE_BASE_NAME_TAKEN");
  });

  it("lets a base an earlier release moved beside an equal name keep its own name", async () => {
    const ivy = await signUp(web.app, "ivy");
    const mine = (await create(admin, { name: "Handbook" })).json() as { id: string };
    const moved = (await create(ivy, { name: "handbook" })).json() as { id: string };
    // As a user deletion moved bases before it renamed any: the admin now has both names.
    await web.db
      .updateTable("knowledge_bases")
      .set({ owner_id: admin.userId })
      .where("id", "=", moved.id)
      .execute();
    const changed = await web.app.inject({
      method: "PATCH",
      url: `/api/knowledge-bases/${moved.id}`,
      headers: admin.headers,
      payload: { name: "handbook", description: "From ivy" },
    });
    expect(changed.statusCode).toBe(200);
    expect(changed.json()).toMatchObject({ name: "handbook", description: "From ivy" });
    expect((await rename(admin, mine.id, "Handbook")).statusCode).toBe(200);
  });
});
