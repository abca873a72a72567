import { randomBytes } from "node:crypto";
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { createLogger, type HearthConfig, loadConfig, restoreBackup, verifyBackup } from "@hearth/core";
import BetterSqlite3 from "better-sqlite3";
import { Kysely, type MigrationInfo, PostgresDialect, SqliteDialect, sql } from "kysely";
import pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { POSTGRES_URL, postgresAvailable } from "../../test/support/web-harness.js";
import { createSession, createUser, endSession, findUserByName } from "../accounts/account-store.js";
import { readPreferences, writePreferences } from "../accounts/preferences-store.js";
import { AssistantStore } from "../assistants/assistant-store.js";
import { BannerStore } from "../banners/banner-store.js";
import { ConversationStore } from "../conversations/conversation-store.js";
import { FolderStore } from "../conversations/folder-store.js";
import { FeedbackStore } from "../feedback/feedback-store.js";
import { KnowledgeAccess } from "../knowledge/knowledge-access.js";
import { MemoryStore } from "../memories/memory-store.js";
import { PromptStore } from "../prompts/prompt-store.js";
import { readUsageReport } from "../usage/usage-report.js";
import type { Database } from "./database-schema.js";
import { createMigrator, type Dialect } from "./migrations.js";
import { openDatabase } from "./open-database.js";

const FIRST_STEP = "0001-accounts-and-conversations";

let dataDir: string;

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), "hearth-web-migrations-"));
});
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

function configFor(databaseUrl?: string): HearthConfig {
  return loadConfig({
    env: {},
    cwd: dataDir,
    overrides: { dataDir, logLevel: "silent", web: databaseUrl ? { databaseUrl } : {} } as never,
  });
}

/** A logger whose lines the test can read. */
function capturedLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new PassThrough();
  stream.on("data", (chunk: Buffer) => {
    for (const line of chunk.toString("utf8").split("\n")) if (line) lines.push(JSON.parse(line));
  });
  return { logger: createLogger({ level: "info", destination: stream }), lines };
}

/** What a user of the first release left behind: an account with a conversation in it. */
async function seedFirstRelease(db: Kysely<Database>, dialect: Dialect, schema?: string): Promise<void> {
  const { error } = await createMigrator(db as Kysely<unknown>, dialect, schema).migrateTo(FIRST_STEP);
  if (error) throw error;
  await db
    .insertInto("users")
    .values({
      id: "usr_wang",
      username: "王芳",
      password_hash: "scrypt$16384$8$1$c2FsdA$aGFzaA",
      role: "admin",
      status: "active",
      created_at: "2026-03-01T09:00:00.000Z",
    })
    .execute();
  await db
    .insertInto("conversations")
    .values({
      id: "cnv_deploy",
      user_id: "usr_wang",
      title: "如何部署 Hearth",
      model: "qwen2.5-7b-instruct",
      created_at: "2026-03-01T09:01:00.000Z",
      updated_at: "2026-03-01T09:02:00.000Z",
    })
    .execute();
  await db
    .insertInto("messages")
    .values({
      id: "msg_1",
      conversation_id: "cnv_deploy",
      seq: 1,
      role: "user",
      content: "How do I deploy Hearth with PostgreSQL? Grüße aus MÜNCHEN",
      status: "done",
      created_at: "2026-03-01T09:01:00.000Z",
    })
    .execute();
}

async function expectFirstReleaseData(db: Kysely<Database>): Promise<void> {
  expect(await db.selectFrom("users").select(["id", "username", "role"]).execute()).toEqual([
    { id: "usr_wang", username: "王芳", role: "admin" },
  ]);
  expect(await db.selectFrom("conversations").select(["id", "user_id", "title"]).execute()).toEqual([
    { id: "cnv_deploy", user_id: "usr_wang", title: "如何部署 Hearth" },
  ]);
  expect(await db.selectFrom("messages").select(["conversation_id", "content"]).execute()).toEqual([
    { conversation_id: "cnv_deploy", content: "How do I deploy Hearth with PostgreSQL? Grüße aus MÜNCHEN" },
  ]);
}

/**
 * A database of the release before user names were folded, holding names that collide when
 * folded: "admin" (the oldest), "ADMIN" and "Ａｄｍｉｎ" (full width) after it, and "Bob".
 */
async function seedCollidingNames(db: Kysely<Database>, dialect: Dialect, schema?: string): Promise<void> {
  const { error } = await createMigrator(db as Kysely<unknown>, dialect, schema).migrateTo(
    "0004-audit-names",
  );
  if (error) throw error;
  const rows: Array<[string, string, string]> = [
    ["usr_b", "ADMIN", "2026-03-02T00:00:00.000Z"],
    ["usr_a", "admin", "2026-03-01T00:00:00.000Z"],
    ["usr_c", "Bob", "2026-03-03T00:00:00.000Z"],
    ["usr_d", "Ａｄｍｉｎ", "2026-03-04T00:00:00.000Z"],
  ];
  for (const [id, username, created_at] of rows)
    await db
      .insertInto("users")
      .values({
        id,
        username,
        password_hash: "scrypt$1$1$1$c2FsdA$aGFzaA",
        role: "user",
        status: "active",
        created_at,
      })
      .execute();
}

