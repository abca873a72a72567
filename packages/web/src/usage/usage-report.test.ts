import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Session, signUp } from "../../test/support/web-client.js";
import { dialects, startWeb, type WebHarness } from "../../test/support/web-harness.js";
import { loadCurrentUser } from "../accounts/account-store.js";
import type { SettingsStore } from "../settings/settings-store.js";
import { UsageMeter } from "./usage-meter.js";

const noLimits = { get: async () => ({ userLimits: {}, groupLimits: {} }) } as unknown as SettingsStore;

interface Report {
  usage: Array<{
    userId: string;
    username: string | null;
    userDeleted: boolean;
    apiKeyId: string | null;
    apiKeyName: string | null;
    groups: string[] | null;
    groupIds: string[] | null;
    promptTokens: number;
    completionTokens: number;
  }>;
  groupTotals: Array<{ groupId: string; group: string; requests: number; promptTokens: number }>;
}

describe.each(dialects)("usage report on %s", (dialect) => {
  let web: WebHarness;
  let admin: Session;
  let meter: UsageMeter;

  beforeAll(async () => {
    web = await startWeb({ modelUrl: "http://127.0.0.1:9" }, {}, dialect);
    admin = await signUp(web.app, "admin");
    meter = new UsageMeter(web.db, noLimits);
  });
  afterAll(async () => {
    await web.close();
  });

  const call = (method: string, url: string, payload?: object) =>
    web.app.inject({ method: method as "GET", url, headers: admin.headers, payload });
  const createGroup = async (name: string): Promise<string> =>
    (await call("POST", "/api/admin/groups", { name })).json().id;
  const setMembers = (groupId: string, userIds: string[]) =>
    call("PUT", `/api/admin/groups/${groupId}/members`, { userIds });
  let clock = Date.now() - 60_000;
  /**
   * A request by the user as they are now (each a second after the last), `promptTokens` tokens in
   * and 1 out, through the API key `apiKeyId` if given.
   */
  const use = async (userId: string, promptTokens: number, apiKeyId?: string) => {
    const user = await loadCurrentUser(web.db, userId);
    clock += 1000;
    const admitted = await meter.admit(user!, { model: "m", ...(apiKeyId ? { apiKeyId } : {}) }, clock);
    await admitted.settle({ promptTokens, completionTokens: 1 });
    await meter.flush();
  };
  const report = async () => (await call("GET", "/api/admin/usage")).json() as Report;
  const csv = async () => (await call("GET", "/api/admin/usage?format=csv")).body;

  it("attributes usage to the groups the user was in at the time, after the group is deleted and the user moves", async () => {
    const alice = await signUp(web.app, "alice");
    const finance = await createGroup("finance");
    const sales = await createGroup("sales");
    await setMembers(finance, [alice.userId]);
    await use(alice.userId, 100);
    expect((await call("DELETE", `/api/admin/groups/${finance}`)).statusCode).toBe(204);
    await setMembers(sales, [alice.userId]);
    await use(alice.userId, 200);

    const { usage, groupTotals } = await report();
    expect(usage.filter((row) => row.username === "alice")).toEqual([
      expect.objectContaining({ groups: ["finance"], groupIds: [finance], promptTokens: 100 }),
      expect.objectContaining({ groups: ["sales"], groupIds: [sales], promptTokens: 200 }),
    ]);
    expect(groupTotals).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ groupId: finance, group: "finance", requests: 1, promptTokens: 100 }),
        expect.objectContaining({ groupId: sales, group: "sales", requests: 1, promptTokens: 200 }),
      ]),
    );
    const text = await csv();
    expect(text).toContain(`"alice","finance","m","","","1","100","1","1","${finance}"`);
    expect(text).toContain(`"alice","sales","m","","","1","200","1","1","${sales}"`);
  });

  it("counts a user in two groups toward each, and keeps the name a group had when it was used", async () => {
    const bob = await signUp(web.app, "bob");
    const ops = await createGroup("ops");
    const research = await createGroup("research");
    await setMembers(ops, [bob.userId]);
    await setMembers(research, [bob.userId]);
    await use(bob.userId, 30);
    await call("PATCH", `/api/admin/groups/${ops}`, { name: "operations" });
    await use(bob.userId, 40);

    const { usage, groupTotals } = await report();
    expect(usage.filter((row) => row.username === "bob")).toEqual([
      expect.objectContaining({ groups: ["ops", "research"], promptTokens: 30 }),
      expect.objectContaining({ groups: ["operations", "research"], promptTokens: 40 }),
    ]);
    // The group's total goes by its id, under the name it was last used with.
    expect(groupTotals.filter((total) => [ops, research].includes(total.groupId))).toEqual([
      expect.objectContaining({ group: "operations", requests: 2, promptTokens: 70 }),
      expect.objectContaining({ group: "research", requests: 2, promptTokens: 70 }),
    ]);
  });

  it("keeps a deleted user's name and key name on their usage, marked as deleted, for chargeback", async () => {
    const gina = await signUp(web.app, "gina2");
    const fieldSales = await createGroup("field-sales");
    await setMembers(fieldSales, [gina.userId]);
    const created = await web.app.inject({
      method: "POST",
      url: "/api/account/api-keys",
      headers: gina.headers,
      payload: { name: "gina-key" },
    });
    const keyId = (created.json() as { id: string }).id;
    await use(gina.userId, 50, keyId);
    expect((await call("DELETE", `/api/admin/users/${gina.userId}`)).statusCode).toBe(204);

    const { usage, groupTotals } = await report();
    expect(usage.filter((row) => row.userId === gina.userId)).toEqual([
      expect.objectContaining({
        username: "gina2",
        userDeleted: true,
        groups: ["field-sales"],
        apiKeyId: keyId,
        apiKeyName: "gina-key",
        promptTokens: 50,
      }),
    ]);
    expect(usage.filter((row) => row.userId === admin.userId)).not.toContainEqual(
      expect.objectContaining({ userDeleted: true }),
    );
    expect(groupTotals).toContainEqual(expect.objectContaining({ group: "field-sales", promptTokens: 50 }));
    expect(await csv()).toContain(
      `"gina2","field-sales","m","${keyId}","gina-key","1","50","1","1","${fieldSales}","yes"`,
    );
  });

  it("refuses a period out of range and parameters it does not take, rather than report the last 30 days", async () => {
    for (const query of [
      "days=0",
      "days=367",
      "days=soon",
      "from=2026-13-01",
      "from=2026-01-01&to=2026-02-01",
      "format=xml",
    ]) {
      const refused = await call("GET", `/api/admin/usage?${query}`);
      expect([refused.statusCode, refused.json().error.code], query).toEqual([400, "INVALID_REQUEST"]);
    }
    expect((await call("GET", "/api/admin/usage?from=2026-13-01")).json().error.message).toMatch(/"from"/);
    expect((await call("GET", "/api/admin/usage?days=7&format=json")).statusCode).toBe(200);
  });

  it("starts the CSV with a UTF-8 byte order mark, so that Excel reads a Chinese name as written", async () => {
    const zhang = await signUp(web.app, "张三");
    await use(zhang.userId, 10);
    const bytes = (await call("GET", "/api/admin/usage?format=csv")).rawPayload;
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const [header, ...rows] = new TextDecoder().decode(bytes).split("\n");
    expect(header).toBe(
      "user,groups,model,api_key,api_key_name,requests,prompt_tokens,completion_tokens,cost_units,group_ids,user_deleted",
    );
    expect(rows).toContain(`"张三","","m","","","1","10","1","1","",""`);
  });

  it("shows records from before groups were recorded as not recorded, not as today's groups", async () => {
    const carol = await signUp(web.app, "carol");
    await setMembers(await createGroup("legal"), [carol.userId]);
    await web.db
      .insertInto("usage")
      .values({
        user_id: carol.userId,
        api_key_id: null,
        model: "m",
        prompt_tokens: 5,
        completion_tokens: 1,
        requests: 1,
        cost_units: 1,
        created_at: new Date().toISOString(),
        user_groups: null,
      })
      .execute();

    const { usage, groupTotals } = await report();
    expect(usage.filter((row) => row.username === "carol")).toEqual([
      expect.objectContaining({ groups: null, groupIds: null, promptTokens: 5 }),
    ]);
    expect(groupTotals.map((total) => total.group)).not.toContain("legal");
    expect(await csv()).toContain(`"carol","(not recorded)","m","","","1","5","1","1","(not recorded)"`);
  });
});
