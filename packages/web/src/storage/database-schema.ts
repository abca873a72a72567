/** Table types of the web service's database (SQLite by default, PostgreSQL when configured). */
import type { Generated } from "kysely";

export interface UsersTable {
  id: string;
  /** How the user typed it at sign-up; shown everywhere. */
  username: string;
  /**
   * The name folded (NFKC, lower case: foldName of @hearth/contracts), unique: sign-in and sign-up
   * compare it. Null only for an account that an older release let collide with an older one.
   */
  username_folded: string | null;
  /** scrypt hash (password-hash.ts); "" for an account made by single sign-on, which has no password. */
  password_hash: string;
  role: "admin" | "user";
  status: "active" | "pending" | "disabled";
  created_at: string;
}

/**
 * An identity an OpenID Connect provider vouches for (its issuer and subject), tied to the account
 * it signs in to (0023-external-identities).
 */
export interface ExternalIdentitiesTable {
  issuer: string;
  subject: string;
  user_id: string;
  /** The email address the provider gave at the last sign-in, if any. */
  email: string | null;
  created_at: string;
  last_sign_in_at: string;
}

export interface GroupsTable {
  id: string;
  name: string;
  /** The name folded (foldName, @hearth/contracts), unique; null for a group whose name collided when the fold came in. */
  name_folded: string | null;
  created_at: string;
}

export interface GroupMembersTable {
  group_id: string;
  user_id: string;
}

export interface SessionsTable {
  /** SHA-256 of the cookie's token: a stolen database does not yield usable sessions. */
  id: string;
  user_id: string;
  csrf_token: string;
  created_at: string;
  expires_at: string;
  /** A single sign-on session's ID token, for signing out at the provider (0028-sso-sign-out); null otherwise. */
  id_token: Generated<string | null>;
}

export interface ApiKeysTable {
  id: string;
  user_id: string;
  name: string;
  /** The first characters of the key, shown in lists so users can tell keys apart. */
  prefix: string;
  key_hash: string;
  created_at: string;
  revoked_at: string | null;
  last_used_at: string | null;
}

export interface AuditLogTable {
  id: Generated<number>;
  actor_id: string | null;
  /** The actor's user name when the entry was written: shown once the account is gone. */
  actor_name: string | null;
  action: string;
  target: string | null;
  /** The target account's or group's name when the entry was written. */
  target_name: string | null;
  details: string | null;
  created_at: string;
}

export interface SettingsTable {
  key: string;
  value: string;
}

export interface ConversationsTable {
  id: string;
  user_id: string;
  title: string;
  /** The title folded for search where SQL's lower() would fold it wrongly, else null (search-fold.ts). */
  title_folded: string | null;
  model: string | null;
  created_at: string;
  updated_at: string;
  /** The conversation's own system prompt, sent before its messages on every turn; null for none (0012). */
  system_prompt: string | null;
  /** 1 when the user pinned the conversation (listed first), else 0 (0012-conversation-settings). */
  pinned: Generated<number>;
  /** The user's folder it is in; null: unfiled, in the list's main part (0015-conversation-folders). */
  folder_id: Generated<string | null>;
  /** When the user archived it (out of the list, in Archived chats); null: not archived (0015). */
  archived_at: Generated<string | null>;
  /**
   * 1 for a temporary chat: out of the list and its search, deleted when its user
   * leaves it or web.temporaryChatHours after its last activity; else 0 (0021-temporary-chats).
   */
  temporary: Generated<number>;
  /** The assistant it was started with (0025-assistants; no foreign key: it may be deleted since). */
  assistant_id: Generated<string | null>;
  /** That assistant's name when the conversation was started with it (shown in its header). */
  assistant_name: Generated<string | null>;
  /** The knowledge bases it took from its assistant (a JSON array of ids); null: none taken. */
  knowledge_base_ids: Generated<string | null>;
  /**
   * The knowledge bases the user chose for it in its page, sent with its turns or ticked before one
   * (a JSON array of ids; 0032-chosen-knowledge-bases); null: never chosen.
   */
  chosen_knowledge_base_ids: Generated<string | null>;
  /** The web search mode it took from its assistant; null: none taken. */
  web_search: Generated<"off" | "auto" | "on" | null>;
  /**
   * The sampling temperature its turns use (taken from its assistant, or set in its Chat controls);
   * null: the model's own.
   */
  temperature: Generated<number | null>;
  /** Its Chat controls' top_p (0026-chat-controls); null: the model's own. */
  top_p: Generated<number | null>;
  /** The longest answer its turns ask for, in tokens; null: the model's own. */
  max_tokens: Generated<number | null>;
  /** The sampler's seed its turns use; null: the model's own. */
  seed: Generated<number | null>;
  /** Its Chat controls' frequency_penalty (0027-repetition-controls); null: the model's own. */
  frequency_penalty: Generated<number | null>;
  /** Its Chat controls' presence_penalty (0027-repetition-controls); null: the model's own. */
  presence_penalty: Generated<number | null>;
  /** Its Chat controls' top_k (0029-sampler-controls); null: the model's own. */
  top_k: Generated<number | null>;
  /** Its Chat controls' min_p (0029-sampler-controls); null: the model's own. */
  min_p: Generated<number | null>;
  /** Its Chat controls' repeat_penalty (0029-sampler-controls); null: the model's own. */
  repeat_penalty: Generated<number | null>;
}