/** After the fold step: every account kept as it was, the oldest of each folded name holding it. */
async function expectCollisionsKept(db: Kysely<Database>, lines: Array<Record<string, unknown>>) {
  expect(
    await db.selectFrom("users").select(["id", "username", "username_folded"]).orderBy("id").execute(),
  ).toEqual([
    { id: "usr_a", username: "admin", username_folded: "admin" },
    { id: "usr_b", username: "ADMIN", username_folded: null },
    { id: "usr_c", username: "Bob", username_folded: "bob" },
    { id: "usr_d", username: "Ａｄｍｉｎ", username_folded: null },
  ]);
  expect(lines).toContainEqual(
    expect.objectContaining({
      level: 40,
      accounts: [
        { id: "usr_b", username: "ADMIN", sameAs: "admin" },
        { id: "usr_d", username: "Ａｄｍｉｎ", sameAs: "admin" },
      ],
    }),
  );
  // Each signs in by its exact spelling; any other spelling finds the oldest.
  expect((await findUserByName(db, "ADMIN"))?.id).toBe("usr_b");
  expect((await findUserByName(db, "Ａｄｍｉｎ"))?.id).toBe("usr_d");
  expect((await findUserByName(db, "aDmIn"))?.id).toBe("usr_a");
  expect((await findUserByName(db, "BOB"))?.id).toBe("usr_c");
  const signUp = (username: string) =>
    createUser(db, { username, password: "correct horse battery", signup: "open" });
  await expect(signUp("Admin")).rejects.toMatchObject({ code: "USERNAME_TAKEN" });
  await expect(signUp("bob")).rejects.toMatchObject({ code: "USERNAME_TAKEN" });
  // With the oldest gone, the name is still held by the accounts that kept no folded name.
  await db.deleteFrom("users").where("id", "=", "usr_a").execute();
  await expect(signUp("admin")).rejects.toMatchObject({ code: "USERNAME_TAKEN" });
  expect((await signUp("Carol")).username).toBe("Carol");
  await expect(signUp("CAROL")).rejects.toMatchObject({ code: "USERNAME_TAKEN" });
  // The database itself refuses a second folded name, whatever writes it.
  await expect(
    db
      .insertInto("users")
      .values({
        id: "usr_x",
        username: "BOB",
        username_folded: "bob",
        password_hash: "x",
        role: "user",
        status: "active",
        created_at: "2026-03-05T00:00:00.000Z",
      })
      .execute(),
  ).rejects.toThrow(/unique/i);
}

/**
 * After 0012-conversation-settings: a conversation stored before has no system prompt and is not
 * pinned; both can be set, and the list puts the pinned one first.
 */
async function expectConversationSettings(db: Kysely<Database>): Promise<void> {
  expect(await db.selectFrom("conversations").select(["system_prompt", "pinned"]).execute()).toEqual([
    { system_prompt: null, pinned: 0 },
  ]);
  const store = new ConversationStore(db);
  const newer = await store.create("usr_wang", { title: "newer" });
  await store.update("usr_wang", "cnv_deploy", { pinned: true, systemPrompt: "用正式的中文回答。" });
  expect(await store.get("usr_wang", "cnv_deploy")).toMatchObject({
    pinned: true,
    systemPrompt: "用正式的中文回答。",
  });
  const { conversations } = await store.list("usr_wang");
  expect(conversations.map((c) => [c.id, c.pinned])).toEqual([
    ["cnv_deploy", true],
    [newer.id, false],
  ]);
}

/**
 * After 0015-conversation-folders: the conversation stored before the step is unfiled and not
 * archived, and in the list as it was; it goes into a folder and to the archive, and back.
 */
async function expectFoldersAndArchive(db: Kysely<Database>): Promise<void> {
  expect(
    await db
      .selectFrom("conversations")
      .select(["folder_id", "archived_at"])
      .where("id", "=", "cnv_deploy")
      .execute(),
  ).toEqual([{ folder_id: null, archived_at: null }]);
  const store = new ConversationStore(db);
  const folders = new FolderStore(db);
  expect((await store.list("usr_wang", { folderId: null })).conversations.map((c) => c.id)).toContain(
    "cnv_deploy",
  );
  const folder = await folders.create("usr_wang", "部署");
  await expect(folders.create("usr_wang", "部署")).rejects.toMatchObject({ code: "FOLDER_NAME_TAKEN" });
  await store.update("usr_wang", "cnv_deploy", { folderId: folder.id, archived: true });
  expect(await store.get("usr_wang", "cnv_deploy")).toMatchObject({
    title: "如何部署 Hearth",
    folderId: folder.id,
    archivedAt: expect.any(String),
  });
  expect((await store.list("usr_wang", { archived: true })).conversations.map((c) => c.id)).toEqual([
    "cnv_deploy",
  ]);
  await store.update("usr_wang", "cnv_deploy", { archived: false });
  expect(await folders.list("usr_wang")).toMatchObject([{ name: "部署", conversationCount: 1 }]);
  // Deleting the folder keeps the conversation and its messages.
  await folders.delete("usr_wang", folder.id);
  expect(await store.messages("usr_wang", "cnv_deploy")).toMatchObject([
    { content: "How do I deploy Hearth with PostgreSQL? Grüße aus MÜNCHEN" },
  ]);
  expect(await store.get("usr_wang", "cnv_deploy")).toMatchObject({ folderId: null, archivedAt: null });
}

/**
 * After 0016-message-versions: the message stored before is there as it was, with no versions; a
 * regeneration's answer set aside is a version of it that can be shown again.
 */
async function expectMessageVersions(db: Kysely<Database>): Promise<void> {
  const store = new ConversationStore(db);
  const kept = await store.messagesShown("usr_wang", "cnv_deploy");
  expect(kept.map((m) => [m.seq, m.content, m.versions])).toEqual([
    [1, "How do I deploy Hearth with PostgreSQL? Grüße aus MÜNCHEN", undefined],
  ]);
  await store.append("cnv_deploy", {
    role: "assistant",
    content: "Use web.databaseUrl.",
    status: "done",
    model: null,
  });
  await store.setAside("cnv_deploy", 2);
  // Versions are ordered by when they were written: the second a moment after the first, as a
  // regeneration is (in the same millisecond, which is first would be a tie).
  await new Promise((resolve) => setTimeout(resolve, 5));
  await store.append("cnv_deploy", {
    role: "assistant",
    content: "Set HEARTH_WEB_DATABASE_URL.",
    status: "done",
    model: null,
  });
  expect((await store.messagesShown("usr_wang", "cnv_deploy")).map((m) => m.versions)).toEqual([
    undefined,
    { index: 2, count: 2 },
  ]);
  await store.switchVersion("usr_wang", "cnv_deploy", 2, 1);
  expect((await store.messages("usr_wang", "cnv_deploy")).map((m) => m.content)).toEqual([
    "How do I deploy Hearth with PostgreSQL? Grüße aus MÜNCHEN",
    "Use web.databaseUrl.",
  ]);
}

/**
 * After 0030-memories: the account from before has no memories and memory off; a memory is added,
 * and goes into its chats once memory is on.
 */
