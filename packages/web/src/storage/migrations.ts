import { basename } from "node:path";
import { foldName } from "@hearth/contracts";
import { backupBeforeMigration, HearthError, type Logger, type SchemaTooNewDetails } from "@hearth/core";
import type { ColumnDefinitionBuilder, Kysely } from "kysely";
import { type Migration, type MigrationProvider, Migrator, sql } from "kysely";
import { searchCopy } from "../conversations/search-fold.js";

/**
 * The one migration history of the web service, written with Kysely's schema builder so the same
 * steps run on SQLite and PostgreSQL. Append new steps; never edit a released one.
 */
export type Dialect = "sqlite" | "postgres";

function migrations(dialect: Dialect, logger?: Logger): Record<string, Migration> {
  // An auto-increasing integer key: the one spot where the two dialects differ.
  const serialType = dialect === "postgres" ? "serial" : "integer";
  const serialKey = (c: ColumnDefinitionBuilder) =>
    dialect === "postgres" ? c.primaryKey() : c.primaryKey().autoIncrement();
  return {
    "0001-accounts-and-conversations": {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("users")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("username", "text", (c) => c.notNull().unique())
          .addColumn("password_hash", "text", (c) => c.notNull())
          .addColumn("role", "text", (c) => c.notNull())
          .addColumn("status", "text", (c) => c.notNull())
          .addColumn("created_at", "text", (c) => c.notNull())
          .execute();
        await db.schema
          .createTable("groups")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("name", "text", (c) => c.notNull().unique())
          .addColumn("created_at", "text", (c) => c.notNull())
          .execute();
        await db.schema
          .createTable("group_members")
          .addColumn("group_id", "text", (c) => c.notNull().references("groups.id").onDelete("cascade"))
          .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
          .addPrimaryKeyConstraint("group_members_pk", ["group_id", "user_id"])
          .execute();
        await db.schema
          .createTable("sessions")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
          .addColumn("csrf_token", "text", (c) => c.notNull())
          .addColumn("created_at", "text", (c) => c.notNull())
          .addColumn("expires_at", "text", (c) => c.notNull())
          .execute();
        await db.schema
          .createTable("api_keys")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
          .addColumn("name", "text", (c) => c.notNull())
          .addColumn("prefix", "text", (c) => c.notNull())
          .addColumn("key_hash", "text", (c) => c.notNull().unique())
          .addColumn("created_at", "text", (c) => c.notNull())
          .addColumn("revoked_at", "text")
          .addColumn("last_used_at", "text")
          .execute();
        await db.schema
          .createTable("audit_log")
          .addColumn("id", serialType, serialKey)
          .addColumn("actor_id", "text")
          .addColumn("action", "text", (c) => c.notNull())
          .addColumn("target", "text")
          .addColumn("details", "text")
          .addColumn("created_at", "text", (c) => c.notNull())
          .execute();
        await db.schema
          .createTable("settings")
          .addColumn("key", "text", (c) => c.primaryKey())
          .addColumn("value", "text", (c) => c.notNull())
          .execute();
        await db.schema
          .createTable("conversations")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
          .addColumn("title", "text", (c) => c.notNull())
          .addColumn("model", "text")
          .addColumn("created_at", "text", (c) => c.notNull())
          .addColumn("updated_at", "text", (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex("conversations_user")
          .on("conversations")
          .columns(["user_id", "updated_at"])
          .execute();
        await db.schema
          .createTable("messages")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("conversation_id", "text", (c) =>
            c.notNull().references("conversations.id").onDelete("cascade"),
          )
          .addColumn("seq", "integer", (c) => c.notNull())
          .addColumn("role", "text", (c) => c.notNull())
          .addColumn("content", "text", (c) => c.notNull())
          .addColumn("reasoning", "text")
          .addColumn("status", "text", (c) => c.notNull())
          .addColumn("model", "text")
          .addColumn("citations", "text")
          .addColumn("error", "text")
          .addColumn("created_at", "text", (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex("messages_conversation")
          .on("messages")
          .columns(["conversation_id", "seq"])
          .unique()
          .execute();
        await db.schema
          .createTable("model_access")
          .addColumn("model", "text", (c) => c.notNull())
          .addColumn("group_id", "text", (c) => c.notNull().references("groups.id").onDelete("cascade"))
          .addPrimaryKeyConstraint("model_access_pk", ["model", "group_id"])
          .execute();
        await db.schema
          .createTable("knowledge_bases")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("owner_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
          .addColumn("visibility", "text", (c) => c.notNull())
          .addColumn("created_at", "text", (c) => c.notNull())
          .execute();
        await db.schema
          .createTable("knowledge_shares")
          .addColumn("knowledge_base_id", "text", (c) =>
            c.notNull().references("knowledge_bases.id").onDelete("cascade"),
          )
          .addColumn("group_id", "text", (c) => c.notNull().references("groups.id").onDelete("cascade"))
          .addColumn("permission", "text", (c) => c.notNull())
          .addPrimaryKeyConstraint("knowledge_shares_pk", ["knowledge_base_id", "group_id"])
          .execute();
        await db.schema
          .createTable("usage")
          .addColumn("id", serialType, serialKey)
          .addColumn("user_id", "text", (c) => c.notNull())
          .addColumn("api_key_id", "text")
          .addColumn("model", "text", (c) => c.notNull())
          .addColumn("prompt_tokens", "integer", (c) => c.notNull())
          .addColumn("completion_tokens", "integer", (c) => c.notNull())
          .addColumn("requests", "integer", (c) => c.notNull())
          .addColumn("cost_units", "integer", (c) => c.notNull())
          .addColumn("created_at", "text", (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex("usage_user_time")
          .on("usage")
          .columns(["user_id", "created_at"])
          .execute();
      },
    },
    "0002-knowledge-jobs": {
      // Which knowledge base started an ingestion job, so job routes survive a restart.
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("knowledge_jobs")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("knowledge_base_id", "text", (c) =>
            c.notNull().references("knowledge_bases.id").onDelete("cascade"),
          )
          .addColumn("created_at", "text", (c) => c.notNull())
          .execute();
      },
    },
    "0003-search-folding": {
      // Search folds case in JavaScript (SQLite's lower() is ASCII only): folded copies of the
      // titles and messages that need one, filled in here for what is already stored.
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable("conversations").addColumn("title_folded", "text").execute();
        await db.schema.alterTable("messages").addColumn("content_folded", "text").execute();
        await backfillFolded(db, "conversations", "title", "title_folded");
        await backfillFolded(db, "messages", "content", "content_folded");
      },
    },
    "0004-audit-names": {
      // Names in the entry itself, so the log still names an account or group after it is deleted;
      // earlier entries get the names of those that still exist.
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable("audit_log").addColumn("actor_name", "text").execute();
        await db.schema.alterTable("audit_log").addColumn("target_name", "text").execute();
        await sql`
          UPDATE audit_log SET
            actor_name = (SELECT username FROM users WHERE users.id = audit_log.actor_id),
            target_name = COALESCE(
              (SELECT username FROM users WHERE users.id = audit_log.target),
              (SELECT name FROM groups WHERE groups.id = audit_log.target))`.execute(db);
      },
    },
    "0005-username-fold": {
      // User names become unique without regard to case and width (foldName, @hearth/contracts):
      // a folded copy of each name under a unique index. Where earlier releases let names collide
      // when folded ("admin" and "ADMIN"), the oldest account takes the folded name and the later
      // ones keep none: no account is renamed or lost, each still signs in by its exact spelling,
      // and no new account can take any of those names again. The log lists them for the operator.
      async up(db: Kysely<unknown>) {
        const collisions = await foldUnique(db, {
          table: "users",
          column: "username",
          foldedColumn: "username_folded",
          index: "users_username_folded",
          fold: foldName,
        });
        if (collisions.length)
          logger?.warn(
            { accounts: collisions },
            "user names that differ only in case or width: kept as they are (each signs in by its exact spelling); an administrator may want to delete or disable the duplicates",
          );
      },
    },
    "0006-message-error-code": {
      // A failed answer keeps its error's stable code beside the text, so the UI says it in the
      // reader's language after a reload too; earlier failures have only their text (code null).
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable("messages").addColumn("error_code", "text").execute();
      },
    },
    "0007-group-name-fold": {
      // Group names become unique without regard to case and width, as user names are (the same
      // fold: "finance" and "Finance" are one name): a folded copy of each name under a unique
      // index. Where earlier releases let names collide when folded, the oldest group takes the
      // folded name and the later ones keep none: no group is renamed or lost, and no new group
      // can take any of those names again. The log lists them for the operator.
      // And a model whose only allowed groups were deleted stays limited to administrators
      // (model_admin_only) rather than opening to everyone.
      async up(db: Kysely<unknown>) {
        const collisions = await foldUnique(db, {
          table: "groups",
          column: "name",
          foldedColumn: "name_folded",
          index: "groups_name_folded",
          fold: foldName,
        });
        await db.schema
          .createTable("model_admin_only")
          .addColumn("model", "text", (c) => c.primaryKey())
          .execute();
        if (collisions.length)
          logger?.warn(
            { groups: collisions },
            "group names that differ only in case or width: kept as they are; an administrator may want to rename or delete the duplicates",
          );
      },
    },
    "0008-search-folding-chinese": {
      // Search folds traditional Chinese to simplified too (環境 finds 环境): the folded copies are
      // filled in again for what is already stored, since text in traditional characters had none.
      async up(db: Kysely<unknown>) {
        await backfillFolded(db, "conversations", "title", "title_folded");
        await backfillFolded(db, "messages", "content", "content_folded");
      },
    },
    "0009-usage-groups": {
      // Each usage record keeps the groups its user was in at the time of the request (ids and
      // names, as JSON), so the report attributes it to those groups after a group is deleted or
      // the user moves. Earlier records stay null, "groups not recorded": today's membership would
      // be a guess about then.
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable("usage").addColumn("user_groups", "text").execute();
      },
    },
    "0010-message-heartbeat": {
      // When the process writing a streaming answer last stored it (its text so far, or only that
      // it is alive): an answer whose writer has gone quiet is no longer taken for one being
      // written, whichever replica looks. Null for answers that ended before this step.
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable("messages").addColumn("heartbeat_at", "text").execute();
      },
    },
    "0011-message-stop-requested": {
      // When a Stop was asked for an answer being written: its writer reads it as it stores the
      // answer so far (every second), so a Stop reaches the replica writing the answer even when
      // that replica did not hear the notification (its listening connection down).
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable("messages").addColumn("stop_requested_at", "text").execute();
      },
    },
    "0012-conversation-settings": {
      // A conversation's own system prompt (null: none), sent before its messages on every turn, and
      // whether the user pinned it (0 or 1: the list shows pinned ones first). Conversations stored
      // before this step have neither. The list's order, pinned first then the latest, has an index.
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable("conversations").addColumn("system_prompt", "text").execute();
        await db.schema
          .alterTable("conversations")
          .addColumn("pinned", "integer", (c) => c.notNull().defaultTo(0))
          .execute();
        await db.schema
          .createIndex("conversations_user_pinned")
          .on("conversations")
          .columns(["user_id", "pinned", "updated_at"])
          .execute();
      },
    },
    "0013-conversation-shares": {
      // A conversation's share link: a random id (the link), and the snapshot it shows, its title
      // and messages as JSON as they were when the owner shared (or last updated) it. One a
      // conversation; it goes with its conversation (and so with the owner's account).
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("conversation_shares")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("conversation_id", "text", (c) =>
            c.notNull().unique().references("conversations.id").onDelete("cascade"),
          )
          .addColumn("title", "text", (c) => c.notNull())
          .addColumn("messages", "text", (c) => c.notNull())
          .addColumn("message_count", "integer", (c) => c.notNull())
          .addColumn("created_at", "text", (c) => c.notNull())
          .execute();
      },
    },
    "0014-usage-request-id": {
      // A usage record's own id, given when its request is admitted: a batch of records written
      // again after the database's answer to it was lost (the link broke as it committed) adds
      // the records it already stored no second time. Earlier records have none (a unique index
      // allows any number of nulls).
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable("usage").addColumn("request_id", "text").execute();
        await db.schema.createIndex("usage_request_id").unique().on("usage").column("request_id").execute();
      },
    },
    "0015-conversation-folders": {
      // A user's own folders (their name unique per user, compared folded as user and group names
      // are), a conversation's folder (null: unfiled, the list's main part) and when it was archived
      // (null: not archived). Conversations stored before are unfiled and not archived. The list's
      // queries, one user's conversations archived or not, unfiled or of one folder, pinned first
      // then the latest, have an index.
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("folders")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
          .addColumn("name", "text", (c) => c.notNull())
          .addColumn("name_folded", "text", (c) => c.notNull())
          .addColumn("created_at", "text", (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex("folders_user_name")
          .on("folders")
          .columns(["user_id", "name_folded"])
          .unique()
          .execute();
        await db.schema
          .alterTable("conversations")
          .addColumn("folder_id", "text", (c) => c.references("folders.id").onDelete("set null"))
          .execute();
        await db.schema.alterTable("conversations").addColumn("archived_at", "text").execute();
        await db.schema
          .createIndex("conversations_user_list")
          .on("conversations")
          .columns(["user_id", "archived_at", "folder_id", "pinned", "updated_at"])
          .execute();
      },
    },
    "0016-message-versions": {
      // Message versions: an edit and resend, or a regeneration, sets the messages it replaces
      // aside as a version of the conversation (one row each, the messages as JSON) instead of
      // deleting them; the messages table keeps holding the path shown. It goes with its
      // conversation. Nothing stored before has versions.
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("message_versions")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("conversation_id", "text", (c) =>
            c.notNull().references("conversations.id").onDelete("cascade"),
          )
          .addColumn("after_seq", "integer", (c) => c.notNull())
          .addColumn("created_at", "text", (c) => c.notNull())
          .addColumn("tail", "text", (c) => c.notNull())
          .addColumn("held", "integer", (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex("message_versions_place")
          .on("message_versions")
          .columns(["conversation_id", "after_seq"])
          .execute();
      },
    },
    "0017-user-preferences": {
      // A user's own chat defaults and display choices, kept on the server so that they follow
      // the user to every browser: personal instructions (the system prompt a new conversation
      // starts with), a default model and web search mode, the language and the theme. One row a
      // user, written the first time they save one; a column left null was never chosen. It goes
      // with its account. Nothing stored before changes.
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("user_preferences")
          .addColumn("user_id", "text", (c) => c.primaryKey().references("users.id").onDelete("cascade"))
          .addColumn("instructions", "text")
          .addColumn("default_model", "text")
          .addColumn("web_search", "text")
          .addColumn("language", "text")
          .addColumn("theme", "text")
          .addColumn("updated_at", "text", (c) => c.notNull())
          .execute();
      },
    },
    "0018-alert-claims": {
      // The alerts the replicas of the web service share (alerts/alert-claims.ts): each alert
      // instance's state as notified, so that of the replicas that see it change, one claims the
      // change and sends its notification. Kept by the alert's key (its name and labels).
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("alert_claims")
          .addColumn("key", "text", (c) => c.primaryKey())
          .addColumn("status", "text", (c) => c.notNull())
          .addColumn("episode", "integer", (c) => c.notNull())
          .addColumn("notification", "text", (c) => c.notNull())
          .addColumn("claimed_by", "text", (c) => c.notNull())
          .addColumn("changed_at", "text", (c) => c.notNull())
          .addColumn("seen_at", "text", (c) => c.notNull())
          .execute();
      },
    },
    "0019-conversation-files": {
      // Files attached to a chat (conversations/conversation-files.ts) live in a knowledge base of
      // the conversation's own, private to its owner: `conversation_id` marks such a base (one per
      // conversation: unique; null for every base stored before, which stay as they were). A
      // conversation deleted leaves its base's id in `knowledge_base_deletions` until the knowledge
      // service has deleted the base too (tried at once, then again every minute while it fails).
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable("knowledge_bases").addColumn("conversation_id", "text").execute();
        await db.schema
          .createIndex("knowledge_bases_conversation")
          .unique()
          .on("knowledge_bases")
          .column("conversation_id")
          .execute();
        await db.schema
          .createTable("knowledge_base_deletions")
          .addColumn("knowledge_base_id", "text", (c) => c.primaryKey())
          .addColumn("requested_at", "text", (c) => c.notNull())
          .execute();
      },
    },
    "0020-prompt-library": {
      // The prompt library: reusable prompts, each called by a command typed after "/" in the
      // message box. A user's own (user_id theirs, scope their id) or shared with everyone by an
      // administrator (user_id null, scope "shared"); a command is unique within its scope,
      // compared folded as user and folder names are (command_folded). A user's own goes with
      // their account; a shared one stays when the administrator who wrote it goes (created_by
      // null). Nothing stored before changes.
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("prompts")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("user_id", "text", (c) => c.references("users.id").onDelete("cascade"))
          .addColumn("scope", "text", (c) => c.notNull())
          .addColumn("command", "text", (c) => c.notNull())
          .addColumn("command_folded", "text", (c) => c.notNull())
          .addColumn("title", "text", (c) => c.notNull())
          .addColumn("content", "text", (c) => c.notNull())
          .addColumn("created_by", "text", (c) => c.references("users.id").onDelete("set null"))
          .addColumn("created_at", "text", (c) => c.notNull())
          .addColumn("updated_at", "text", (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex("prompts_scope_command")
          .on("prompts")
          .columns(["scope", "command_folded"])
          .unique()
          .execute();
      },
    },
    "0021-temporary-chats": {
      // Temporary chats: conversations kept out of the list and its search, deleted
      // when their user leaves them or web.temporaryChatHours after their last activity (found by
      // the index every minute). Nothing stored before is one.
      async up(db: Kysely<unknown>) {
        await db.schema
          .alterTable("conversations")
          .addColumn("temporary", "integer", (c) => c.notNull().defaultTo(0))
          .execute();
        await db.schema
          .createIndex("conversations_temporary")
          .on("conversations")
          .columns(["temporary", "updated_at"])
          .execute();
      },
    },
    "0022-message-feedback": {
      // Answer feedback: a user's thumbs up or down on an answer of their own conversation, with an
      // optional comment. One row an answer (by its message's id, which stays the same when the
      // answer is set aside as a version and brought back), recording for the administrators'
      // report who rated it and when, the model that wrote it, its place (seq, and which of the
      // versions there it is) and the start of its text as it was rated. It goes with its
      // conversation (and so with the owner's account): deleteConversationRows deletes it. Nothing
      // stored before is rated.
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("message_feedback")
          .addColumn("message_id", "text", (c) => c.primaryKey())
          // No cascade: deleteConversationRows deletes the ratings with their conversation, and the
          // keys refuse a rating of a conversation deleted meanwhile.
          .addColumn("conversation_id", "text", (c) => c.notNull().references("conversations.id"))
          .addColumn("user_id", "text", (c) => c.notNull().references("users.id"))
          .addColumn("model", "text")
          .addColumn("seq", "integer", (c) => c.notNull())
          .addColumn("version_index", "integer")
          .addColumn("version_count", "integer")
          .addColumn("rating", "text", (c) => c.notNull())
          .addColumn("comment", "text")
          .addColumn("answer_start", "text", (c) => c.notNull())
          .addColumn("rated_at", "text", (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex("message_feedback_conversation")
          .on("message_feedback")
          .column("conversation_id")
          .execute();
        await db.schema
          .createIndex("message_feedback_rated")
          .on("message_feedback")
          .column("rated_at")
          .execute();
      },
    },
    "0023-external-identities": {
      // Single sign-on (auth/oidc-accounts.ts): the identities an OpenID Connect provider vouches for,
      // each (its issuer and its subject, unique) tied to one account, with the email address the
      // provider last gave. It goes with its account. Accounts stored before have none: they sign
      // in with their passwords as before.
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("external_identities")
          .addColumn("issuer", "text", (c) => c.notNull())
          .addColumn("subject", "text", (c) => c.notNull())
          .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
          .addColumn("email", "text")
          .addColumn("created_at", "text", (c) => c.notNull())
          .addColumn("last_sign_in_at", "text", (c) => c.notNull())
          .addPrimaryKeyConstraint("external_identities_pk", ["issuer", "subject"])
          .execute();
        await db.schema
          .createIndex("external_identities_user")
          .on("external_identities")
          .column("user_id")
          .execute();
      },
    },
    "0024-announcement-banners": {
      // Announcement banners: notices administrators put at the top of every signed-in user's page,
      // in their order (position), each shown between its optional start and end. A text edit
      // raises revision; a user's dismissal holds for the revision they closed (an edited banner
      // comes back). Dismissals go with their banner and with their user (the account deletion
      // deletes them, as it deletes the user's other rows). Nothing stored before changes.
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("banners")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("text", "text", (c) => c.notNull())
          .addColumn("type", "text", (c) => c.notNull())
          .addColumn("dismissible", "integer", (c) => c.notNull())
          .addColumn("starts_at", "text")
          .addColumn("ends_at", "text")
          .addColumn("position", "integer", (c) => c.notNull())
          .addColumn("revision", "integer", (c) => c.notNull())
          .addColumn("created_at", "text", (c) => c.notNull())
          .addColumn("updated_at", "text", (c) => c.notNull())
          .execute();
        await db.schema
          .createTable("banner_dismissals")
          .addColumn("banner_id", "text", (c) => c.notNull().references("banners.id").onDelete("cascade"))
          .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
          .addColumn("revision", "integer", (c) => c.notNull())
          .addColumn("dismissed_at", "text", (c) => c.notNull())
          .addPrimaryKeyConstraint("banner_dismissals_pk", ["banner_id", "user_id"])
          .execute();
        await db.schema
          .createIndex("banner_dismissals_user")
          .on("banner_dismissals")
          .column("user_id")
          .execute();
      },
    },
    "0025-assistants": {
      // Assistants: saved model presets a team shares (a base model, a system prompt, knowledge
      // bases as a JSON array of ids, a web search mode, a temperature), each its owner's (it goes
      // with their account), private, shared with groups (assistant_shares, as knowledge_shares are)
      // or public. A name is unique among its owner's, compared folded as prompt commands are. A
      // conversation started with one remembers it (its id and name) and keeps what it took from
      // it (its knowledge bases, web search mode and temperature): no foreign key, so that deleting
      // the assistant leaves its conversations as they were. Nothing stored before changes.
      async up(db: Kysely<unknown>) {
        // Not float4: 0.7 read back from PostgreSQL's `real` is 0.699999988.
        const float = dialect === "postgres" ? "double precision" : "real";
        await db.schema
          .createTable("assistants")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("owner_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
          .addColumn("name", "text", (c) => c.notNull())
          .addColumn("name_folded", "text", (c) => c.notNull())
          .addColumn("description", "text", (c) => c.notNull())
          .addColumn("model", "text", (c) => c.notNull())
          .addColumn("system_prompt", "text")
          .addColumn("knowledge_base_ids", "text", (c) => c.notNull())
          .addColumn("web_search", "text", (c) => c.notNull())
          .addColumn("temperature", float)
          .addColumn("visibility", "text", (c) => c.notNull())
          .addColumn("created_at", "text", (c) => c.notNull())
          .addColumn("updated_at", "text", (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex("assistants_owner_name")
          .on("assistants")
          .columns(["owner_id", "name_folded"])
          .unique()
          .execute();
        await db.schema
          .createTable("assistant_shares")
          .addColumn("assistant_id", "text", (c) =>
            c.notNull().references("assistants.id").onDelete("cascade"),
          )
          .addColumn("group_id", "text", (c) => c.notNull().references("groups.id").onDelete("cascade"))
          .addPrimaryKeyConstraint("assistant_shares_pk", ["assistant_id", "group_id"])
          .execute();
        await db.schema
          .createIndex("assistant_shares_group")
          .on("assistant_shares")
          .column("group_id")
          .execute();
        await db.schema.alterTable("conversations").addColumn("assistant_id", "text").execute();
        await db.schema.alterTable("conversations").addColumn("assistant_name", "text").execute();
        await db.schema.alterTable("conversations").addColumn("knowledge_base_ids", "text").execute();
        await db.schema.alterTable("conversations").addColumn("web_search", "text").execute();
        await db.schema.alterTable("conversations").addColumn("temperature", float).execute();
      },
    },
    "0026-chat-controls": {
      // Chat controls: a conversation's own model parameters beside the temperature it already
      // has (0025, which the user now sets too): top_p, the longest answer in tokens and the
      // sampler's seed, each null for the model's own. Every conversation from before keeps the
      // model's own (null), as it had.
      async up(db: Kysely<unknown>) {
        const float = dialect === "postgres" ? "double precision" : "real";
        await db.schema.alterTable("conversations").addColumn("top_p", float).execute();
        await db.schema.alterTable("conversations").addColumn("max_tokens", "integer").execute();
        await db.schema.alterTable("conversations").addColumn("seed", "integer").execute();
      },
    },
    "0027-repetition-controls": {
      // Chat controls for repetition: OpenAI's frequency_penalty and presence_penalty, each null for
      // the model's own. Every conversation from before keeps the model's own (null), as it had.
      async up(db: Kysely<unknown>) {
        const float = dialect === "postgres" ? "double precision" : "real";
        await db.schema.alterTable("conversations").addColumn("frequency_penalty", float).execute();
        await db.schema.alterTable("conversations").addColumn("presence_penalty", float).execute();
      },
    },
    "0028-sso-sign-out": {
      // A single sign-on session keeps the provider's ID token, its id_token_hint when signing out
      // at the provider (RP-Initiated Logout); password sessions, and those from before, have none.
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable("sessions").addColumn("id_token", "text").execute();
      },
    },
    "0029-sampler-controls": {
      // Chat controls for llama.cpp's (and Ollama's) samplers: top_k, min_p and the multiplicative
      // repeat_penalty, each null for the model's own. Every conversation from before keeps the
      // model's own (null), as it had. Floats as 0027's: PostgreSQL's real would read 0.05 back as
      // 0.0500000007.
      async up(db: Kysely<unknown>) {
        const float = dialect === "postgres" ? "double precision" : "real";
        await db.schema.alterTable("conversations").addColumn("top_k", "integer").execute();
        await db.schema.alterTable("conversations").addColumn("min_p", float).execute();
        await db.schema.alterTable("conversations").addColumn("repeat_penalty", float).execute();
      },
    },
    "0030-memories": {
      // Memory: facts a user asked the assistant to remember about them, one row each, listed
      // newest first (by created_at, which the store keeps rising for each user), going with their
      // account; and the user's choice to add them to their chats (user_preferences.memory, 1: on),
      // off for every account from before, as for a new one. Nothing stored before changes.
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("memories")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
          .addColumn("content", "text", (c) => c.notNull())
          .addColumn("created_at", "text", (c) => c.notNull())
          .addColumn("updated_at", "text", (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex("memories_user")
          .on("memories")
          .columns(["user_id", "created_at"])
          .execute();
        await db.schema
          .alterTable("user_preferences")
          .addColumn("memory", "integer", (c) => c.notNull().defaultTo(0))
          .execute();
      },
    },
    "0031-message-finish-reason": {
      // Why the model ended an answer, as it said (stop, length: cut off at the length limit), so
      // that an answer cut off is said to be after a reload too. Null for answers from before, and
      // for any that did not end with the model's finish (stopped, interrupted, failed).
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable("messages").addColumn("finish_reason", "text").execute();
      },
    },
    "0032-chosen-knowledge-bases": {
      // The knowledge bases the user chose for a conversation in its page (a JSON array of ids), kept
      // with it so that it opens with them on any device; null for every conversation from before
      // (and any never chosen for), which opens with those it took from its assistant, as before.
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable("conversations").addColumn("chosen_knowledge_base_ids", "text").execute();
      },
    },
    "0033-deleted-account-names": {
      // A deleted account's name and the names of its API keys, kept as its rows go, so that its
      // usage (which stays, for the totals) is still named for chargeback, as the audit log names
      // it. An account deleted before this step is named as its audit entries named it: the account
      // by its `user.delete` entry, each key by its `api-key.create` entry (its details' name).
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("deleted_users")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("username", "text", (c) => c.notNull())
          .addColumn("deleted_at", "text", (c) => c.notNull())
          .execute();
        await db.schema
          .createTable("deleted_api_keys")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("user_id", "text", (c) => c.notNull())
          .addColumn("name", "text", (c) => c.notNull())
          .execute();
        await sql`
          INSERT INTO deleted_users (id, username, deleted_at)
          SELECT target, target_name, created_at FROM audit_log
          WHERE id IN (
            SELECT MAX(id) FROM audit_log
            WHERE action = 'user.delete' AND target IS NOT NULL AND target_name IS NOT NULL
              AND target NOT IN (SELECT id FROM users)
            GROUP BY target)`.execute(db);
        const { rows: keys } = await sql<{ id: string; user_id: string; details: string | null }>`
          SELECT target AS id, actor_id AS user_id, details FROM audit_log
          WHERE action = 'api-key.create' AND target IS NOT NULL AND actor_id IS NOT NULL
            AND target NOT IN (SELECT id FROM api_keys)`.execute(db);
        for (const key of keys) {
          const name = keyNameOf(key.details);
          if (name !== null)
            await sql`INSERT INTO deleted_api_keys (id, user_id, name) VALUES (${key.id}, ${key.user_id}, ${name})
              ON CONFLICT (id) DO NOTHING`.execute(db);
        }
      },
    },
  };
}