/** A saved model preset a team shares (0025-assistants). */
export interface AssistantsTable {
  id: string;
  owner_id: string;
  name: string;
  /** The name folded (foldName, @hearth/contracts): unique among the owner's assistants. */
  name_folded: string;
  description: string;
  model: string;
  system_prompt: string | null;
  /** A JSON array of knowledge base ids. */
  knowledge_base_ids: string;
  web_search: "off" | "auto" | "on";
  temperature: number | null;
  visibility: "private" | "shared" | "public";
  created_at: string;
  updated_at: string;
}

/** A group an assistant is shared with (its visibility "shared"). */
export interface AssistantSharesTable {
  assistant_id: string;
  group_id: string;
}

/** A saved prompt of the prompt library (0020-prompt-library). */
export interface PromptsTable {
  id: string;
  /** Its owner; null for a prompt an administrator shared with everyone. */
  user_id: string | null;
  /** Where its command is unique: its owner's id, or "shared". */
  scope: string;
  /** As typed, without the "/" (1-50 letters, digits, "-" and "_"). */
  command: string;
  /** The command folded (foldName, @hearth/contracts): "Sum" and "ＳＵＭ" are one command. */
  command_folded: string;
  title: string;
  content: string;
  /** Who wrote it (null once their account is gone). */
  created_by: string | null;
  created_at: string;
  updated_at: string;
}

/** An announcement banner (0024-announcement-banners). */
export interface BannersTable {
  id: string;
  text: string;
  type: "info" | "success" | "warning" | "error";
  /** 1: a user may close it; 0: not. */
  dismissible: number;
  /** ISO times (toISOString, so that they compare as text); null: unbounded. */
  starts_at: string | null;
  ends_at: string | null;
  /** Its place in the order users see the banners in (smallest first). */
  position: number;
  /** Raised when its text is edited: a dismissal of an earlier revision no longer holds. */
  revision: number;
  created_at: string;
  updated_at: string;
}

/** A user's closing of a banner, for the revision they closed (0024-announcement-banners). */
export interface BannerDismissalsTable {
  banner_id: string;
  user_id: string;
  revision: number;
  dismissed_at: string;
}

/** A user's folder of conversations (0015-conversation-folders). */
export interface FoldersTable {
  id: string;
  user_id: string;
  /** As the user typed it (1-100 characters, its ends trimmed). */
  name: string;
  /** The name folded (foldName, @hearth/contracts): unique per user, so "Work" and "WORK" are one name. */
  name_folded: string;
  created_at: string;
}