async function expectMemories(db: Kysely<Database>): Promise<void> {
  const memories = new MemoryStore(db);
  expect(await memories.list("usr_wang")).toEqual([]);
  expect(await readPreferences(db, "usr_wang")).toMatchObject({ memory: false });
  await memories.create("usr_wang", "我在 Atlas 团队工作");
  expect(await memories.forChat("usr_wang")).toEqual([]);
  expect(await writePreferences(db, "usr_wang", { memory: true })).toMatchObject({ memory: true });
  expect(await memories.forChat("usr_wang")).toEqual(["我在 Atlas 团队工作"]);
}

/**
 * After 0031-message-finish-reason: the message from before says no finish reason; an answer cut
 * off at the length limit is stored so, and read back so.
 */
async function expectFinishReasons(db: Kysely<Database>): Promise<void> {
  const store = new ConversationStore(db);
  expect((await store.messages("usr_wang", "cnv_deploy"))[0]).toMatchObject({ seq: 1, finishReason: null });
  const answer = await store.append("cnv_deploy", {
    role: "assistant",
    content: "Once upon a",
    status: "streaming",
    model: null,
  });
  await store.finishMessage(answer.id, {
    content: "Once upon a time",
    reasoning: null,
    status: "done",
    finishReason: "length",
  });
  expect((await store.messages("usr_wang", "cnv_deploy")).at(-1)).toMatchObject({
    content: "Once upon a time",
    finishReason: "length",
  });
}

/**
 * After 0032-chosen-knowledge-bases: the conversation from before has no knowledge bases chosen (it
 * opens with its assistant's, as before); a choice is kept and read back.
 */
async function expectChosenKnowledgeBases(db: Kysely<Database>): Promise<void> {
  const store = new ConversationStore(db);
  expect(await store.get("usr_wang", "cnv_deploy")).toMatchObject({ chosenKnowledgeBaseIds: null });
  await store.update("usr_wang", "cnv_deploy", { chosenKnowledgeBaseIds: ["kb_manuals"] });
  expect(await store.get("usr_wang", "cnv_deploy")).toMatchObject({ chosenKnowledgeBaseIds: ["kb_manuals"] });
}

/**
 * After 0017-user-preferences: the accounts from before have no preferences (and keep everything
 * else); one saved is read back, and it goes with its account, whatever deletes the account, as
 * its memories (0030-memories) do.
 */
async function expectUserPreferences(db: Kysely<Database>): Promise<void> {
  expect(await readPreferences(db, "usr_wang")).toMatchObject({ instructions: null, theme: null });
  const saved = await writePreferences(db, "usr_wang", { instructions: "用正式的中文回答。", theme: "dark" });
  expect(saved).toMatchObject({ instructions: "用正式的中文回答。", theme: "dark", language: null });
  expect(await db.selectFrom("users").select(["id", "username"]).execute()).toEqual([
    { id: "usr_wang", username: "王芳" },
  ]);
  expect(await db.selectFrom("messages").select("content").execute()).toContainEqual({
    content: "How do I deploy Hearth with PostgreSQL? Grüße aus MÜNCHEN",
  });
  await db.deleteFrom("message_versions").execute();
  await db.deleteFrom("messages").execute();
  await db.deleteFrom("conversations").execute();
  await db.deleteFrom("users").where("id", "=", "usr_wang").execute();
  expect(await db.selectFrom("user_preferences").selectAll().execute()).toEqual([]);
  expect(await db.selectFrom("memories").selectAll().execute()).toEqual([]);
}

/**
 * After 0020-prompt-library: the account from before has no prompts and keeps its conversation; a
 * prompt of its own and a shared one are saved, their commands unique folded.
 */
async function expectPromptLibrary(db: Kysely<Database>): Promise<void> {
  const prompts = new PromptStore(db);
  const wang = { id: "usr_wang", role: "admin" };
  expect(await prompts.list(wang)).toEqual([]);
  const own = await prompts.create(wang, {
    command: "总结",
    title: "总结",
    content: "总结：{{topic}}",
    shared: false,
  });
  await prompts.create(wang, {
    command: "deploy",
    title: "Deploy",
    content: "Deploy {{what}}",
    shared: true,
  });
  await expect(
    prompts.create(wang, { command: "ＤＥＰＬＯＹ", title: "again", content: "x", shared: true }),
  ).rejects.toMatchObject({ code: "PROMPT_COMMAND_TAKEN" });
  expect((await prompts.list(wang)).map((p) => [p.command, p.shared])).toEqual([
    ["deploy", true],
    ["总结", false],
  ]);
  expect(await prompts.get(wang, own.id)).toMatchObject({ content: "总结：{{topic}}" });
  expect(await db.selectFrom("messages").select("content").execute()).toContainEqual({
    content: "How do I deploy Hearth with PostgreSQL? Grüße aus MÜNCHEN",
  });
}

/** After 0021-temporary-chats: the conversations from before are none of them temporary: all listed. */
async function expectNoTemporaryChats(db: Kysely<Database>): Promise<void> {
  const stored = await db.selectFrom("conversations").select(["user_id", "temporary"]).execute();
  expect(stored.length).toBeGreaterThan(0);
  expect(stored.map((row) => Number(row.temporary))).toEqual(stored.map(() => 0));
  const { conversations } = await new ConversationStore(db).list(stored[0]!.user_id);
  expect(conversations.length).toBeGreaterThan(0);
}

/**
 * After 0022-message-feedback: nothing stored before is rated; the answer kept from before (a
 * version of two) is rated, shows its rating, and has it taken back.
 */
async function expectAnswerFeedback(db: Kysely<Database>): Promise<void> {
  const store = new ConversationStore(db);
  expect((await store.messagesShown("usr_wang", "cnv_deploy")).map((m) => m.feedback)).toEqual([
    undefined,
    undefined,
  ]);
  const feedback = new FeedbackStore(store);
  await feedback.rate("usr_wang", "cnv_deploy", 2, { rating: "down", comment: "太简略了" });
  expect((await store.messagesShown("usr_wang", "cnv_deploy"))[1]).toMatchObject({
    content: "Use web.databaseUrl.",
    versions: { index: 1, count: 2 },
    feedback: { rating: "down", comment: "太简略了" },
  });
  expect(
    await db.selectFrom("message_feedback").select(["seq", "version_index", "version_count"]).execute(),
  ).toEqual([{ seq: 2, version_index: 1, version_count: 2 }]);
  await feedback.remove("usr_wang", "cnv_deploy", 2);
  expect(await db.selectFrom("message_feedback").selectAll().execute()).toEqual([]);
}