/** The key's name in an `api-key.create` entry's details (`{"name": ...}`); null when it has none. */
function keyNameOf(details: string | null): string | null {
  try {
    const name = (JSON.parse(details ?? "null") as { name?: unknown } | null)?.name;
    return typeof name === "string" ? name : null;
  } catch {
    return null;
  }
}

/**
 * Adds `foldedColumn` to `table` and stores in it the fold of each row's `column`, oldest row
 * first (by created_at, then id), under a unique index: a row whose folded text an older row
 * holds keeps none, and is returned as a collision ({ id, [column], sameAs }) for the log.
 */
async function foldUnique(
  db: Kysely<unknown>,
  options: {
    table: string;
    column: string;
    foldedColumn: string;
    index: string;
    fold: (text: string) => string;
  },
): Promise<Array<Record<string, string>>> {
  const { table, column, foldedColumn, index, fold } = options;
  await db.schema.alterTable(table).addColumn(foldedColumn, "text").execute();
  const { rows } = await sql<Record<string, string> & { id: string }>`
    SELECT id, ${sql.ref(column)} FROM ${sql.table(table)} ORDER BY created_at, id`.execute(db);
  const holders = new Map<string, Record<string, string>>();
  const collisions: Array<Record<string, string>> = [];
  for (const row of rows) {
    const text = row[column] as string;
    const folded = fold(text);
    const holder = holders.get(folded);
    if (holder) {
      collisions.push({ id: row.id, [column]: text, sameAs: holder[column] as string });
      continue;
    }
    holders.set(folded, row);
    await sql`UPDATE ${sql.table(table)} SET ${sql.ref(foldedColumn)} = ${folded} WHERE id = ${row.id}`.execute(
      db,
    );
  }
  await db.schema.createIndex(index).on(table).column(foldedColumn).unique().execute();
  return collisions;
}