export interface MessagesTable {
  id: string;
  conversation_id: string;
  seq: number;
  role: "user" | "assistant";
  content: string;
  /** The content folded for search where SQL's lower() would fold it wrongly, else null (search-fold.ts). */
  content_folded: string | null;
  reasoning: string | null;
  /** stopped: the user pressed Stop; interrupted: the client went away or the model broke off. */
  status: "done" | "streaming" | "stopped" | "interrupted" | "error";
  model: string | null;
  /** JSON: the sources the answer cites ([{n, kind, title, url, ...}]). */
  citations: string | null;
  error: string | null;
  /** The error's stable code (docs/errors.md), null before 0006-message-error-code or without one. */
  error_code: string | null;
  created_at: string;
  /** While streaming: when its writer last stored it (answer-progress.ts), null before 0010-message-heartbeat. */
  heartbeat_at: string | null;
  /** While streaming: when a Stop was asked for it (another replica's stop route), else null. */
  stop_requested_at: string | null;
  /**
   * Why the model ended a done answer, as it said (stop; length: cut off at the length limit); null
   * before 0031-message-finish-reason and for an answer not ended by the model.
   */
  finish_reason: string | null;
}

/**
 * A stored version of a conversation's messages (0016-message-versions): the messages that followed
 * a place in the conversation before an edit and resend or a regeneration there, set aside rather
 * than deleted, with the versions set aside within them. The messages table holds the path shown.
 */
export interface MessageVersionsTable {
  id: string;
  conversation_id: string;
  /** The seq of the message the version follows (0: the conversation's start): where it branches. */
  after_seq: number;
  /** When the version's first message was written: the versions at one place are in this order. */
  created_at: string;
  /**
   * JSON: `{messages, versions}`, the version's messages as rows of the messages table, and the
   * rows of this table that were set aside within them (each with its own `tail`).
   */
  tail: string;
  /** How many versions the row holds: itself and those within its tail (the limit counts them). */
  held: number;
}

/** A conversation's share link and the snapshot it shows (0013-conversation-shares). */
export interface ConversationSharesTable {
  /** The link's id: random (conversations/share-store.ts), never derived from the conversation's. */
  id: string;
  /** Unique: a conversation has one link at most, its snapshot updated in place. */
  conversation_id: string;
  /** The conversation's title when shared. */
  title: string;
  /** JSON: the messages as shared ([{role, content, reasoning, status, model, citations, createdAt}]). */
  messages: string;
  /** How many messages the snapshot holds. */
  message_count: number;
  /** When the snapshot was taken (shared, or last updated). */
  created_at: string;
}

/**
 * A user's rating of an answer of their own conversation (0022-message-feedback): one a message,
 * kept while the answer is set aside as a version, gone with the conversation.
 */
export interface MessageFeedbackTable {
  /** The rated answer's message id (the same in the messages table and in a stored version's tail). */
  message_id: string;
  conversation_id: string;
  /** Who rated it: the conversation's owner. */
  user_id: string;
  /** The model that wrote the answer (the message's model). */
  model: string | null;
  /** The answer's seq when rated. */
  seq: number;
  /** Which of the versions at its place the answer was when rated, of how many; null: the only one. */
  version_index: number | null;
  version_count: number | null;
  rating: "up" | "down";
  /** The user's comment (at most FEEDBACK_COMMENT_MAX_CHARS); null: none. */
  comment: string | null;
  /** The answer's first 500 characters as rated: the report shows them, whatever becomes of the answer. */
  answer_start: string;
  /** When it was rated, or last changed. */
  rated_at: string;
}

export interface ModelAccessTable {
  model: string;
  group_id: string;
}

/** A model limited to administrators: its allowed groups were all deleted (see the group delete route). */
export interface ModelAdminOnlyTable {
  model: string;
}

export interface KnowledgeBasesTable {
  /** The knowledge service's id. */
  id: string;
  owner_id: string;
  visibility: "private" | "shared" | "public";
  created_at: string;
  /**
   * Set for the base holding the files attached to a chat (0019-conversation-files): that
   * conversation's, reachable by its owner alone, listed nowhere, deleted with the conversation.
   */
  conversation_id: Generated<string | null>;
}

/** A conversation's base the knowledge service has still to delete (its conversation was deleted). */
export interface KnowledgeBaseDeletionsTable {
  knowledge_base_id: string;
  requested_at: string;
}

export interface KnowledgeShareTable {
  knowledge_base_id: string;
  group_id: string;
  permission: "read" | "write";
}