/**
 * After 0023-external-identities: the accounts from before have no SSO identity and keep their
 * passwords; an identity tied to one is unique by issuer and subject.
 */
async function expectExternalIdentities(db: Kysely<Database>): Promise<void> {
  expect(await db.selectFrom("external_identities").selectAll().execute()).toEqual([]);
  const identity = {
    issuer: "https://sso.example.cn/realms/team",
    subject: "f3b1",
    user_id: "usr_wang",
    email: null,
    created_at: new Date().toISOString(),
    last_sign_in_at: new Date().toISOString(),
  };
  await db.insertInto("external_identities").values(identity).execute();
  await expect(db.insertInto("external_identities").values(identity).execute()).rejects.toThrow();
  await db.deleteFrom("external_identities").execute();
}

/**
 * After 0024-announcement-banners: there are none; one written is shown to the account from before,
 * who closes it, and it goes with the account when that is deleted.
 */
async function expectAnnouncementBanners(db: Kysely<Database>): Promise<void> {
  const banners = new BannerStore(db);
  expect(await banners.list()).toEqual([]);
  const banner = await banners.create({
    text: "维护今晚 22:00",
    type: "warning",
    dismissible: true,
    startsAt: null,
    endsAt: null,
  });
  expect(await banners.active("usr_wang")).toEqual([
    { id: banner.id, text: "维护今晚 22:00", type: "warning", dismissible: true, revision: 1 },
  ]);
  await banners.dismiss("usr_wang", banner.id);
  expect(await banners.active("usr_wang")).toEqual([]);
  await banners.delete(banner.id);
  expect(await db.selectFrom("banner_dismissals").selectAll().execute()).toEqual([]);
}

/**
 * After 0025-assistants: the conversations from before were started with no assistant and keep
 * what they had; an assistant is stored (its temperature exactly as given) and a conversation
 * started with one remembers it and keeps what it took after the assistant is deleted.
 */
async function expectAssistants(db: Kysely<Database>): Promise<void> {
  const conversations = new ConversationStore(db);
  const before = await db
    .selectFrom("conversations")
    .select("id")
    .where("user_id", "=", "usr_wang")
    .execute();
  expect(before.length).toBeGreaterThan(0);
  expect(await conversations.get("usr_wang", before[0]!.id)).toMatchObject({
    assistant: null,
    knowledgeBaseIds: null,
    webSearch: null,
    temperature: null,
  });
  const wang = { id: "usr_wang", username: "王芳", role: "admin" as const, groupIds: [] };
  const assistants = new AssistantStore(db, new KnowledgeAccess(db));
  const made = await assistants.create(wang, {
    name: "部署助手",
    description: "",
    model: "tiny-story",
    systemPrompt: "用中文回答。",
    knowledgeBaseIds: [],
    webSearch: "auto",
    temperature: 0.7,
    visibility: "private",
    groupIds: [],
  });
  expect(made).toMatchObject({ name: "部署助手", temperature: 0.7, owner: { username: "王芳" } });
  const started = await conversations.create("usr_wang", {
    model: "tiny-story",
    assistant: {
      id: made.id,
      name: made.name,
      knowledgeBaseIds: ["kb_1"],
      webSearch: "auto",
      temperature: 0.7,
    },
  });
  await assistants.delete(wang, made.id);
  expect(await conversations.get("usr_wang", started.id)).toMatchObject({
    assistant: { id: made.id, name: "部署助手" },
    knowledgeBaseIds: ["kb_1"],
    webSearch: "auto",
    temperature: 0.7,
  });
}

/**
 * After 0026-chat-controls, 0027-repetition-controls and 0029-sampler-controls: the conversations
 * from before keep the model's own parameters (null); a conversation's controls are stored and read
 * back exactly (0.9 is not 0.899999976, -1.5 not -1.50000001, 0.05 not 0.0500000007), each cleared
 * alone.
 */
async function expectChatControls(db: Kysely<Database>): Promise<void> {
  const conversations = new ConversationStore(db);
  const before = await db
    .selectFrom("conversations")
    .select("id")
    .where("user_id", "=", "usr_wang")
    .where("assistant_id", "is", null)
    .execute();
  expect(before.length).toBeGreaterThan(0);
  for (const { id } of before)
    expect(await conversations.get("usr_wang", id)).toMatchObject({
      temperature: null,
      topP: null,
      maxTokens: null,
      seed: null,
      frequencyPenalty: null,
      presencePenalty: null,
      topK: null,
      minP: null,
      repeatPenalty: null,
    });
  const controls = {
    temperature: 0,
    topP: 0.9,
    maxTokens: 131_072,
    seed: 2_147_483_647,
    frequencyPenalty: 0.3,
    presencePenalty: -1.5,
    topK: 1000,
    minP: 0.05,
    repeatPenalty: 1.1,
  };
  const tuned = await conversations.create("usr_wang", { model: "tiny-story", controls });
  expect(await conversations.get("usr_wang", tuned.id)).toMatchObject(controls);
  await conversations.update("usr_wang", tuned.id, { controls: { seed: null } });
  expect(await conversations.get("usr_wang", tuned.id)).toMatchObject({ topP: 0.9, seed: null });
  await conversations.update("usr_wang", tuned.id, { controls: { frequencyPenalty: null } });
  expect(await conversations.get("usr_wang", tuned.id)).toMatchObject({
    frequencyPenalty: null,
    presencePenalty: -1.5,
  });
  await conversations.update("usr_wang", tuned.id, { controls: { minP: null } });
  expect(await conversations.get("usr_wang", tuned.id)).toMatchObject({
    topK: 1000,
    minP: null,
    repeatPenalty: 1.1,
  });
}

/**
 * After 0028-sso-sign-out: a single sign-on session keeps its ID token until it ends (sign-out sends
 * it to the provider); a password session keeps none.
 */
async function expectSsoSessions(db: Kysely<Database>): Promise<void> {
  const sso = await createSession(db, "usr_wang", 1, "eyJ.header.payload.signature");
  const password = await createSession(db, "usr_wang", 1);
  expect(await endSession(db, sso.token)).toEqual({ idToken: "eyJ.header.payload.signature" });
  expect(await endSession(db, password.token)).toEqual({ idToken: null });
}