/** Stores the folded copy of each row's text that needs one, a batch of rows at a time. */
async function backfillFolded(db: Kysely<unknown>, table: string, column: string, folded: string) {
  let after = "";
  for (;;) {
    const { rows } = await sql<{ id: string; text: string }>`
      SELECT id, ${sql.ref(column)} AS text FROM ${sql.table(table)}
      WHERE id > ${after} ORDER BY id LIMIT 500`.execute(db);
    for (const row of rows) {
      const copy = searchCopy(row.text);
      if (copy !== null)
        await sql`UPDATE ${sql.table(table)} SET ${sql.ref(folded)} = ${copy} WHERE id = ${row.id}`.execute(
          db,
        );
    }
    if (rows.length < 500) return;
    after = rows.at(-1)!.id;
  }
}

/**
 * Called once per run, under the migrator's lock and inside its transaction, just before the first
 * pending step: with that step's name, read under the lock, so only the process that migrates acts
 * on what is pending.
 */
type BeforeFirstPending = (first: string, db: Kysely<unknown>) => Promise<void>;

class InlineMigrations implements MigrationProvider {
  constructor(
    readonly dialect: Dialect,
    readonly logger?: Logger,
    readonly beforeFirstPending?: BeforeFirstPending,
  ) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    const steps = migrations(this.dialect, this.logger);
    const before = this.beforeFirstPending;
    if (!before) return steps;
    // Kysely reads which steps are pending after it takes its lock, then runs them in order: the
    // first step that runs is the first one pending under the lock.
    let started = false;
    return Object.fromEntries(
      Object.entries(steps).map(([name, step]) => [
        name,
        {
          ...step,
          async up(db: Kysely<unknown>) {
            if (!started) {
              started = true;
              await before(name, db);
            }
            await step.up(db);
          },
        },
      ]),
    );
  }
}