export interface UsageTable {
  id: Generated<number>;
  user_id: string;
  api_key_id: string | null;
  model: string;
  prompt_tokens: number;
  completion_tokens: number;
  requests: number;
  cost_units: number;
  created_at: string;
  /**
   * The groups the user was in at the time of the request, as JSON `[{ id, name }]` sorted by name
   * (usage/usage-groups.ts); null for records written before groups were recorded.
   */
  user_groups: string | null;
  /**
   * A random id given when the request is admitted, unique: a batch written again after its answer
   * was lost skips the records it already stored (null for records from before 0014-usage-request-id).
   */
  request_id: string | null;
}

/**
 * A deleted account's name, kept for its usage records, which stay (0033-deleted-account-names):
 * the usage report names whose usage it was.
 */
export interface DeletedUsersTable {
  id: string;
  username: string;
  deleted_at: string;
}

/** A deleted account's API key's name, kept for the usage made through it (0033-deleted-account-names). */
export interface DeletedApiKeysTable {
  id: string;
  user_id: string;
  name: string;
}

/** A user's own chat defaults and display choices (0017-user-preferences); null: never chosen. */
export interface UserPreferencesTable {
  user_id: string;
  /** Personal instructions: the system prompt a new conversation starts with. */
  instructions: string | null;
  /** The model a new chat starts with, as the model service lists it. */
  default_model: string | null;
  web_search: "off" | "auto" | "on" | null;
  language: "en" | "zh-CN" | null;
  theme: "system" | "light" | "dark" | null;
  /** 1: the user's memories go into their chats in the web UI (0030-memories); 0, the default: not. */
  memory: Generated<number>;
  updated_at: string;
}

/** A fact a user asked the assistant to remember about them (0030-memories). */
export interface MemoriesTable {
  id: string;
  user_id: string;
  /** One line, at most MEMORY_MAX_CHARS (@hearth/contracts). */
  content: string;
  /** Rising for each user: their memories are listed newest first by it. */
  created_at: string;
  updated_at: string;
}

export interface KnowledgeJobsTable {
  id: string;
  knowledge_base_id: string;
  created_at: string;
}

/**
 * An alert instance as the replicas sharing the database notified it (alerts/alert-claims.ts): the
 * replica that claims a change of its state sends the notification; the others do not.
 */
export interface AlertClaimsTable {
  /** The alert's name and labels (create-alert-monitor.ts). */
  key: string;
  status: "firing" | "resolved";
  /** Counts the times it started firing: a resolution claims the episode its replica saw firing. */
  episode: number;
  /** JSON: the notification sent when it started firing (its labels, summary, startsAt). */
  notification: string;
  /** The replica that sent the last notification (host:port). */
  claimed_by: string;
  changed_at: string;
  /** When a replica last saw it firing: one nobody has seen for a while is resolved by whoever looks. */
  seen_at: string;
}

export interface Database {
  alert_claims: AlertClaimsTable;
  knowledge_jobs: KnowledgeJobsTable;
  users: UsersTable;
  external_identities: ExternalIdentitiesTable;
  groups: GroupsTable;
  group_members: GroupMembersTable;
  sessions: SessionsTable;
  api_keys: ApiKeysTable;
  audit_log: AuditLogTable;
  settings: SettingsTable;
  conversations: ConversationsTable;
  folders: FoldersTable;
  messages: MessagesTable;
  message_versions: MessageVersionsTable;
  conversation_shares: ConversationSharesTable;
  message_feedback: MessageFeedbackTable;
  model_access: ModelAccessTable;
  model_admin_only: ModelAdminOnlyTable;
  knowledge_bases: KnowledgeBasesTable;
  knowledge_base_deletions: KnowledgeBaseDeletionsTable;
  knowledge_shares: KnowledgeShareTable;
  usage: UsageTable;
  deleted_users: DeletedUsersTable;
  deleted_api_keys: DeletedApiKeysTable;
  user_preferences: UserPreferencesTable;
  memories: MemoriesTable;
  prompts: PromptsTable;
  banners: BannersTable;
  banner_dismissals: BannerDismissalsTable;
  assistants: AssistantsTable;
  assistant_shares: AssistantSharesTable;
}