/**
 * A database at 0032 where the first release's account deleted gina2, who had used the API key
 * "gina-key" (the audit log named both), and still has a key of its own.
 */
async function seedDeletedAccount(db: Kysely<Database>, dialect: Dialect, schema?: string): Promise<void> {
  await seedFirstRelease(db, dialect, schema);
  const { error } = await createMigrator(db as Kysely<unknown>, dialect, schema).migrateTo(
    "0032-chosen-knowledge-bases",
  );
  if (error) throw error;
  await db
    .insertInto("api_keys")
    .values({
      id: "key_wang",
      user_id: "usr_wang",
      name: "王芳的脚本",
      prefix: "hk-wang",
      key_hash: "hash-wang",
      created_at: "2026-03-02T00:00:00.000Z",
      revoked_at: null,
      last_used_at: null,
    })
    .execute();
  const entry = { details: null, target_name: null, created_at: "2026-03-02T00:00:00.000Z" };
  await db
    .insertInto("audit_log")
    .values([
      {
        ...entry,
        actor_id: "usr_gina",
        actor_name: "gina2",
        action: "api-key.create",
        target: "key_gina",
        details: '{"name":"gina-key"}',
      },
      {
        ...entry,
        actor_id: "usr_wang",
        actor_name: "王芳",
        action: "api-key.create",
        target: "key_wang",
        details: '{"name":"王芳的脚本"}',
      },
      {
        ...entry,
        actor_id: "usr_wang",
        actor_name: "王芳",
        action: "user.delete",
        target: "usr_gina",
        target_name: "gina2",
      },
    ])
    .execute();
  await db
    .insertInto("usage")
    .values({
      user_id: "usr_gina",
      api_key_id: "key_gina",
      model: "m",
      prompt_tokens: 40,
      completion_tokens: 2,
      requests: 1,
      cost_units: 1,
      created_at: new Date().toISOString(),
      user_groups: "[]",
      request_id: "req_gina",
    })
    .execute();
}

/**
 * After 0033-deleted-account-names: usage of an account deleted before the step is named as the
 * audit log named the account and its key; a live account is not taken for a deleted one.
 */
async function expectDeletedAccountNamed(db: Kysely<Database>): Promise<void> {
  const { usage } = await readUsageReport(db, "2026-01-01T00:00:00.000Z");
  expect(usage).toEqual([
    expect.objectContaining({
      userId: "usr_gina",
      username: "gina2",
      userDeleted: true,
      apiKeyId: "key_gina",
      apiKeyName: "gina-key",
      promptTokens: 40,
    }),
  ]);
  expect(await db.selectFrom("deleted_users").select("id").execute()).toEqual([{ id: "usr_gina" }]);
  expect(await db.selectFrom("deleted_api_keys").select("id").execute()).toEqual([{ id: "key_gina" }]);
}

function backups(): string[] {
  const dir = join(dataDir, "backups");
  return existsSync(dir) ? readdirSync(dir) : [];
}

/** The web schema's last step: the number of steps in migrations.ts. */
const LATEST_STEP = 33;