/**
 * Kysely's migrator over this history. Kysely looks for its migration tables across all schemas
 * unless told which one: name it, or a second schema in the same database (tests, several
 * deployments) would skip creating its own.
 */
export function createMigrator(
  db: Kysely<unknown>,
  dialect: Dialect,
  schema?: string,
  logger?: Logger,
  beforeFirstPending?: BeforeFirstPending,
): Migrator {
  return new Migrator({
    db,
    provider: new InlineMigrations(dialect, logger, beforeFirstPending),
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
}

export interface MigrateOptions {
  /** PostgreSQL: the schema holding Hearth's tables. */
  schema?: string;
  /** SQLite: the database file and the data directory it lies in, for the pre-migration backup. */
  sqlite?: { databasePath: string; dataDir: string };
  logger?: Logger;
}

/**
 * Brings the schema up to date; a failed step stops start-up with the reason. Before pending steps
 * run on a database that already holds tables, SQLite is backed up with core's pre-migration backup
 * (the same one every Hearth store takes, restorable with `hearth restore`); for PostgreSQL the
 * operator's pg_dump is the backup, and the log says so. Both are decided from the steps pending
 * under the migration lock: of several replicas starting at once, only the one that migrates says
 * so; the others log that they waited for it.
 */
export async function migrateToLatest(
  db: Kysely<unknown>,
  dialect: Dialect,
  options: MigrateOptions = {},
): Promise<void> {
  let migrating: { from: number; backup: string | undefined } | undefined;
  const migrator = createMigrator(db, dialect, options.schema, options.logger, async (first, locked) => {
    const from = names.indexOf(first);
    migrating = { from, backup: await beforeMigrating(locked, dialect, names, from, options) };
  });
  const steps = await migrator.getMigrations();
  const names = steps.map((step) => step.name);
  await refuseNewerSchema(db, dialect, names, options);
  const behindBeforeLock = steps.filter((step) => step.executedAt === undefined).length > 0;
  const { error, results = [] } = await migrator.migrateToLatest();
  const database = describeDatabase(dialect, options);
  if (error) {
    // Kysely runs the pending steps in one transaction (both dialects have transactional DDL): a
    // step that fails takes the ones before it in this start back with it.
    const failed = results.find((result) => result.status === "Error")?.migrationName ?? "a step";
    const from = migrating?.from ?? steps.filter((step) => step.executedAt !== undefined).length;
    const backup = migrating?.backup;
    const stays = from > 0 ? `it stays at ${names[from - 1]}` : "it stays empty";
    const kept = backup
      ? `; the backup taken before migrating is ${backup}`
      : dialect === "postgres"
        ? "; the pg_dump taken before the upgrade is the backup"
        : "";
    throw new HearthError(
      "MIGRATION_FAILED",
      `Migration ${failed} of ${database} failed and the upgrade was rolled back (${stays}): ${(error as Error).message}${kept}`,
      { cause: error, details: { step: failed, backup } },
    );
  }
  // Named as the knowledge store names its steps at start-up: what an upgrade changed, in the log.
  const logged = options.sqlite ? basename(options.sqlite.databasePath) : database;
  if (behindBeforeLock && !migrating)
    options.logger?.info(
      { database: logged, to: names.at(-1) },
      "another process migrated the web database while this one waited for the migration lock",
    );
  for (const result of results)
    options.logger?.info({ database: logged, name: result.migrationName }, "migration applied");
}

/**
 * What comes before the steps pending under the lock run on a database that holds something:
 * SQLite's automatic backup (its path returned), or for PostgreSQL the warning that the operator's
 * pg_dump is the backup.
 */
async function beforeMigrating(
  db: Kysely<unknown>,
  dialect: Dialect,
  names: string[],
  from: number,
  options: MigrateOptions,
): Promise<string | undefined> {
  const to = names.length;
  if (!(await hasTables(db, dialect, from))) return undefined;
  if (dialect === "sqlite" && options.sqlite)
    return backupBeforeMigration({
      databasePath: options.sqlite.databasePath,
      dataDir: options.sqlite.dataDir,
      from,
      to,
      ...(options.logger ? { logger: options.logger } : {}),
    });
  if (dialect === "postgres")
    options.logger?.warn(
      { from, to, pending: names.slice(from) },
      "migrating the PostgreSQL web database without an automatic backup: the operator's pg_dump taken before upgrading is the backup",
    );
  return undefined;
}

/** The web database, as its start-up errors name it. */
function describeDatabase(dialect: Dialect, options: MigrateOptions): string {
  return dialect === "sqlite"
    ? (options.sqlite?.databasePath ?? "the web database")
    : `the PostgreSQL web database (schema ${options.schema ?? "public"})`;
}

/**
 * Where the schema stands, read without changing anything (`hearth doctor`): the steps applied and
 * the steps this Hearth knows; SCHEMA_TOO_NEW for a database a newer Hearth migrated.
 */
export async function inspectMigrations(
  db: Kysely<unknown>,
  dialect: Dialect,
  options: MigrateOptions = {},
): Promise<{ applied: number; latest: number }> {
  const steps = await createMigrator(db, dialect, options.schema).getMigrations();
  await refuseNewerSchema(
    db,
    dialect,
    steps.map((step) => step.name),
    options,
  );
  return { applied: steps.filter((step) => step.executedAt !== undefined).length, latest: steps.length };
}

/**
 * A database a newer Hearth has migrated holds steps this code does not know: it is refused with
 * SCHEMA_TOO_NEW naming them (as the knowledge store does), not run into Kysely's "corrupted
 * migrations", so the operator learns to start the newer release or restore the backup taken
 * before the upgrade.
 */
async function refuseNewerSchema(
  db: Kysely<unknown>,
  dialect: Dialect,
  known: string[],
  options: MigrateOptions,
): Promise<void> {
  const latest = known.at(-1) ?? "";
  let executed: string[];
  try {
    const source = options.schema ? db.withSchema(options.schema) : db;
    const rows = await (source as Kysely<{ kysely_migration: { name: string } }>)
      .selectFrom("kysely_migration")
      .select("name")
      .execute();
    executed = rows.map((row) => row.name);
  } catch {
    return; // no migration table yet: a new database
  }
  const newer = executed.filter((name) => !known.includes(name) && name > latest).sort();
  if (newer.length === 0) return;
  const where = describeDatabase(dialect, options);
  const restore =
    dialect === "sqlite"
      ? "restore the pre-migration backup taken before the upgrade (hearth restore <data dir>/backups/pre-migration-web.sqlite-...)"
      : "restore the pg_dump taken before the upgrade";
  throw new HearthError(
    "SCHEMA_TOO_NEW",
    `${where} was written by a newer Hearth: it has migration ${newer.join(", ")}, and this Hearth knows up to ${latest}; start the newer Hearth again, or ${restore}`,
    { details: { database: where, applied: newer, latest } satisfies SchemaTooNewDetails },
  );
}

/**
 * Whether the database holds anything to keep: a step already applied, or (SQLite) any table
 * besides the migrator's own, which it makes before it takes its lock.
 */
async function hasTables(db: Kysely<unknown>, dialect: Dialect, applied: number): Promise<boolean> {
  if (applied > 0) return true;
  if (dialect === "postgres") return false;
  const { rows } = await sql<{ n: number }>`
    SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'kysely_migration%'`.execute(
    db,
  );
  return Number(rows[0]?.n ?? 0) > 0;
}
