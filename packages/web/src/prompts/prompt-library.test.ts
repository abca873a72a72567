import type { Prompt } from "@hearth/contracts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FakeModelService, startFakeModelService } from "../../test/support/fake-model-service.js";
import { createApiKey, type Session, setFilterWords, signUp } from "../../test/support/web-client.js";
import { dialects, startWeb, type WebHarness } from "../../test/support/web-harness.js";

/** The prompt library over the browser API, on each database. */
describe.each(dialects)("prompt library on %s", (dialect) => {
  let model: FakeModelService;
  let web: WebHarness;
  /** The first account: the administrator. */
  let admin: Session;
  const maxMessageChars = 2000;

  beforeAll(async () => {
    model = await startFakeModelService({ models: ["tiny-story"], delayMs: 1 });
    web = await startWeb({ modelUrl: model.url }, { maxMessageChars }, dialect);
    admin = await signUp(web.app, `${dialect}-admin`);
  });
  afterAll(async () => {
    await web.close();
    await model.close();
  });

  let users = 0;
  const newUser = () => signUp(web.app, `${dialect}-user-${++users}`);
  const create = (session: Session, payload: Record<string, unknown>) =>
    web.app.inject({ method: "POST", url: "/api/prompts", headers: session.headers, payload });
  const patch = (session: Session, id: string, payload: Record<string, unknown>) =>
    web.app.inject({ method: "PATCH", url: `/api/prompts/${id}`, headers: session.headers, payload });
  const remove = (session: Session, id: string) =>
    web.app.inject({ method: "DELETE", url: `/api/prompts/${id}`, headers: session.headers });
  const list = async (session: Session) => {
    const response = await web.app.inject({ url: "/api/prompts", headers: session.headers });
    expect(response.statusCode, response.body).toBe(200);
    return response.json() as { prompts: Prompt[]; contentMaxChars: number };
  };
  const made = async (session: Session, payload: Record<string, unknown>) => {
    const response = await create(session, payload);
    expect(response.statusCode, response.body).toBe(201);
    return response.json() as Prompt;
  };

  it("keeps a user's prompts to them, their commands unique without regard to case or width", async () => {
    const alice = await newUser();
    const bob = await newUser();
    const sum = await made(alice, {
      command: "/summarize",
      title: "Summarize",
      content: "Summarize {{topic}}",
    });
    // The "/" typed before it is not part of the command.
    expect(sum).toMatchObject({ command: "summarize", shared: false, editable: true });
    await made(alice, { command: "总结", title: "中文总结", content: "用三句话总结：{{CLIPBOARD}}" });
    for (const command of ["SUMMARIZE", "ｓｕｍｍａｒｉｚｅ", "/Summarize"]) {
      const taken = await create(alice, { command, title: "again", content: "x" });
      expect([taken.statusCode, taken.json().error.code], command).toEqual([409, "PROMPT_COMMAND_TAKEN"]);
    }
    // Another user has the command free, and sees none of Alice's.
    await made(bob, { command: "summarize", title: "Bob's", content: "Bob's words" });
    expect((await list(bob)).prompts.map((p) => p.title)).toEqual(["Bob's"]);
    expect((await list(alice)).prompts.map((p) => p.command)).toEqual(["summarize", "总结"]);
    for (const response of [
      await patch(bob, sum.id, { title: "taken over" }),
      await remove(bob, sum.id),
      // An administrator is no owner of a user's own prompt.
      await patch(admin, sum.id, { title: "taken over" }),
      await remove(admin, sum.id),
    ]) {
      expect([response.statusCode, response.json().error.code]).toEqual([404, "PROMPT_NOT_FOUND"]);
    }
    const renamed = await patch(alice, sum.id, { command: "sum", content: "Summarize {{topic}} briefly" });
    expect(renamed.json()).toMatchObject({ id: sum.id, command: "sum", title: "Summarize" });
    const clash = await patch(alice, sum.id, { command: "总结" });
    expect([clash.statusCode, clash.json().error.code]).toEqual([409, "PROMPT_COMMAND_TAKEN"]);
    expect((await remove(alice, sum.id)).statusCode).toBe(204);
    expect((await list(alice)).prompts.map((p) => p.command)).toEqual(["总结"]);
  });

  it("checks the command, the title and the content against their limits", async () => {
    const carol = await newUser();
    const refused = async (payload: Record<string, unknown>, field: string) => {
      const response = await create(carol, { command: "ok", title: "ok", content: "ok", ...payload });
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      expect(response.json().error.code).toBe("INVALID_REQUEST");
      expect(JSON.stringify(response.json().error.details), JSON.stringify(payload)).toContain(field);
    };
    await refused({ command: "" }, "command");
    await refused({ command: "two words" }, "command");
    await refused({ command: "a.b" }, "command");
    await refused({ command: "x".repeat(51) }, "command");
    await refused({ title: " " }, "title");
    await refused({ title: "t".repeat(101) }, "title");
    await refused({ content: "   " }, "content");
    await refused({ content: "c".repeat(maxMessageChars + 1) }, "content");
    await refused({ shared: "yes" }, "shared");
    // At the limits, and the CJK, digits, "-" and "_" a command may hold.
    await made(carol, {
      command: "x".repeat(50),
      title: "t".repeat(100),
      content: "c".repeat(maxMessageChars),
    });
    await made(carol, { command: "会议-纪要_2", title: "Minutes", content: "Minutes of {{meeting}}" });
    expect((await list(carol)).contentMaxChars).toBe(maxMessageChars);
  });

  it("refuses a blocked word in a prompt's title or content when it is saved, keeping what was stored", async () => {
    const dave = await newUser();
    const kept = await made(dave, { command: "brief", title: "Brief", content: "Summarise {{text}}" });
    await setFilterWords(web.app, admin, ["forbidden"]);
    try {
      for (const response of [
        await create(dave, { command: "bad", title: "Bad", content: "say forbidden things" }),
        await create(dave, { command: "bad", title: "A forbidden title", content: "fine" }),
        await patch(dave, kept.id, { content: "now forbidden" }),
        await create(dave, { command: "bad", title: "Bad", content: "ＦＯＲＢＩＤＤＥＮ, in full width" }),
      ]) {
        expect(response.statusCode, response.body).toBe(422);
        expect(response.json().error.code).toBe("CONTENT_BLOCKED");
      }
    } finally {
      await setFilterWords(web.app, admin, []);
    }
    expect((await list(dave)).prompts.filter((p) => !p.shared)).toEqual([kept]);
  });

  it("shares an administrator's prompt with everyone, changed only by administrators and audited", async () => {
    const dave = await newUser();
    const refused = await create(dave, { command: "team", title: "Team", content: "x", shared: true });
    expect([refused.statusCode, refused.json().error.code]).toEqual([403, "ADMIN_REQUIRED"]);
    const shared = await made(admin, {
      command: "translate",
      title: "Translate",
      content: "Translate: ",
      shared: true,
    });
    expect(shared).toMatchObject({ shared: true, editable: true });
    // Everyone sees it, and may not change or delete it.
    expect((await list(dave)).prompts).toContainEqual(
      expect.objectContaining({ id: shared.id, shared: true, editable: false }),
    );
    for (const response of [await patch(dave, shared.id, { title: "mine" }), await remove(dave, shared.id)])
      expect([response.statusCode, response.json().error.code]).toEqual([403, "ADMIN_REQUIRED"]);
    // Another shared prompt may not take its command; a user's own may, and wins in their list.
    const twice = await create(admin, { command: "TRANSLATE", title: "again", content: "x", shared: true });
    expect([twice.statusCode, twice.json().error.code]).toEqual([409, "PROMPT_COMMAND_TAKEN"]);
    const own = await made(dave, { command: "Translate", title: "My translate", content: "Into French: " });
    const listed = (await list(dave)).prompts.filter((p) => p.command.toLowerCase() === "translate");
    expect(listed.map((p) => [p.title, p.shared, p.shadowedBy])).toEqual([
      ["My translate", false, undefined],
      ["Translate", true, own.id],
    ]);
    // The administrator changes it, takes it back as their own, shares it again, deletes it.
    expect((await patch(admin, shared.id, { content: "Translate into English: " })).statusCode).toBe(200);
    expect((await patch(admin, shared.id, { shared: false })).json()).toMatchObject({ shared: false });
    expect((await list(dave)).prompts.some((p) => p.id === shared.id)).toBe(false);
    expect((await patch(admin, shared.id, { shared: true })).json()).toMatchObject({ shared: true });
    expect((await remove(admin, shared.id)).statusCode).toBe(204);
    const log = await web.db
      .selectFrom("audit_log")
      .select(["action", "target", "actor_id"])
      .where("action", "like", "prompt.%")
      .orderBy("id")
      .execute();
    expect(log).toEqual([
      { action: "prompt.shared-create", target: shared.id, actor_id: admin.userId },
      { action: "prompt.shared-change", target: shared.id, actor_id: admin.userId },
      { action: "prompt.shared-change", target: shared.id, actor_id: admin.userId },
      { action: "prompt.shared-change", target: shared.id, actor_id: admin.userId },
      { action: "prompt.shared-delete", target: shared.id, actor_id: admin.userId },
    ]);
    // A user's own prompts are not audited.
    expect(log.some((entry) => entry.target === own.id)).toBe(false);
  });

  it("opens to no API key, and a user's prompts go with their account; shared ones stay", async () => {
    const erin = await newUser();
    const key = await createApiKey(web.app, erin);
    const byKey = await web.app.inject({ url: "/api/prompts", headers: { authorization: `Bearer ${key}` } });
    expect(byKey.statusCode).toBe(401);
    const otherAdmin = await newUser();
    await web.app.inject({
      method: "PATCH",
      url: `/api/admin/users/${otherAdmin.userId}`,
      headers: admin.headers,
      payload: { role: "admin" },
    });
    const kept = await made(otherAdmin, { command: "kept", title: "Kept", content: "stays", shared: true });
    await made(erin, { command: "gone", title: "Gone", content: "goes" });
    for (const session of [erin, otherAdmin]) {
      const deleted = await web.app.inject({
        method: "DELETE",
        url: `/api/admin/users/${session.userId}`,
        headers: admin.headers,
      });
      expect(deleted.statusCode, deleted.body).toBe(204);
    }
    const rows = await web.db.selectFrom("prompts").select(["command", "created_by"]).execute();
    expect(rows.find((row) => row.command === "gone")).toBeUndefined();
    expect(rows.find((row) => row.command === "kept")).toEqual({ command: "kept", created_by: null });
    expect((await list(admin)).prompts).toContainEqual(
      expect.objectContaining({ id: kept.id, editable: true }),
    );
  });
});