describe("web database migrations on SQLite", () => {
  it("creates a new database without a backup, and reopens a current one without another", async () => {
    await (await openDatabase(configFor())).destroy();
    await (await openDatabase(configFor())).destroy();
    expect(backups()).toEqual([]);
  });

  it("refuses a database a newer Hearth migrated with SCHEMA_TOO_NEW naming the versions and the fix", async () => {
    await (await openDatabase(configFor())).destroy();
    const file = join(dataDir, "web.sqlite");
    const sqlite = new BetterSqlite3(file);
    sqlite
      .prepare("INSERT INTO kysely_migration (name, timestamp) VALUES (?, ?)")
      .run("0099-future", "2027-01-01");
    sqlite.close();
    const error = await openDatabase(configFor()).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: "SCHEMA_TOO_NEW" });
    expect((error as Error).message).toContain(file);
    expect((error as Error).message).toContain("0099-future");
    expect((error as Error).message).toMatch(/knows up to 00\d\d-/);
    expect((error as Error).message).toContain(
      "start the newer Hearth again, or restore the pre-migration backup",
    );
  });

  it("names a web.sqlite this user cannot write, and the fix, instead of an internal error", async () => {
    await (await openDatabase(configFor())).destroy();
    // Tests run as root, which writes any file: opening read-only is what SQLite does with a
    // file whose mode the user Hearth runs as may not write (chmod 444).
    const error = await openDatabase(configFor(), { sqlite: { readonly: true } }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toMatchObject({ code: "DATA_DIR_NOT_WRITABLE" });
    expect((error as Error).message).toContain(join(dataDir, "web.sqlite"));
    expect((error as Error).message).toContain("give the user Hearth runs as write access");
  });

  it("names a damaged web.sqlite and the restore that fixes it", async () => {
    writeFileSync(join(dataDir, "web.sqlite"), Buffer.alloc(8192, 0x41));
    const error = await openDatabase(configFor()).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: "DATABASE_UNAVAILABLE" });
    expect((error as Error).message).toContain("is damaged");
    expect((error as Error).message).toContain("hearth restore");
  });

  it("names a web.sqlite whose inner pages are damaged at start-up, not an internal error", async () => {
    const file = join(dataDir, "web.sqlite");
    const db = await openDatabase(configFor());
    const user = await createUser(db, {
      username: "wang",
      password: "correct horse battery",
      signup: "open",
    });
    const conversations = new ConversationStore(db);
    const conversation = await conversations.create(user.id, { title: "notes" });
    for (let i = 0; i < 40; i++)
      await conversations.append(conversation.id, {
        role: "user",
        content: `message ${i} ${"x".repeat(3000)}`,
        status: "done",
        model: null,
      });
    await db.destroy();
    // A page of the messages table overwritten (the header and the schema stay intact).
    const reader = new BetterSqlite3(file, { readonly: true });
    const pages = reader
      .prepare("select pageno from dbstat where name = 'messages' and pagetype = 'leaf'")
      .pluck()
      .all() as number[];
    const pageSize = Number(reader.pragma("page_size", { simple: true }));
    reader.close();
    expect(pages.length).toBeGreaterThan(2);
    const handle = openSync(file, "r+");
    for (const page of pages)
      writeSync(handle, Buffer.alloc(pageSize, 0xde), 0, pageSize, (page - 1) * pageSize);
    closeSync(handle);

    // What start-up does after opening: the answers left streaming are interrupted.
    const reopened = await openDatabase(configFor());
    try {
      const error = await new ConversationStore(reopened)
        .interruptUnfinished()
        .catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: "DATABASE_UNAVAILABLE" });
      expect((error as Error).message).toContain(`${file} is damaged`);
      expect((error as Error).message).toContain("hearth restore");
    } finally {
      await reopened.destroy();
    }
  });

  it("migrates forward from the previous step with data in it, after a backup that restores", async () => {
    const file = join(dataDir, "web.sqlite");
    const sqlite = new BetterSqlite3(file);
    sqlite.pragma("journal_mode = WAL");
    const previous = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
    await seedFirstRelease(previous, "sqlite");
    await previous.destroy();

    const { logger, lines } = capturedLogger();
    const db = await openDatabase(configFor(), { logger });
    let applied: readonly MigrationInfo[] = [];
    try {
      await expectFirstReleaseData(db);
      // The second step's table is there and usable with the old rows.
      await db
        .insertInto("knowledge_bases")
        .values({
          id: "kb_manuals",
          owner_id: "usr_wang",
          visibility: "private",
          created_at: "2026-03-02T08:00:00.000Z",
        })
        .execute();
      await db
        .insertInto("knowledge_jobs")
        .values({
          id: "job_1",
          knowledge_base_id: "kb_manuals",
          created_at: "2026-03-02T08:00:01.000Z",
        })
        .execute();
      // The third step folded what was stored for search: SQLite's lower() leaves "MÜNCHEN" as "mÜnchen".
      expect(await db.selectFrom("messages").select("content_folded").execute()).toEqual([
        { content_folded: "how do i deploy hearth with postgresql? grüße aus münchen" },
      ]);
      expect(await db.selectFrom("conversations").select("title_folded").execute()).toEqual([
        { title_folded: null },
      ]);
      await expectConversationSettings(db);
      await expectFoldersAndArchive(db);
      await expectMessageVersions(db);
      applied = await createMigrator(db as Kysely<unknown>, "sqlite").getMigrations();
      expect(applied.every((step) => step.executedAt !== undefined)).toBe(true);
      await expectPromptLibrary(db);
      await expectNoTemporaryChats(db);
      await expectAnswerFeedback(db);
      await expectExternalIdentities(db);
      await expectAnnouncementBanners(db);
      await expectAssistants(db);
      await expectChatControls(db);
      await expectSsoSessions(db);
      await expectMemories(db);
      await expectFinishReasons(db);
      await expectChosenKnowledgeBases(db);
      await expectUserPreferences(db);
    } finally {
      await db.destroy();
    }

    const taken = backups();
    expect(taken).toHaveLength(1);
    expect(taken[0]).toMatch(new RegExp(`^pre-migration-web\\.sqlite-v1-to-v${LATEST_STEP}-`));
    expect(lines).toContainEqual(
      expect.objectContaining({
        msg: "backup taken before migrating",
        database: "web.sqlite",
        from: 1,
        to: LATEST_STEP,
      }),
    );
    // Each step applied is named in the log, as the knowledge store names its own.
    expect(
      lines.filter((line) => line.msg === "migration applied").map((line) => [line.database, line.name]),
    ).toEqual(applied.slice(1).map((step) => ["web.sqlite", step.name]));
    const source = join(dataDir, "backups", taken[0]!);
    expect(await verifyBackup(source)).toMatchObject({
      scope: "partial",
      entries: [{ path: "data/web.sqlite", kind: "sqlite" }],
    });

    // Restored, the database is the first release's again: step 1, its rows, no second-step table.
    await restoreBackup({ source, dataDir });
    const restored = new Kysely<Database>({
      dialect: new SqliteDialect({ database: new BetterSqlite3(file) }),
    });
    try {
      await expectFirstReleaseData(restored);
      const steps = await createMigrator(restored as Kysely<unknown>, "sqlite").getMigrations();
      expect(steps.map((step) => step.executedAt !== undefined)).toEqual([
        true,
        ...Array(LATEST_STEP - 1).fill(false),
      ]);
      expect((await restored.introspection.getTables()).map((table) => table.name)).not.toContain(
        "knowledge_jobs",
      );
    } finally {
      await restored.destroy();
    }
  });

  it("keeps the preferences saved before memory came, with memory off", async () => {
    const file = join(dataDir, "web.sqlite");
    const previous = new Kysely<Database>({
      dialect: new SqliteDialect({ database: new BetterSqlite3(file) }),
    });
    await seedFirstRelease(previous, "sqlite");
    const { error } = await createMigrator(previous as Kysely<unknown>, "sqlite").migrateTo(
      "0029-sampler-controls",
    );
    if (error) throw error;
    await sql`INSERT INTO user_preferences (user_id, instructions, theme, updated_at)
      VALUES ('usr_wang', '用正式的中文回答。', 'dark', '2026-03-02T00:00:00.000Z')`.execute(previous);
    await previous.destroy();
    const db = await openDatabase(configFor());
    try {
      expect(await readPreferences(db, "usr_wang")).toMatchObject({
        instructions: "用正式的中文回答。",
        theme: "dark",
        memory: false,
      });
      expect(await writePreferences(db, "usr_wang", { memory: true })).toMatchObject({
        instructions: "用正式的中文回答。",
        memory: true,
      });
    } finally {
      await db.destroy();
    }
  });

  it("names the usage of an account deleted before names were kept, as the audit log named it", async () => {
    const previous = new Kysely<Database>({
      dialect: new SqliteDialect({ database: new BetterSqlite3(join(dataDir, "web.sqlite")) }),
    });
    await seedDeletedAccount(previous, "sqlite");
    await previous.destroy();
    const db = await openDatabase(configFor());
    try {
      await expectDeletedAccountNamed(db);
    } finally {
      await db.destroy();
    }
  });

  it("leaves the schema as it was when an upgrade fails half-way, so that it can be run again", async () => {
    const file = join(dataDir, "web.sqlite");
    const seeded = new Kysely<Database>({
      dialect: new SqliteDialect({ database: new BetterSqlite3(file) }),
    });
    await seedFirstRelease(seeded, "sqlite");
    // The third step's backfill fails, as a full disk or a killed process would stop it.
    await sql`CREATE TRIGGER fail_backfill BEFORE UPDATE ON messages BEGIN SELECT RAISE(ABORT, 'disk full'); END`.execute(
      seeded,
    );
    await seeded.destroy();
    // Said as a failed migration, naming its step, what the database stays at and the backup.
    const error = await openDatabase(configFor()).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: "MIGRATION_FAILED", details: { step: "0003-search-folding" } });
    const [backup] = backups();
    expect((error as Error).message).toContain("disk full");
    expect((error as Error).message).toContain(`it stays at ${FIRST_STEP}`);
    expect((error as Error).message).toContain(join(dataDir, "backups", backup!));

    const raw = new BetterSqlite3(file);
    const columns = (raw.pragma("table_info(messages)") as Array<{ name: string }>).map(
      (column) => column.name,
    );
    expect(columns).not.toContain("content_folded");
    expect(raw.prepare("SELECT name FROM sqlite_master WHERE name = 'knowledge_jobs'").all()).toEqual([]);
    raw.exec("DROP TRIGGER fail_backfill");
    raw.close();

    const db = await openDatabase(configFor());
    try {
      await expectFirstReleaseData(db);
      expect(await db.selectFrom("messages").select("content_folded").execute()).toEqual([
        { content_folded: "how do i deploy hearth with postgresql? grüße aus münchen" },
      ]);
    } finally {
      await db.destroy();
    }
  });
});

describe("the user-name fold step", () => {
  it("on SQLite keeps accounts whose names collide when folded, and refuses new ones", async () => {
    const file = join(dataDir, "web.sqlite");
    const previous = new Kysely<Database>({
      dialect: new SqliteDialect({ database: new BetterSqlite3(file) }),
    });
    await seedCollidingNames(previous, "sqlite");
    await previous.destroy();
    const { logger, lines } = capturedLogger();
    const db = await openDatabase(configFor(), { logger });
    try {
      await expectCollisionsKept(db, lines);
    } finally {
      await db.destroy();
    }
  });

  it("on SQLite folds traditional Chinese in what was stored before search folded it", async () => {
    const file = join(dataDir, "web.sqlite");
    const previous = new Kysely<Database>({
      dialect: new SqliteDialect({ database: new BetterSqlite3(file) }),
    });
    await seedFirstRelease(previous, "sqlite");
    const { error } = await createMigrator(previous as Kysely<unknown>, "sqlite").migrateTo(
      "0007-group-name-fold",
    );
    if (error) throw error;
    await sql`UPDATE conversations SET title = ${"環境保護"}, title_folded = NULL`.execute(previous);
    await previous.destroy();
    const db = await openDatabase(configFor());
    try {
      expect(await db.selectFrom("conversations").select("title_folded").execute()).toEqual([
        { title_folded: "环境保护" },
      ]);
    } finally {
      await db.destroy();
    }
  });

  it("on SQLite keeps groups whose names collide when folded, the oldest holding the name", async () => {
    const file = join(dataDir, "web.sqlite");
    const previous = new Kysely<Database>({
      dialect: new SqliteDialect({ database: new BetterSqlite3(file) }),
    });
    const { error } = await createMigrator(previous as Kysely<unknown>, "sqlite").migrateTo(
      "0006-message-error-code",
    );
    if (error) throw error;
    for (const [id, name, created_at] of [
      ["grp_b", "Finance", "2026-03-02T00:00:00.000Z"],
      ["grp_a", "finance", "2026-03-01T00:00:00.000Z"],
      ["grp_c", "Sales", "2026-03-03T00:00:00.000Z"],
    ])
      await sql`INSERT INTO groups (id, name, created_at) VALUES (${id}, ${name}, ${created_at})`.execute(
        previous,
      );
    await previous.destroy();
    const { logger, lines } = capturedLogger();
    const db = await openDatabase(configFor(), { logger });
    try {
      expect(
        await db.selectFrom("groups").select(["id", "name", "name_folded"]).orderBy("id").execute(),
      ).toEqual([
        { id: "grp_a", name: "finance", name_folded: "finance" },
        { id: "grp_b", name: "Finance", name_folded: null },
        { id: "grp_c", name: "Sales", name_folded: "sales" },
      ]);
      expect(JSON.stringify(lines)).toContain("group names that differ only in case");
      await expect(
        db
          .insertInto("groups")
          .values({ id: "grp_d", name: "FINANCE", name_folded: "finance", created_at: "x" })
          .execute(),
      ).rejects.toThrow();
    } finally {
      await db.destroy();
    }
  });

  it.skipIf(!postgresAvailable)(
    "on PostgreSQL keeps accounts whose names collide when folded, and refuses new ones",
    async () => {
      const schema = `hearth_fold_${randomBytes(6).toString("hex")}`;
      const pool = new pg.Pool({ connectionString: POSTGRES_URL, options: `-c search_path=${schema}` });
      try {
        const client = await pool.connect();
        await client.query(`CREATE SCHEMA ${schema}`);
        client.release();
        const previous = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
        await seedCollidingNames(previous, "postgres", schema);
        await previous.destroy();
        const { logger, lines } = capturedLogger();
        const db = await openDatabase(configFor(POSTGRES_URL), { postgresSchema: schema, logger });
        try {
          await expectCollisionsKept(db, lines);
        } finally {
          await db.destroy();
        }
      } finally {
        const client = new pg.Client({ connectionString: POSTGRES_URL });
        await client.connect();
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await client.end();
      }
    },
  );
});

describe.skipIf(!postgresAvailable)("web database migrations on PostgreSQL", () => {
  let schema: string;

  beforeEach(() => {
    schema = `hearth_migrate_${randomBytes(6).toString("hex")}`;
  });
  afterEach(async () => {
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  });

  it("opens its schema while other schemas of the database come and go (other deployments, test runs)", async () => {
    await (await openDatabase(configFor(POSTGRES_URL), { postgresSchema: schema })).destroy();
    const churn = new pg.Client({ connectionString: POSTGRES_URL });
    await churn.connect();
    let churning = true;
    const others = (async () => {
      for (let round = 0; churning; round++) {
        const other = `${schema}_other_${round}`;
        await churn.query(`CREATE SCHEMA ${other}; CREATE TABLE ${other}.t (x int)`);
        await churn.query(`DROP SCHEMA ${other} CASCADE`);
      }
    })();
    try {
      for (let start = 0; start < 40; start++)
        await (await openDatabase(configFor(POSTGRES_URL), { postgresSchema: schema })).destroy();
    } finally {
      churning = false;
      await others;
      await churn.end();
    }
  });

  it("refuses a schema a newer Hearth migrated with SCHEMA_TOO_NEW naming the versions and the fix", async () => {
    await (await openDatabase(configFor(POSTGRES_URL), { postgresSchema: schema })).destroy();
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    await client.query(
      `INSERT INTO ${schema}.kysely_migration (name, timestamp) VALUES ('0099-future', '2027-01-01')`,
    );
    await client.end();
    const error = await openDatabase(configFor(POSTGRES_URL), { postgresSchema: schema }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toMatchObject({ code: "SCHEMA_TOO_NEW" });
    expect((error as Error).message).toContain(`schema ${schema}`);
    expect((error as Error).message).toContain("0099-future");
    expect((error as Error).message).toContain("restore the pg_dump taken before the upgrade");
  });

  it("migrates forward from the previous step with data in it, logging that pg_dump is the backup", async () => {
    const pool = new pg.Pool({ connectionString: POSTGRES_URL, options: `-c search_path=${schema}` });
    const client = await pool.connect();
    await client.query(`CREATE SCHEMA ${schema}`);
    client.release();
    const previous = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    await seedFirstRelease(previous, "postgres", schema);
    await previous.destroy();

    const { logger, lines } = capturedLogger();
    const db = await openDatabase(configFor(POSTGRES_URL), { postgresSchema: schema, logger });
    try {
      expect(await db.selectFrom("users").select("username").execute()).toEqual([{ username: "王芳" }]);
      expect(await db.selectFrom("knowledge_jobs").select("id").execute()).toEqual([]);
      expect(await db.selectFrom("messages").select("content_folded").execute()).toEqual([
        { content_folded: "how do i deploy hearth with postgresql? grüße aus münchen" },
      ]);
      await expectConversationSettings(db);
      await expectFoldersAndArchive(db);
      await expectMessageVersions(db);
      await expectPromptLibrary(db);
      await expectNoTemporaryChats(db);
      await expectAnswerFeedback(db);
      await expectExternalIdentities(db);
      await expectAnnouncementBanners(db);
      await expectAssistants(db);
      await expectChatControls(db);
      await expectSsoSessions(db);
      await expectMemories(db);
      await expectFinishReasons(db);
      await expectChosenKnowledgeBases(db);
      await expectUserPreferences(db);
    } finally {
      await db.destroy();
    }
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 40,
        from: 1,
        to: LATEST_STEP,
        msg: expect.stringContaining("the operator's pg_dump taken before upgrading is the backup"),
      }),
    );
    expect(backups()).toEqual([]);
  });

  it("names the usage of an account deleted before names were kept, as the audit log named it", async () => {
    const pool = new pg.Pool({ connectionString: POSTGRES_URL, options: `-c search_path=${schema}` });
    const client = await pool.connect();
    await client.query(`CREATE SCHEMA ${schema}`);
    client.release();
    const previous = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    await seedDeletedAccount(previous, "postgres", schema);
    await previous.destroy();
    const db = await openDatabase(configFor(POSTGRES_URL), { postgresSchema: schema });
    try {
      await expectDeletedAccountNamed(db);
    } finally {
      await db.destroy();
    }
  });

  it("of two replicas starting at once one step behind, only the one that migrates logs so; the other logs that it waited", async () => {
    const pool = new pg.Pool({ connectionString: POSTGRES_URL, options: `-c search_path=${schema}` });
    const client = await pool.connect();
    await client.query(`CREATE SCHEMA ${schema}`);
    client.release();
    const previous = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    const steps = await createMigrator(previous as Kysely<unknown>, "postgres", schema).getMigrations();
    const { error } = await createMigrator(previous as Kysely<unknown>, "postgres", schema).migrateTo(
      steps.at(-2)!.name,
    );
    await previous.destroy();
    if (error) throw error;

    // Kysely's migration lock (one PostgreSQL advisory lock), held here until both replicas have read
    // what is pending and wait for it, as two pods started together do.
    const lockId = 3853314791062309107n;
    const holder = new pg.Client({ connectionString: POSTGRES_URL });
    await holder.connect();
    await holder.query(`SELECT pg_advisory_lock(${lockId})`);
    const replicas = [capturedLogger(), capturedLogger()];
    // The replicas' connections are named, so that other tests' migrations of the same database,
    // waiting for the same lock meanwhile, are not counted as theirs.
    const named = new URL(POSTGRES_URL);
    named.searchParams.set("application_name", schema);
    const opening = replicas.map(({ logger }) =>
      openDatabase(configFor(named.href), { postgresSchema: schema, logger }),
    );
    try {
      for (let waiting = 0; waiting < 2; ) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        const { rows } = await holder.query<{ n: string }>(
          `SELECT count(*) AS n FROM pg_locks l JOIN pg_stat_activity a USING (pid)
             WHERE l.locktype = 'advisory' AND NOT l.granted AND a.application_name = $1
             AND l.classid = ${lockId >> 32n} AND l.objid = ${lockId & 0xffffffffn}`,
          [schema],
        );
        waiting = Number(rows[0]!.n);
      }
    } finally {
      await holder.query(`SELECT pg_advisory_unlock(${lockId})`);
      await holder.end();
    }
    for (const db of await Promise.all(opening)) await db.destroy();

    const said = (message: string) =>
      replicas.filter(({ lines }) => lines.some((line) => String(line.msg).startsWith(message)));
    const migrated = said("migrating the PostgreSQL web database without an automatic backup");
    expect(migrated).toHaveLength(1);
    expect(migrated[0]!.lines).toContainEqual(
      expect.objectContaining({
        level: 40,
        from: LATEST_STEP - 1,
        to: LATEST_STEP,
        pending: [steps.at(-1)!.name],
      }),
    );
    expect(said("migration applied")).toEqual(migrated);
    const waited = said("another process migrated the web database while this one waited");
    expect(waited).toHaveLength(1);
    expect(waited[0]).not.toBe(migrated[0]);
  });
});
