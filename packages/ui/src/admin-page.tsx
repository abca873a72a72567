import {
  type FormEvent,
  type KeyboardEvent,
  type MouseEvent,
  type ReactNode,
  useCallback,
  useEffect,
  useRef,
  useState,
} from "react";
import { AdminBanners } from "./admin-banners.js";
import { AdminFeedback } from "./admin-feedback.js";
import { api, ndjsonLines, type SkippedModelFile } from "./api.js";
import { type ApiKeyRow, ApiKeyTable } from "./api-key-table.js";
import { DataTable } from "./data-table.js";
import {
  auditDetailsLines,
  changelogText,
  dateTimeText,
  fileSizeText,
  memorySizeText,
  numberText,
  type ProviderOutcomeRow,
  type ProviderStanding,
  type PullStep,
  providerOutcomeText,
  providerStandingText,
  serviceReadinessText,
  versionSwitchText,
  type WordListFile,
  wordListText,
} from "./display-text.js";
import {
  cancelOnEscape,
  describedField,
  keepFocusNear,
  PAGE_HEADING,
  useKeyboardScrollable,
  usePageTitle,
} from "./focus.js";
import { fill, labelWithName, type Messages, useI18n } from "./i18n.js";
import { CopyButton } from "./markdown.js";
import { SkippedModelFiles } from "./model-guidance.js";
import { cancelPull, dismissPull, pullProgressText, startPull, usePulls } from "./model-pull.js";
import { modelsChanged } from "./models-watch.js";
import { ReportPeriod } from "./report-period.js";
import { navigate, usePath } from "./router.js";
import { ActionError, errorField, useAction } from "./use-action.js";

interface User {
  id: string;
  username: string;
  role: "admin" | "user";
  status: "active" | "pending" | "disabled";
  groupIds: string[];
  /** Signs in with single sign-on. */
  sso?: boolean;
}
interface Group {
  id: string;
  name: string;
  userIds: string[];
}

/**
 * A user's API keys, each revocable (a leaked key is refused from the next request on). Opened,
 * focus goes to its heading; closed, back to the button that opened it (the caller's).
 */
function UserKeys({ user, onClose }: { user: User; onClose: () => void }) {
  const { t } = useI18n();
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  const [keys, setKeys] = useState<ApiKeyRow[]>();
  const { error, run } = useAction();
  const load = useCallback(async () => {
    setKeys((await api<{ keys: ApiKeyRow[] }>(`/api/admin/users/${user.id}/api-keys`)).keys);
  }, [user.id]);
  useEffect(() => {
    void load();
  }, [load]);
  const revoke = async (key: ApiKeyRow, from: Element) => {
    const restoreFocus = keepFocusNear(from, () => heading.current);
    await run(() => api(`/api/admin/users/${user.id}/api-keys/${key.id}`, { method: "DELETE" }));
    await load();
    restoreFocus();
  };
  return (
    <section
      id="user-keys"
      aria-labelledby="user-keys-title"
      className="user-keys"
      onKeyDown={cancelOnEscape(onClose)}
    >
      <h4 id="user-keys-title" ref={heading} tabIndex={-1}>
        {fill(t.fieldValue, { field: t.apiKeys, value: user.username })}
      </h4>
      <button type="button" onClick={onClose}>
        {t.close}
      </button>
      <ActionError error={error} />
      {keys?.length === 0 ? (
        <p className="muted">{t.noUserKeys}</p>
      ) : (
        <ApiKeyTable keys={keys ?? []} onRevoke={(key, from) => void revoke(key, from)} />
      )}
    </section>
  );
}

/**
 * An administrator adds an account: active at once with the role and groups chosen, whatever the
 * sign-up mode. The rules are the service's (sign-up's): shown under each field, and an error
 * about a field (a name taken, a weak password) is shown beside it.
 */
function AddUser({
  groups,
  onAdded,
  onClose,
}: {
  groups: Group[];
  onAdded(user: User): Promise<void>;
  onClose(): void;
}) {
  const { t } = useI18n();
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [role, setRole] = useState<User["role"]>("user");
  const [groupIds, setGroupIds] = useState<string[]>([]);
  const { error, run } = useAction();
  const invalid = errorField(error);
  const errorHere = (field?: string) =>
    invalid === field || (field === undefined && invalid !== "username" && invalid !== "password") ? (
      <ActionError id="add-user-error" error={error} />
    ) : null;
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    let added: User | undefined;
    const ok = await run(async () => {
      added = await api<User>("/api/admin/users", {
        method: "POST",
        body: { username, password, role, groupIds },
      });
    });
    if (ok && added) await onAdded(added);
  };
  return (
    <form
      id="add-user"
      className="page-form admin-panel"
      aria-labelledby="add-user-title"
      onSubmit={submit}
      onKeyDown={cancelOnEscape(onClose)}
    >
      <h4 id="add-user-title" ref={heading} tabIndex={-1}>
        {t.addUserTitle}
      </h4>
      <label>
        {t.username}
        <input
          autoComplete="off"
          value={username}
          onChange={(e) => setUsername(e.target.value)}
          required
          {...describedField(invalid === "username", "add-user-name-rule", "add-user-error")}
        />
      </label>
      <p id="add-user-name-rule" className="muted field-hint">
        {t.usernameRule}
      </p>
      {errorHere("username")}
      <label>
        {t.password}
        <input
          type="password"
          autoComplete="new-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          required
          {...describedField(invalid === "password", "add-user-password-rule", "add-user-error")}
        />
      </label>
      <p id="add-user-password-rule" className="muted field-hint">
        {t.passwordRule}
      </p>
      {errorHere("password")}
      <label>
        {t.role}
        <select value={role} onChange={(e) => setRole(e.target.value as User["role"])}>
          <option value="user">{t.roles.user}</option>
          <option value="admin">{t.roles.admin}</option>
        </select>
      </label>
      {groups.length > 0 && (
        <fieldset className="choice-list">
          <legend>{t.groups}</legend>
          {groups.map((g) => (
            <label key={g.id}>
              <input
                type="checkbox"
                checked={groupIds.includes(g.id)}
                onChange={() =>
                  setGroupIds(
                    groupIds.includes(g.id) ? groupIds.filter((id) => id !== g.id) : [...groupIds, g.id],
                  )
                }
              />{" "}
              {g.name}
            </label>
          ))}
        </fieldset>
      )}
      {errorHere()}
      <div className="row-buttons">
        <button type="submit">{t.addUser}</button>
        <button type="button" onClick={onClose}>
          {t.cancel}
        </button>
      </div>
    </form>
  );
}

/** A password for a reset, from the browser's random source: 16 letters and digits none can misread (about 93 bits). */
function generatePassword(): string {
  const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  const out: string[] = [];
  while (out.length < 16) {
    for (const byte of crypto.getRandomValues(new Uint8Array(32))) {
      // Bytes past the last whole run of the alphabet are skipped, so every letter is as likely.
      if (byte < 256 - (256 % alphabet.length) && out.length < 16)
        out.push(alphabet[byte % alphabet.length]!);
    }
  }
  return out.join("");
}

/**
 * An administrator sets a user's new password: typed, or generated and shown once with a Copy
 * button. The user's sessions end; their API keys stay. Opened, focus goes to its heading; closed,
 * back to the button that opened it (the caller's).
 */
function ResetPassword({ user, onClose }: { user: User; onClose: () => void }) {
  const { t } = useI18n();
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  const [password, setPassword] = useState("");
  /** The reset done: with the generated password to show (once: it is gone with the panel). */
  const [done, setDone] = useState<{ generated?: string }>();
  const { error, run } = useAction();
  const reset = async (next: string, generated: boolean) => {
    setDone(undefined);
    const ok = await run(() =>
      api(`/api/admin/users/${user.id}/password`, { method: "POST", body: { password: next } }),
    );
    if (!ok) return;
    setPassword("");
    setDone(generated ? { generated: next } : {});
  };
  return (
    <section
      id="reset-password"
      aria-labelledby="reset-password-title"
      className="user-keys admin-panel"
      onKeyDown={cancelOnEscape(onClose)}
    >
      <h4 id="reset-password-title" ref={heading} tabIndex={-1}>
        {fill(t.resetPasswordTitle, { name: user.username })}
      </h4>
      <p className="muted">{t.resetPasswordHint}</p>
      <form
        className="inline-form"
        onSubmit={(event) => {
          event.preventDefault();
          void reset(password, false);
        }}
      >
        <label>
          {t.newPassword}
          <input
            type="password"
            autoComplete="new-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
            {...describedField(
              errorField(error) === "password",
              "reset-password-rule",
              "reset-password-error",
            )}
          />
        </label>
        <button type="submit">{t.setPassword}</button>
      </form>
      <p id="reset-password-rule" className="muted field-hint">
        {t.passwordRule}
      </p>
      <ActionError id="reset-password-error" error={error} />
      <div className="row-buttons">
        <button type="button" onClick={() => void reset(generatePassword(), true)}>
          {t.generatePassword}
        </button>
        <button type="button" onClick={onClose}>
          {t.close}
        </button>
      </div>
      {done && !done.generated && <p role="status">{fill(t.passwordSet, { name: user.username })}</p>}
      {done?.generated && (
        <div className="key-once">
          <p role="status">
            {fill(t.generatedPassword, { name: user.username })} <code>{done.generated}</code>
          </p>
          <CopyButton text={done.generated} label={t.copyPassword} />
        </div>
      )}
    </section>
  );
}

function UsersAndGroups({ userId, onLeftAdmin }: { userId: string; onLeftAdmin(): void }) {
  const { t } = useI18n();
  const [users, setUsers] = useState<User[]>([]);
  const [groups, setGroups] = useState<Group[]>([]);
  /** What single sign-on sets at each SSO account's sign-in (null: SSO is off). */
  const [ssoSync, setSsoSync] = useState<{ groups: boolean; roles: boolean } | null>(null);
  const [groupName, setGroupName] = useState("");
  const [keysOf, setKeysOf] = useState<User>();
  /** The button that opened the keys panel: focus goes back to it when the panel closes. */
  const keysOpener = useRef<HTMLElement | null>(null);
  const closeKeys = () => {
    setKeysOf(undefined);
    keysOpener.current?.focus();
  };
  const [adding, setAdding] = useState(false);
  const addOpener = useRef<HTMLButtonElement>(null);
  /** What was done to an account (added, approved), said in a status. */
  const [said, setSaid] = useState("");
  const closeAdd = () => {
    setAdding(false);
    addOpener.current?.focus();
  };
  const [resetOf, setResetOf] = useState<User>();
  /** The button that opened the password panel: focus goes back to it when the panel closes. */
  const resetOpener = useRef<HTMLElement | null>(null);
  const closeReset = () => {
    setResetOf(undefined);
    resetOpener.current?.focus();
  };
  const [pendingOnly, setPendingOnly] = useState(false);
  const pendingUsers = users.filter((user) => user.status === "pending");
  const pending = pendingUsers.length;
  const shown = pendingOnly ? pendingUsers : users;
  const { error, run } = useAction();
  /** Creating, renaming and deleting a group: its error is shown at the group form, not under Users. */
  const groupAction = useAction();
  const load = useCallback(async () => {
    const listed = await api<{ users: User[]; ssoSync?: { groups: boolean; roles: boolean } | null }>(
      "/api/admin/users",
    );
    setUsers(listed.users);
    setSsoSync(listed.ssoSync ?? null);
    setGroups((await api<{ groups: Group[] }>("/api/admin/groups")).groups);
  }, []);
  useEffect(() => {
    void load();
  }, [load]);
  /**
   * A Status or Role select changed (on each arrow key, in Chromium and on Windows): what gives
   * power or takes access away asks first, so a keyboard passing over it changes nothing. A status
   * change is said, and focus stays near where the user's row was when it left the filtered table.
   */
  const change = async (user: User, body: Partial<User>, from: Element) => {
    const demotingSelf = user.id === userId && body.role === "user";
    const question = demotingSelf
      ? t.demoteSelfConfirm
      : body.role === "admin"
        ? fill(t.makeAdminConfirm, { name: user.username })
        : body.status === "disabled"
          ? fill(t.disableUserConfirm, { name: user.username })
          : undefined;
    if (question && !window.confirm(question)) return;
    setSaid("");
    const restoreFocus = keepFocusNear(from, () => document.getElementById("pending-filter"));
    const changed = await run(() => api(`/api/admin/users/${user.id}`, { method: "PATCH", body }));
    // No longer an administrator: these pages are not theirs any more (their lists would be refused).
    if (changed && demotingSelf) return onLeftAdmin();
    if (changed && body.status)
      setSaid(
        user.status === "pending" && body.status === "active"
          ? fill(t.userApproved, { name: user.username })
          : fill(t.userStatusChanged, { name: user.username, status: t.accountStatuses[body.status] }),
      );
    await load();
    restoreFocus();
  };
  const remove = async (user: User, from: Element) => {
    if (!window.confirm(fill(t.deleteUserConfirm, { name: user.username }))) return;
    const restoreFocus = keepFocusNear(from, () => document.getElementById(PAGE_HEADING));
    await run(() => api(`/api/admin/users/${user.id}`, { method: "DELETE" }));
    // Its panels go with it.
    if (keysOf?.id === user.id) setKeysOf(undefined);
    if (resetOf?.id === user.id) setResetOf(undefined);
    await load();
    restoreFocus();
  };
  const toggleMember = async (group: Group, userId: string) => {
    const userIds = group.userIds.includes(userId)
      ? group.userIds.filter((u) => u !== userId)
      : [...group.userIds, userId];
    await run(() => api(`/api/admin/groups/${group.id}/members`, { method: "PUT", body: { userIds } }));
    await load();
  };
  const renameGroup = async (group: Group) => {
    const name = window.prompt(fill(t.renameGroupPrompt, { name: group.name }), group.name);
    if (!name?.trim() || name.trim() === group.name) return;
    await groupAction.run(() =>
      api(`/api/admin/groups/${group.id}`, { method: "PATCH", body: { name: name.trim() } }),
    );
    await load();
  };
  /** Confirmed, the delete goes on even where the group limits models (they become admin-only). */
  const deleteGroup = async (group: Group, from: Element) => {
    if (!window.confirm(fill(t.deleteGroupConfirm, { name: group.name }))) return;
    const restoreFocus = keepFocusNear(from, () => document.getElementById("new-group"));
    await groupAction.run(() => api(`/api/admin/groups/${group.id}?force=true`, { method: "DELETE" }));
    await load();
    restoreFocus();
  };
  const createGroup = async (event: FormEvent) => {
    event.preventDefault();
    if (await groupAction.run(() => api("/api/admin/groups", { method: "POST", body: { name: groupName } })))
      setGroupName("");
    await load();
  };
  return (
    <section aria-labelledby="users-title">
      <h3 id="users-title">{t.users}</h3>
      <ActionError error={error} />
      {/* An administrator approves a user waiting for it here: the filter finds them all. */}
      <div className="table-filters">
        {/* With no one waiting it is off, yet not disabled while pressed or focused (focus would drop). */}
        <button
          type="button"
          id="pending-filter"
          aria-pressed={pendingOnly}
          aria-disabled={(!pendingOnly && pending === 0) || undefined}
          onClick={() => {
            if (pendingOnly || pending > 0) setPendingOnly(!pendingOnly);
          }}
        >
          {fill(t.pendingUsersFilter, { count: String(pending) })}
        </button>
        <button
          type="button"
          ref={addOpener}
          aria-expanded={adding}
          aria-controls={adding ? "add-user" : undefined}
          onClick={() => {
            setSaid("");
            setAdding(!adding);
          }}
        >
          {t.addUser}
        </button>
      </div>
      {adding && (
        <AddUser
          groups={groups}
          onClose={closeAdd}
          onAdded={async (user) => {
            await load();
            setSaid(fill(t.userAdded, { name: user.username }));
            closeAdd();
          }}
        />
      )}
      <p role="status" className="users-said">
        {said}
      </p>
      {ssoSync?.groups && (
        <p className="muted" id="sso-groups-note">
          {t.ssoSyncNotes.groups}
        </p>
      )}
      {ssoSync?.roles && (
        <p className="muted" id="sso-roles-note">
          {t.ssoSyncNotes.roles}
        </p>
      )}
      {/* The row's name and buttons share the first column, pinned at the left, so a phone shows
          the name, the buttons and the Status select together, and the name stays while the group
          columns scroll by. */}
      <DataTable
        label={t.users}
        columns={[t.username, t.status, t.role, ...groups.map((g) => g.name)]}
        pinFirst
      >
        {shown.map((user) => (
          <tr
            key={user.id}
            data-user={user.username}
            className={user.status === "pending" ? "pending-user" : undefined}
          >
            <td>
              <div className="row-name">
                {user.username}
                {user.sso && (
                  <>
                    {" "}
                    <span className="badge" title={t.ssoBadgeHint}>
                      {t.ssoBadge}
                    </span>
                  </>
                )}
              </div>
              <div className="row-buttons">
                <PanelToggle
                  label={t.apiKeys}
                  name={user.username}
                  open={keysOf?.id === user.id}
                  panelId="user-keys"
                  onToggle={(button) => {
                    keysOpener.current = button;
                    setKeysOf(keysOf?.id === user.id ? undefined : user);
                  }}
                />
                {/* One's own password is changed in Settings, which asks for the current one. */}
                {user.id !== userId && (
                  <PanelToggle
                    label={t.resetPassword}
                    name={user.username}
                    open={resetOf?.id === user.id}
                    panelId="reset-password"
                    onToggle={(button) => {
                      resetOpener.current = button;
                      setResetOf(resetOf?.id === user.id ? undefined : user);
                    }}
                  />
                )}
                {/* One's own account is deleted by another administrator (the service refuses it too). */}
                {user.id !== userId && (
                  <button
                    type="button"
                    className="small"
                    aria-label={labelWithName(t, t.deleteUser, user.username)}
                    onClick={(event) => void remove(user, event.currentTarget)}
                  >
                    {t.delete}
                  </button>
                )}
              </div>
            </td>
            <td>
              <select
                aria-label={labelWithName(t, t.status, user.username)}
                value={user.status}
                onChange={(e) =>
                  void change(user, { status: e.target.value as User["status"] }, e.currentTarget)
                }
              >
                <option value="active">{t.accountStatuses.active}</option>
                <option value="pending">{t.accountStatuses.pending}</option>
                <option value="disabled">{t.accountStatuses.disabled}</option>
              </select>
            </td>
            <td>
              <select
                aria-label={labelWithName(t, t.role, user.username)}
                value={user.role}
                onChange={(e) => void change(user, { role: e.target.value as User["role"] }, e.currentTarget)}
              >
                <option value="user">{t.roles.user}</option>
                <option value="admin">{t.roles.admin}</option>
              </select>
            </td>
            {groups.map((g) => (
              <td key={g.id}>
                <input
                  type="checkbox"
                  aria-label={labelWithName(t, g.name, user.username)}
                  checked={g.userIds.includes(user.id)}
                  onChange={() => void toggleMember(g, user.id)}
                />
              </td>
            ))}
          </tr>
        ))}
      </DataTable>
      {keysOf && <UserKeys key={keysOf.id} user={keysOf} onClose={closeKeys} />}
      {resetOf && <ResetPassword key={resetOf.id} user={resetOf} onClose={closeReset} />}
      <h4>{t.groups}</h4>
      <ul className="group-list">
        {groups.map((g) => (
          <li key={g.id} data-group={g.name}>
            {g.name}{" "}
            <button
              type="button"
              aria-label={labelWithName(t, t.rename, g.name)}
              onClick={() => void renameGroup(g)}
            >
              {t.rename}
            </button>{" "}
            <button
              type="button"
              aria-label={labelWithName(t, t.deleteGroup, g.name)}
              onClick={(event) => void deleteGroup(g, event.currentTarget)}
            >
              {t.delete}
            </button>
          </li>
        ))}
      </ul>
      <form className="inline-form" onSubmit={createGroup}>
        <label>
          {t.newGroup}
          <input id="new-group" value={groupName} onChange={(e) => setGroupName(e.target.value)} required />
        </label>
        <button type="submit">{t.create}</button>
      </form>
      <ActionError error={groupAction.error} />
    </section>
  );
}

interface AdminModel {
  id: string;
  /** What a model that does not chat is for (the model service's capabilities): none for a chat model. */
  purpose?: "embedding" | "rerank";
  groupIds: string[];
  /** Limited to administrators: set so, or the groups it was allowed for were deleted. */
  adminOnly?: boolean;
}

/** What a model's deletion did with its weights (DELETE /api/admin/models/{model}). */
interface ModelRemoval {
  model: string;
  /** A file under the name that is not the registry's own, left where it is. */
  keptFile?: string;
  deletedWeights: Array<{ digest: string; size: number }>;
  /** Kept: still used by other models (`usedBy`), or outside the registry (`outside`, their path). */
  keptWeights: Array<{ digest: string; usedBy?: string[]; outside?: string }>;
}

/** A digest as the versions list shows it: sha256: and its first 12 hex digits. */
const shortDigest = (digest: string) => `sha256:${digest.replace(/^sha256:/, "").slice(0, 12)}`;

/** What a deletion did, in sentences: the model, then each of its weights deleted or kept (and why). */
function removalText(t: Messages, removal: ModelRemoval): string {
  return [
    fill(t.modelDeleted, { model: removal.model }),
    ...removal.deletedWeights.map((weights) =>
      fill(t.weightsDeleted, { digest: shortDigest(weights.digest) }),
    ),
    ...removal.keptWeights.map((weights) =>
      weights.usedBy
        ? fill(t.weightsKeptInUse, {
            digest: shortDigest(weights.digest),
            models: weights.usedBy.join(t.errorDetails.separator),
          })
        : fill(t.weightsKeptOutside, { digest: shortDigest(weights.digest), path: weights.outside ?? "" }),
    ),
    ...(removal.keptFile ? [fill(t.modelFileKept, { file: removal.keptFile })] : []),
  ].join(t.requestIssues.separator);
}

/** A model's versions as the model registry records them (GET /api/admin/models/versions). */
interface ModelVersion {
  version: string;
  digest: string;
  size: number;
  source: string;
  changelog: string;
  created_at: string;
  /** Set on a version whose weights were lost (overwritten in place): it cannot be rolled back to. */
  lost_at?: string;
}
interface RegistryModel {
  name: string;
  version: string;
  digest: string;
  versions: ModelVersion[];
}
/** A model whose new file the model service is still registering (hashing): no version yet. */
interface RegisteringModel {
  name: string;
  size: number;
  /** Bytes of the file hashed so far, of its size. */
  registering: { completed: number; total: number };
  versions: ModelVersion[];
}
type RegistryEntry = RegistryModel | RegisteringModel;

/** "Registering… n%": how much of a new model file the model service has hashed to register it. */
function RegisteringNote({ model }: { model: RegisteringModel }) {
  const { t } = useI18n();
  const { completed, total } = model.registering;
  const percent = total > 0 ? Math.floor((completed * 100) / total) : 0;
  return (
    <span className="muted registering" title={t.registeringModelTitle}>
      {fill(t.registeringModel, { percent })}
    </span>
  );
}

/** A model id with a line-break opportunity after its tag's colon (stories260K:<wbr>latest). */
function breakAfterColon(id: string): ReactNode {
  const colon = id.indexOf(":");
  if (colon < 0) return id;
  return (
    <>
      {id.slice(0, colon + 1)}
      <wbr />
      {id.slice(colon + 1)}
    </>
  );
}

/** The registry names models `name:tag`; a catalog id without a tag is `:latest`. */
function registryName(id: string): string {
  return id.slice(id.lastIndexOf("/") + 1).includes(":") ? id : `${id}:latest`;
}

/** The versions a rollback may go to: not the current one, nor one whose weights were lost. */
function rollbackTargets(model: RegistryModel): ModelVersion[] {
  return model.versions.filter((version) => version.version !== model.version && !version.lost_at);
}

/** The version a rollback goes to by default: the newest one before the current (else the newest other). */
function defaultTarget(model: RegistryModel): string {
  const index = model.versions.findIndex((version) => version.version === model.version);
  const before = model.versions.slice(0, Math.max(index, 0)).filter((version) => !version.lost_at);
  return (before.at(-1) ?? rollbackTargets(model).at(-1))?.version ?? "";
}

function ModelVersions({ model, onRolledBack }: { model: RegistryModel; onRolledBack(): Promise<void> }) {
  const { t } = useI18n();
  const others = rollbackTargets(model);
  const [target, setTarget] = useState(defaultTarget(model));
  const [error, setError] = useState<unknown>();
  useEffect(() => setTarget(defaultTarget(model)), [model]);
  /** Back to an older version, or forward to a newer one: the button and its question say which. */
  const switching = versionSwitchText(t, { model: model.name, from: model.version, to: target });
  const rollback = async () => {
    if (!target) return;
    if (!window.confirm(switching.question)) return;
    setError(undefined);
    try {
      await api(`/api/admin/models/${encodeURIComponent(model.name)}/rollback`, {
        method: "POST",
        body: { to: target },
      });
      await onRolledBack();
    } catch (caught) {
      setError(caught);
    }
  };
  return (
    <div className="model-versions">
      <ol aria-label={labelWithName(t, t.versions, model.name)}>
        {[...model.versions].reverse().map((version) => (
          <li key={version.version} data-current={version.version === model.version || undefined}>
            <strong>{version.version}</strong>{" "}
            <code title={version.digest}>{version.digest.slice(7, 19)}</code>{" "}
            <time dateTime={version.created_at}>{dateTimeText(t, version.created_at)}</time>
            {version.version === model.version && (
              <em>{fill(t.withNote, { text: "", note: t.currentVersion })}</em>
            )}
            {version.lost_at && (
              <em
                className="lost-version"
                title={fill(t.weightsLostTitle, { date: dateTimeText(t, version.lost_at) })}
              >
                {fill(t.withNote, { text: "", note: t.weightsLost })}
              </em>
            )}
            <div className="changelog">{changelogText(t, version.changelog)}</div>
          </li>
        ))}
      </ol>
      {others.length > 0 && (
        <div className="inline-form">
          <label>
            {t.rollbackTo}{" "}
            <select
              aria-label={labelWithName(t, t.rollbackTo, model.name)}
              value={target}
              onChange={(event) => setTarget(event.target.value)}
            >
              {[...others].reverse().map((version) => (
                <option key={version.version} value={version.version}>
                  {version.version}
                </option>
              ))}
            </select>
          </label>{" "}
          <button
            type="button"
            aria-label={labelWithName(t, switching.action, model.name)}
            onClick={() => void rollback()}
          >
            {switching.action}
          </button>
        </div>
      )}
      <ActionError error={error} />
    </div>
  );
}

/** A model's details as the web service answers them (GET /api/admin/models/{model}/details). */
interface ModelDetailsAnswer {
  size: number | null;
  parameterSize: string | null;
  quantization: string | null;
  family: string | null;
  contextLength: number | null;
}

/**
 * A model's size, parameter count, quantization, family and context length, behind a disclosure
 * under its name (read from the model service when first opened): a list of two columns that
 * wraps on a phone.
 */
function ModelDetailsView({ model }: { model: string }) {
  const { t } = useI18n();
  const [details, setDetails] = useState<ModelDetailsAnswer>();
  const [error, setError] = useState<unknown>();
  const [asked, setAsked] = useState(false);
  const read = () => {
    if (asked) return;
    setAsked(true);
    api<ModelDetailsAnswer>(`/api/admin/models/${encodeURIComponent(model)}/details`).then(
      setDetails,
      setError,
    );
  };
  const rows: Array<[string, string | null]> = details
    ? [
        [t.modelSize, details.size === null ? null : fileSizeText(t, details.size)],
        [t.modelParameters, details.parameterSize],
        [t.modelQuantization, details.quantization],
        [t.modelFamily, details.family],
        [
          t.modelContextLength,
          details.contextLength === null
            ? null
            : fill(t.modelContextTokens, { n: numberText(t, details.contextLength) }),
        ],
      ]
    : [];
  const known = rows.filter((row): row is [string, string] => row[1] !== null);
  return (
    <details className="model-details" onToggle={(event) => event.currentTarget.open && read()}>
      <summary aria-label={fill(t.modelDetailsLabel, { model })}>{t.modelDetails}</summary>
      {error !== undefined ? (
        <ActionError error={error} />
      ) : !details ? (
        <p className="muted">{t.modelDetailsLoading}</p>
      ) : known.length === 0 ? (
        <p className="muted">{t.modelDetailsNone}</p>
      ) : (
        <dl>
          {known.map(([term, value]) => (
            <div key={term} className="model-detail">
              <dt>{term}</dt>
              <dd>{value}</dd>
            </div>
          ))}
        </dl>
      )}
    </details>
  );
}

function Models() {
  const { t } = useI18n();
  const [models, setModels] = useState<AdminModel[]>([]);
  /** The models folder's files that are not served, and why (a name that is not a model name). */
  const [skipped, setSkipped] = useState<SkippedModelFile[]>([]);
  const [registry, setRegistry] = useState<Map<string, RegistryEntry>>(new Map());
  const [groups, setGroups] = useState<Group[]>([]);
  const [pull, setPull] = useState("");
  /**
   * The tab's pulls, kept beyond this page (model-pull.ts): each row's last step (shown in the
   * language of the moment), that it was cancelled, or its failure; a running one's Cancel aborts its
   * request, which stops the download unless another pull of it waits.
   */
  const { rows: pulls, ended } = usePulls();
  const pullButton = useRef<HTMLButtonElement>(null);
  const pullField = useRef<HTMLInputElement>(null);
  /** The models whose access change the server has not answered yet. */
  const [pendingAccess, setPendingAccess] = useState<ReadonlySet<string>>(new Set());
  /** What the last deletion did with the model's weights, said until the next change. */
  const [removal, setRemoval] = useState<ModelRemoval | undefined>();
  const { error, run } = useAction();
  /** The models as the last read found them, to tell the app when they change. */
  const lastSeen = useRef<string | undefined>(undefined);
  const load = useCallback(async () => {
    const [catalog, versions, groupList] = await Promise.all([
      api<{ models: AdminModel[]; skippedFiles?: SkippedModelFile[] }>("/api/admin/models"),
      api<{ models: RegistryEntry[] }>("/api/admin/models/versions").catch(() => ({ models: [] })),
      api<{ groups: Group[] }>("/api/admin/groups"),
    ]);
    setModels(catalog.models);
    setSkipped(catalog.skippedFiles ?? []);
    setRegistry(new Map(versions.models.map((model) => [model.name, model])));
    setGroups(groupList.groups);
    // Models installed, deleted, rolled back, registered, or allowed to others since the last read
    // (here, or by another administrator): the chat's picker reads them again.
    const seen = JSON.stringify([
      catalog.models,
      versions.models.map((model) => [model.name, "registering" in model ? "registering" : model.digest]),
    ]);
    if (lastSeen.current !== undefined && lastSeen.current !== seen) modelsChanged();
    lastSeen.current = seen;
  }, []);
  useEffect(() => {
    void load();
  }, [load]);
  // While the model service registers a new model file (hashes it: a minute for a big one), the
  // models are read again every second, until it is listed with its versions.
  useEffect(() => {
    if (![...registry.values()].some((model) => "registering" in model)) return;
    const timer = setTimeout(() => void load(), 1000);
    return () => clearTimeout(timer);
  }, [registry, load]);
  // Each pull that ends, while this page is shown, may have installed a model: the models are read again.
  const seenEnded = useRef(ended);
  useEffect(() => {
    if (seenEnded.current === ended) return;
    seenEnded.current = ended;
    void load();
  }, [ended, load]);
  /** Pull is off while the name typed is being pulled: a second pull of it would only join the first. */
  const pulling = pulls.some((row) => row.running && row.model === pull.trim());
  const pullModel = (event: FormEvent) => {
    event.preventDefault();
    const model = pull.trim();
    void startPull(model, (signal) => ndjsonLines<PullStep>("/api/admin/models/pull", { model }, signal));
    // Started, with its own row: the field is free for the next one.
    setPull("");
  };
  const cancel = (event: MouseEvent<HTMLButtonElement>, id: number) => {
    // The button goes with the pull: focus moves to the next pull's Cancel, else to Pull.
    const restoreFocus = keepFocusNear(event.currentTarget, () => pullButton.current);
    cancelPull(id);
    restoreFocus();
  };
  const dismiss = (event: MouseEvent<HTMLButtonElement>, id: number) => {
    // The row goes: focus moves to the next row's button, else to the Pull field.
    const restoreFocus = keepFocusNear(event.currentTarget, () => pullField.current);
    dismissPull(id);
    restoreFocus();
  };
  /**
   * Who may use a model, shown as ticked at once (its cell busy until the server answers); put back
   * as it was, with the error, when the change is refused.
   */
  const putAccess = async (model: AdminModel, body: { groupIds: string[]; adminOnly?: boolean }) => {
    setRemoval(undefined);
    const showAccess = (access: Pick<AdminModel, "groupIds" | "adminOnly">) =>
      setModels((current) =>
        current.map((entry) => (entry.id === model.id ? { ...entry, ...access } : entry)),
      );
    showAccess({ groupIds: body.groupIds, adminOnly: body.adminOnly === true && body.groupIds.length === 0 });
    setPendingAccess((current) => new Set(current).add(model.id));
    const saved = await run(() =>
      api(`/api/admin/models/${encodeURIComponent(model.id)}/access`, { method: "PUT", body }),
    );
    if (!saved) showAccess({ groupIds: model.groupIds, adminOnly: model.adminOnly });
    setPendingAccess((current) => {
      const next = new Set(current);
      next.delete(model.id);
      return next;
    });
    if (saved) modelsChanged();
  };
  /** A group ticked or unticked; ticking one replaces admin-only. */
  const setAccess = (model: AdminModel, groupId: string) =>
    putAccess(model, {
      groupIds: model.groupIds.includes(groupId)
        ? model.groupIds.filter((g) => g !== groupId)
        : [...model.groupIds, groupId],
    });
  /** Admin-only replaces the groups; unticked, the model is open to everyone. */
  const setAdminOnly = (model: AdminModel, adminOnly: boolean) =>
    putAccess(model, adminOnly ? { groupIds: [], adminOnly: true } : { groupIds: [] });
  const remove = async (model: AdminModel, from: Element) => {
    if (!window.confirm(fill(t.deleteModelConfirm, { model: model.id }))) return;
    // The row goes with the model: focus moves to the next row's Delete, else to the Pull field.
    const restoreFocus = keepFocusNear(from, () => pullField.current);
    setRemoval(undefined);
    await run(async () =>
      setRemoval(
        await api<ModelRemoval>(`/api/admin/models/${encodeURIComponent(model.id)}`, { method: "DELETE" }),
      ),
    );
    await load();
    restoreFocus();
  };
  return (
    <section aria-labelledby="models-title">
      <h3 id="models-title">{t.models}</h3>
      <form className="inline-form" onSubmit={pullModel}>
        <label>
          {t.pullModel}
          <input ref={pullField} value={pull} onChange={(e) => setPull(e.target.value)} required />
        </label>
        <button type="submit" ref={pullButton} disabled={pulling}>
          {t.pull}
        </button>
      </form>
      {pulls.length > 0 && (
        <ul className="pulls">
          {pulls.map((row) => (
            <li key={row.id}>
              <span className="pull-model">{row.model}</span>{" "}
              <output aria-live="polite">{pullProgressText(t, row.progress)}</output>
              {row.running ? (
                <button
                  type="button"
                  className="small"
                  aria-label={labelWithName(t, t.cancelPull, row.model)}
                  onClick={(event) => cancel(event, row.id)}
                >
                  {t.cancelPull}
                </button>
              ) : (
                <button
                  type="button"
                  className="small"
                  aria-label={labelWithName(t, t.dismissPull, row.model)}
                  onClick={(event) => dismiss(event, row.id)}
                >
                  {t.dismissPull}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      <ActionError error={error} />
      <p role="status" className="models-said">
        {removal && removalText(t, removal)}
      </p>
      <SkippedModelFiles files={skipped} />
      <DataTable label={t.models} columns={[t.model, t.versions, t.allowedGroups]}>
        {models.map((model) => {
          const versions = registry.get(registryName(model.id));
          return (
            <tr key={model.id}>
              {/* The model's Delete under its name (name:tag may break after the colon), so a phone
                  shows both and nothing lies over the allowed groups. */}
              <td>
                <div className="row-name">
                  {breakAfterColon(model.id)}
                  {model.purpose && <span className="badge">{t.modelPurposes[model.purpose]}</span>}
                </div>
                <div className="row-buttons">
                  <button
                    type="button"
                    className="small"
                    aria-label={labelWithName(t, t.delete, model.id)}
                    onClick={(event) => void remove(model, event.currentTarget)}
                  >
                    {t.delete}
                  </button>
                </div>
                <ModelDetailsView model={model.id} />
              </td>
              <td>
                {versions && "registering" in versions ? (
                  <RegisteringNote model={versions} />
                ) : versions ? (
                  <ModelVersions model={versions} onRolledBack={load} />
                ) : (
                  <span className="muted">{t.noVersions}</span>
                )}
              </td>
              <td className="allowed-groups" aria-busy={pendingAccess.has(model.id) || undefined}>
                <label>
                  <input
                    type="checkbox"
                    aria-label={labelWithName(t, t.adminOnlyModel, model.id)}
                    checked={model.adminOnly === true}
                    onChange={(event) => void setAdminOnly(model, event.target.checked)}
                  />{" "}
                  {t.adminOnlyModel}{" "}
                </label>
                {groups.map((g) => (
                  <label key={g.id}>
                    <input
                      type="checkbox"
                      checked={model.groupIds.includes(g.id)}
                      onChange={() => void setAccess(model, g.id)}
                    />{" "}
                    {g.name}{" "}
                  </label>
                ))}
              </td>
            </tr>
          );
        })}
      </DataTable>
    </section>
  );
}

type Limits = Record<string, number | undefined>;
interface Settings {
  signup: "open" | "approval" | "closed";
  /** Who may open conversation share links. */
  shareLinks: "off" | "signed-in";
  userLimits: Limits;
  groupLimits: Record<string, Limits>;
  filter: { words: string[]; allowedWords: string[]; applyToInput: boolean; applyToOutput: boolean };
  /** The config file's word lists (web.filter.lists): read-only here, their words never shown. */
  wordListFiles: WordListFile[];
}

/** The non-empty lines of a text box, trimmed (one word a line). */
function lines(text: string): string[] {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
}

const LIMIT_KEYS = ["requestsPerMinute", "requestsPerDay", "tokensPerMinute", "tokensPerDay"] as const;

/** A set of limits as the API takes it: only the ones set (an empty field is no limit). */
function setLimits(limits: Limits): Limits {
  return Object.fromEntries(Object.entries(limits).filter(([, v]) => typeof v === "number"));
}

function SiteSettings() {
  const { t } = useI18n();
  const [settings, setSettings] = useState<Settings | undefined>();
  const [groups, setGroups] = useState<Array<{ id: string; name: string }>>([]);
  const [words, setWords] = useState("");
  const [allowedWords, setAllowedWords] = useState("");
  const [saved, setSaved] = useState(false);
  const { error, run } = useAction();
  useEffect(() => {
    void api<Settings>("/api/admin/settings").then((s) => {
      setSettings(s);
      setWords(s.filter.words.join("\n"));
      setAllowedWords(s.filter.allowedWords.join("\n"));
    });
    void api<{ groups: Array<{ id: string; name: string }> }>("/api/admin/groups").then((a) =>
      setGroups(a.groups),
    );
  }, []);
  if (!settings) return null;
  const save = async (event: FormEvent) => {
    event.preventDefault();
    setSaved(false);
    // A group with no limit set is left out (its members get the user limits).
    const groupLimits = Object.fromEntries(
      Object.entries(settings.groupLimits)
        .map(([id, limits]) => [id, setLimits(limits)] as const)
        .filter(([, limits]) => Object.keys(limits).length > 0),
    );
    const body = {
      signup: settings.signup,
      shareLinks: settings.shareLinks,
      userLimits: setLimits(settings.userLimits),
      groupLimits,
      filter: { ...settings.filter, words: lines(words), allowedWords: lines(allowedWords) },
    };
    setSaved(await run(() => api("/api/admin/settings", { method: "PATCH", body })));
  };
  const limitInput = (
    key: keyof typeof t.limitNames,
    value: number | undefined,
    set: (v?: number) => void,
  ) => (
    <label key={key}>
      {t.limitNames[key]}
      {/* A 0 is refused, not saved as no limit: the form is not sent until every limit is 1 or more. */}
      <input
        type="number"
        min={1}
        step={1}
        value={value ?? ""}
        onInvalid={(e) => e.currentTarget.setCustomValidity(t.limitAtLeastOne)}
        onInput={(e) => e.currentTarget.setCustomValidity("")}
        onChange={(e) => set(e.target.value ? Number(e.target.value) : undefined)}
      />
    </label>
  );
  const limit = (key: keyof typeof t.limitNames) =>
    limitInput(key, settings.userLimits[key], (v) =>
      setSettings({ ...settings, userLimits: { ...settings.userLimits, [key]: v } }),
    );
  const groupLimit = (groupId: string) => (key: keyof typeof t.limitNames) =>
    limitInput(key, settings.groupLimits[groupId]?.[key], (v) =>
      setSettings({
        ...settings,
        groupLimits: {
          ...settings.groupLimits,
          [groupId]: { ...settings.groupLimits[groupId], [key]: v },
        },
      }),
    );
  const flag = (key: "applyToInput" | "applyToOutput", label: string) => (
    <label className="checkbox">
      <input
        type="checkbox"
        checked={settings.filter[key]}
        onChange={(e) =>
          setSettings({ ...settings, filter: { ...settings.filter, [key]: e.target.checked } })
        }
      />{" "}
      {label}
    </label>
  );
  return (
    <form className="page-form" onSubmit={save} aria-labelledby="site-settings-title">
      <h3 id="site-settings-title">{t.settings}</h3>
      <label>
        {t.signupMode}{" "}
        <select
          value={settings.signup}
          onChange={(e) => setSettings({ ...settings, signup: e.target.value as Settings["signup"] })}
        >
          <option value="open">{t.signupModes.open}</option>
          <option value="approval">{t.signupModes.approval}</option>
          <option value="closed">{t.signupModes.closed}</option>
        </select>
      </label>
      <label>
        {t.shareLinksSetting}{" "}
        <select
          value={settings.shareLinks}
          onChange={(e) => setSettings({ ...settings, shareLinks: e.target.value as Settings["shareLinks"] })}
        >
          <option value="signed-in">{t.shareLinkModes["signed-in"]}</option>
          <option value="off">{t.shareLinkModes.off}</option>
        </select>
      </label>
      <fieldset>
        <legend>{t.limits}</legend>
        {LIMIT_KEYS.map(limit)}
      </fieldset>
      {groups.length > 0 && (
        <fieldset data-testid="group-limits">
          <legend>{t.groupLimits}</legend>
          <p className="muted">{t.groupLimitsHint}</p>
          {groups.map((group) => (
            <fieldset key={group.id} className="group-limits">
              <legend>{group.name}</legend>
              {LIMIT_KEYS.map(groupLimit(group.id))}
            </fieldset>
          ))}
        </fieldset>
      )}
      <label>
        {t.sensitiveWords}
        <textarea rows={4} value={words} onChange={(e) => setWords(e.target.value)} />
      </label>
      <label>
        {t.allowedWords}
        <textarea rows={3} value={allowedWords} onChange={(e) => setAllowedWords(e.target.value)} />
      </label>
      {settings.wordListFiles.length > 0 && (
        <fieldset data-testid="word-list-files">
          <legend>{t.wordListFiles}</legend>
          <p className="muted">{t.wordListFilesHint}</p>
          <ul>
            {settings.wordListFiles.map((list) => {
              const { before, after } = wordListText(t, list);
              return (
                <li key={list.id} className="breakable">
                  {before}
                  <code>{list.action}</code>
                  {after}
                </li>
              );
            })}
          </ul>
        </fieldset>
      )}
      {flag("applyToInput", t.filterApplyToInput)}
      {flag("applyToOutput", t.filterApplyToOutput)}
      <button type="submit">{t.save}</button>
      {saved && <output>{t.saved}</output>}
      <ActionError error={error} />
    </form>
  );
}

interface UsageRow {
  userId: string;
  /** The name kept with the usage; null for an account deleted before names were kept. */
  username: string | null;
  /** The account was deleted since. */
  userDeleted: boolean;
  /** The groups as recorded with the requests; null for those made before groups were recorded. */
  groups: string[] | null;
  groupIds: string[] | null;
  model: string;
  apiKeyId: string | null;
  apiKeyName: string | null;
  requests: number;
  promptTokens: number;
  completionTokens: number;
  costUnits: number;
}

interface GroupUsage {
  groupId: string;
  group: string;
  requests: number;
  promptTokens: number;
  completionTokens: number;
  costUnits: number;
}

function Usage() {
  const { t } = useI18n();
  const [rows, setRows] = useState<UsageRow[]>([]);
  const [groupTotals, setGroupTotals] = useState<GroupUsage[]>([]);
  const [days, setDays] = useState<number>(30);
  useEffect(() => {
    void api<{ usage: UsageRow[]; groupTotals: GroupUsage[] }>(`/api/admin/usage?days=${days}`).then((a) => {
      setRows(a.usage);
      setGroupTotals(a.groupTotals);
    });
  }, [days]);
  return (
    <section aria-labelledby="usage-title">
      <h3 id="usage-title">{t.usage}</h3>
      <ReportPeriod days={days} onDays={setDays} csv="/api/admin/usage" />
      <DataTable
        label={t.usage}
        columns={[
          t.username,
          t.groups,
          t.model,
          t.apiKeyColumn,
          t.requests,
          t.tokensIn,
          t.tokensOut,
          t.usageCostUnits,
        ]}
      >
        {rows.map((row) => (
          <tr key={`${row.userId}-${row.groupIds?.join(" ")}-${row.model}-${row.apiKeyId}`}>
            <td className="breakable">
              {row.userDeleted
                ? fill(t.usageDeletedUser, { name: row.username ?? row.userId })
                : row.username}
            </td>
            <td className="breakable">
              {row.groups === null ? t.usageGroupsNotRecorded : row.groups.join(", ")}
            </td>
            <td>{row.model}</td>
            {/* No key: the chat UI; a key since deleted shows its id. */}
            <td className="breakable" title={row.apiKeyId ?? undefined}>
              {row.apiKeyId === null ? t.usageViaUi : (row.apiKeyName ?? row.apiKeyId)}
            </td>
            <td>{numberText(t, row.requests)}</td>
            <td>{numberText(t, row.promptTokens)}</td>
            <td>{numberText(t, row.completionTokens)}</td>
            <td>{numberText(t, row.costUnits)}</td>
          </tr>
        ))}
      </DataTable>
      <h4>{t.usageByGroup}</h4>
      <DataTable
        label={t.usageByGroup}
        columns={[t.groups, t.requests, t.tokensIn, t.tokensOut, t.usageCostUnits]}
      >
        {groupTotals.map((total) => (
          <tr key={total.groupId}>
            <td className="breakable">{total.group}</td>
            <td>{numberText(t, total.requests)}</td>
            <td>{numberText(t, total.promptTokens)}</td>
            <td>{numberText(t, total.completionTokens)}</td>
            <td>{numberText(t, total.costUnits)}</td>
          </tr>
        ))}
      </DataTable>
    </section>
  );
}

interface StatusAnswer {
  services: Array<{ service: string; ready: boolean; reason?: string }>;
  figures: Record<string, number | null>;
  /** When a figure a service's process counts starts from: that process's start. */
  since?: Record<string, string | null>;
  /** The models the model service holds in memory; null when it did not say. */
  loadedModels?: Array<{
    model: string;
    sizeBytes: number;
    contextLength: number | null;
    expiresAt: string | null;
    keptLoaded: boolean;
  }> | null;
}

function Status() {
  const { t } = useI18n();
  const [status, setStatus] = useState<StatusAnswer | undefined>();
  /** Whether a web search engine is configured (null: cannot tell), as the chat asks it. */
  const [searchConfigured, setSearchConfigured] = useState<boolean | null>(null);
  useEffect(() => {
    let stop = false;
    const tick = async () => {
      try {
        const [answer, search] = await Promise.all([
          api<StatusAnswer>("/api/admin/status"),
          api<{ configured: boolean | null }>("/api/search/status").catch(() => ({ configured: null })),
        ]);
        if (stop) return;
        setStatus(answer);
        setSearchConfigured(search.configured);
      } catch {
        // keep the last figures
      }
    };
    void tick();
    const timer = setInterval(tick, 5000);
    return () => {
      stop = true;
      clearInterval(timer);
    };
  }, []);
  if (!status) return null;
  /**
   * With no search engine configured, web search's success rate is said to be that, not a figure:
   * the only searches counted are refusals (SEARCH_NO_PROVIDERS), a 0% that alarms for nothing.
   */
  const saidInstead = (name: string) =>
    name === "searchSuccessPercent" && searchConfigured === false ? t.figureSearchNotConfigured : undefined;
  return (
    <section aria-labelledby="status-title">
      <h3 id="status-title">{t.statusPage}</h3>
      <ul>
        {status.services.map((s) => (
          <li key={s.service}>
            {fill(t.fieldValue, {
              field: t.serviceNames[s.service] ?? s.service,
              value: serviceReadinessText(t, s.ready, s.reason),
            })}
          </li>
        ))}
      </ul>
      <dl className="figures">
        {Object.entries(status.figures).map(([name, value]) => {
          const since = status.since?.[name];
          return (
            <div key={name}>
              <dt>
                {t.figureNames[name] ?? name}
                {since && (
                  <span className="figure-since">
                    {" "}
                    {fill(t.figureSince, { time: dateTimeText(t, since) })}
                  </span>
                )}
              </dt>
              <dd>
                {saidInstead(name) ??
                  (value === null ? (
                    <>
                      <span aria-hidden="true" title={t.figureUnknown}>
                        —
                      </span>
                      <span className="visually-hidden">{t.figureUnknown}</span>
                    </>
                  ) : (
                    numberText(t, value)
                  ))}
              </dd>
            </div>
          );
        })}
      </dl>
      {Object.entries(status.figures).some(([name, value]) => value === null && !saidInstead(name)) && (
        <p className="muted">{t.figureUnknownNote}</p>
      )}
      <h4 id="loaded-models-title">{t.loadedModels}</h4>
      {!status.loadedModels ? (
        <p className="muted">{t.loadedModelsUnknown}</p>
      ) : status.loadedModels.length === 0 ? (
        <p className="muted">{t.loadedModelsEmpty}</p>
      ) : (
        <DataTable
          label={t.loadedModels}
          columns={[t.model, t.loadedSize, t.loadedContext, t.loadedExpires]}
          pinFirst
        >
          {status.loadedModels.map((loaded) => (
            <tr key={loaded.model}>
              <td>{loaded.model}</td>
              <td>{memorySizeText(loaded.sizeBytes)}</td>
              <td>{loaded.contextLength === null ? "—" : numberText(t, loaded.contextLength)}</td>
              <td>
                {loaded.keptLoaded
                  ? t.keptLoaded
                  : loaded.expiresAt
                    ? dateTimeText(t, loaded.expiresAt)
                    : "—"}
              </td>
            </tr>
          ))}
        </DataTable>
      )}
    </section>
  );
}

interface ProviderRow extends ProviderOutcomeRow {
  id: string;
  latencyMs?: number | null;
}

/** A configured search engine (GET /api/admin/search/providers), enabled or not, with its standing state. */
interface ConfiguredProvider {
  id: string;
  enabled: boolean;
  /** Absent from an older search service, and for an engine only a test's answer named. */
  state?: ProviderStanding;
}

/** How often the engines' standing state is read again while the page is open. */
const PROVIDER_STATE_REFRESH_MS = 15_000;

/** A first engine for hearth.yaml: a self-hosted SearXNG needs no key (docs/search.md, Providers). */
const PROVIDER_EXAMPLE = `search:
  providers:
    - { id: searxng, type: searxng, url: http://127.0.0.1:8888 }`;

/** How to add a search engine, with an example (which scrolls on a phone: the keyboard reaches it). */
function ProviderExample() {
  const { t } = useI18n();
  const example = useRef<HTMLPreElement>(null);
  useKeyboardScrollable(example, t.providerExample);
  return (
    <div className="empty-state" role="note">
      <p>{t.noProvidersConfigured}</p>
      <pre ref={example}>
        <code>{PROVIDER_EXAMPLE}</code>
      </pre>
      <p>{t.noProvidersDocs}</p>
    </div>
  );
}

/**
 * Tests the configured web search engines and shows each one's standing state (breaker, cool-down,
 * last call), read again every 15 s; with none configured, says how to add one and offers no test.
 */
function SearchProviders() {
  const { t } = useI18n();
  const [query, setQuery] = useState("Hearth");
  /** The configured engines, each offered a test of its own (a disabled one too, before it is enabled). */
  const [providers, setProviders] = useState<ConfiguredProvider[]>([]);
  /** The latest test's outcome of each engine tested, by id. */
  const [outcomes, setOutcomes] = useState<Record<string, ProviderRow>>({});
  /** Whether any engine is configured (undefined until known, null when it cannot be told). */
  const [configured, setConfigured] = useState<boolean | null>();
  /** The engines a test is running for ("all": every enabled one), while it runs. */
  const [testing, setTesting] = useState<"all" | string[] | null>(null);
  /** Read again each time: the standing state's clock times are compared with it. */
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    void api<{ configured: boolean | null }>("/api/search/status").then(
      (answer) => setConfigured(answer.configured),
      () => setConfigured(null),
    );
    // Unlisted (the search service down): a test says why, and its answer lists the engines.
    const list = () =>
      void api<{ providers: ConfiguredProvider[] }>("/api/admin/search/providers").then(
        (answer) => {
          setProviders(answer.providers);
          setNow(new Date());
        },
        () => {},
      );
    list();
    const timer = window.setInterval(list, PROVIDER_STATE_REFRESH_MS);
    return () => window.clearInterval(timer);
  }, []);
  const { error, run } = useAction();
  /** Tests the enabled engines, or those named; a test of some keeps the others' outcomes shown. */
  const test = async (only?: string[]) => {
    if (testing) return;
    setTesting(only ?? "all");
    try {
      await run(async () => {
        const answer = await api<{ providers: ProviderRow[] }>("/api/admin/search/test", {
          method: "POST",
          body: { query, ...(only ? { providers: only } : {}) },
        });
        const tested = Object.fromEntries(answer.providers.map((row) => [row.id, row]));
        setOutcomes((shown) => (only ? { ...shown, ...tested } : tested));
      });
      // The test moved the engines' state (a breaker, a cool-down): shown at once, not in 15 s.
      const listed = await api<{ providers: ConfiguredProvider[] }>("/api/admin/search/providers").catch(
        () => undefined,
      );
      if (listed) {
        setProviders(listed.providers);
        setNow(new Date());
      }
    } finally {
      setTesting(null);
    }
  };
  const testAll = async (event: FormEvent) => {
    event.preventDefault();
    await test();
  };
  const listed = new Set(providers.map((provider) => provider.id));
  const rows: ConfiguredProvider[] = [
    ...providers,
    ...Object.keys(outcomes)
      .filter((id) => !listed.has(id))
      .map((id) => ({ id, enabled: true })),
  ];
  /** Whether a running test asks this engine: a test of all asks the enabled ones. */
  const beingTested = (provider: ConfiguredProvider) =>
    testing === "all" ? provider.enabled : (testing?.includes(provider.id) ?? false);
  return (
    <section aria-labelledby="providers-title" aria-busy={testing ? true : undefined}>
      <h3 id="providers-title">{t.searchProviders}</h3>
      {configured === false ? <ProviderExample /> : <p className="muted">{t.providersConfiguredIn}</p>}
      <form className="inline-form" onSubmit={testAll}>
        <label>
          {t.search}
          <input value={query} onChange={(e) => setQuery(e.target.value)} required />
        </label>
        <button type="submit" disabled={testing !== null || configured === false}>
          {testing === "all" ? t.testingProviders : t.testProviders}
        </button>
      </form>
      <ActionError error={error} />
      {rows.length > 0 && (
        <DataTable
          label={t.searchProviders}
          columns={[t.provider, t.status, t.providerResults, t.latency, t.error]}
          actions
        >
          {rows.map((provider) => {
            const pending = beingTested(provider);
            const row = pending ? undefined : outcomes[provider.id];
            const outcome = row && providerOutcomeText(t, row);
            // Untested on this page: the engine's standing state, as the search service keeps it.
            const standing =
              !pending && !row && provider.state ? providerStandingText(t, provider.state, now) : undefined;
            return (
              <tr key={provider.id} aria-busy={pending ? true : undefined}>
                <td>
                  {provider.id}
                  {!provider.enabled && <div className="muted">{t.providerDisabled}</div>}
                </td>
                <td>{pending ? t.providerTesting : (outcome?.status ?? standing?.status)}</td>
                <td>{row?.results != null ? numberText(t, row.results) : ""}</td>
                <td>{row?.latencyMs != null ? `${numberText(t, row.latencyMs)} ms` : ""}</td>
                <td className="breakable">
                  {outcome?.warning && <div className="provider-warning">{outcome.warning}</div>}
                  {outcome?.note && <div className="error-text">{outcome.note}</div>}
                  {outcome?.detail && <div className="muted">{outcome.detail}</div>}
                  {standing?.detail && <div className="muted provider-last-error">{standing.detail}</div>}
                </td>
                <td>
                  <button
                    type="button"
                    disabled={!query.trim() || testing !== null}
                    aria-label={fill(t.withNote, { text: t.testProvider, note: provider.id })}
                    onClick={() => void test([provider.id])}
                  >
                    {pending && testing !== "all" ? t.providerTesting : t.testProvider}
                  </button>
                </td>
              </tr>
            );
          })}
        </DataTable>
      )}
    </section>
  );
}

interface AuditEntry {
  id: number;
  actorId: string | null;
  actorName: string | null;
  action: string;
  target: string | null;
  /** The account's, group's or knowledge base's name when the target is one. */
  targetName: string | null;
  details: Record<string, unknown> | null;
  createdAt: string;
}

/** The audit log, newest first, a page at a time, narrowed by action and actor. */
function AuditLog() {
  const { t, locale } = useI18n();
  /** Undefined until the first page is loaded. */
  const [entries, setEntries] = useState<AuditEntry[]>();
  const [next, setNext] = useState<number | null>(null);
  const [action, setAction] = useState("");
  const [actor, setActor] = useState("");
  /** The filters of the entries shown: "Load more" goes on with them, not with ones typed since. */
  const [applied, setApplied] = useState({ action: "", actor: "" });
  const { error, run } = useAction();
  const load = useCallback(
    (filters: { action: string; actor: string }, before: number | null) =>
      run(async () => {
        const query = new URLSearchParams({ limit: "100" });
        if (before !== null) query.set("before", String(before));
        if (filters.action) query.set("action", filters.action);
        if (filters.actor.trim()) query.set("actor", filters.actor.trim());
        const page = await api<{ entries: AuditEntry[]; next: number | null }>(`/api/admin/audit?${query}`);
        setEntries((shown) => (before === null ? page.entries : [...(shown ?? []), ...page.entries]));
        setNext(page.next);
        setApplied(filters);
      }),
    [run],
  );
  useEffect(() => {
    void load({ action: "", actor: "" }, null);
  }, [load]);
  const filter = (event: FormEvent) => {
    event.preventDefault();
    void load({ action, actor }, null);
  };
  const filtered = applied.action !== "" || applied.actor.trim() !== "";
  /** Under the entries when none is left to load: the end, or why there are none (apart from a failed load). */
  const endNote =
    entries === undefined
      ? undefined
      : entries.length > 0
        ? t.auditEnd
        : filtered
          ? t.auditNoMatches
          : t.auditEmpty;
  return (
    <section aria-labelledby="audit-title">
      <h3 id="audit-title">{t.auditLog}</h3>
      <form className="inline-form audit-filters" onSubmit={filter}>
        <label>
          {t.action}{" "}
          <select value={action} onChange={(e) => setAction(e.target.value)}>
            <option value="">{t.auditAllActions}</option>
            {Object.entries(t.auditActions).map(([id, label]) => (
              <option key={id} value={id}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t.actor}{" "}
          <input value={actor} onChange={(e) => setActor(e.target.value)} placeholder={t.username} />
        </label>
        <button type="submit">{t.auditFilter}</button>
      </form>
      <ActionError error={error} />
      {/* With no entry, the note below says why instead of a table of headers alone. */}
      {entries?.length !== 0 && (
        <DataTable
          label={t.auditLog}
          columns={[t.time, t.actor, t.action, t.target, t.details]}
          nowrap={[1, 2]}
        >
          {entries?.map((entry) => (
            <tr key={entry.id} data-action={entry.action}>
              <td>
                {/* On a phone a Chinese date breaks only at its spaces ("2026年 / 11月27 / 日" reads badly). */}
                <time className="keep-words" dateTime={entry.createdAt}>
                  {new Date(entry.createdAt).toLocaleString(locale, {
                    dateStyle: "medium",
                    timeStyle: "medium",
                  })}
                </time>
              </td>
              {/* A deleted account is shown by its id; no actor is the system (e.g. hearth users create-admin). */}
              {/* A long user name breaks (its heading does not), so the action beside it stays on a phone's screen. */}
              <td className="breakable">{entry.actorName ?? entry.actorId ?? "—"}</td>
              <td className="nowrap" title={entry.action}>
                {t.auditActions[entry.action] ?? entry.action}
              </td>
              <td className="audit-target" title={entry.target ?? undefined}>
                {entry.targetName ?? entry.target ?? ""}
              </td>
              <td className="audit-details">
                {entry.details ? (
                  <pre>{auditDetailsLines(t, entry.action, entry.details).join("\n")}</pre>
                ) : (
                  ""
                )}
              </td>
            </tr>
          ))}
        </DataTable>
      )}
      {next !== null ? (
        <button type="button" className="load-more" onClick={() => void load(applied, next)}>
          {t.loadMore}
        </button>
      ) : (
        endNote && <p className="muted">{endNote}</p>
      )}
    </section>
  );
}

/**
 * Administration: users and groups, models, search providers, site settings, announcement banners,
 * usage, answer feedback, audit log, live status. `onLeftAdmin` runs when the administrator made their own account a user.
 */
export function AdminPage({ userId, onLeftAdmin }: { userId: string; onLeftAdmin(): void }) {
  const { t } = useI18n();
  const tabs = [
    ["users", t.users],
    ["models", t.models],
    ["search", t.searchProviders],
    ["settings", t.settings],
    ["banners", t.banners],
    ["usage", t.usage],
    ["feedback", t.feedback],
    ["audit", t.auditLog],
    ["status", t.statusPage],
  ] as const;
  // The tab is in the address (/admin/<tab>): a reload, a bookmark or Back stays on it.
  const path = usePath();
  const tab = tabs.find(([id]) => path === `/admin/${id}`)?.[0] ?? "users";
  const label = tabs.find(([id]) => id === tab)![1];
  usePageTitle(`${label} – ${t.admin}`);
  const choose = (id: string) => {
    navigate(`/admin/${id}`);
    document.getElementById(`admin-tab-${id}`)?.focus();
  };
  /** Arrow keys, Home and End move between the tabs (one tab stop for the list; Tab goes to the panel). */
  const onTabKey = (event: KeyboardEvent) => {
    const index = tabs.findIndex(([id]) => id === tab);
    const to = {
      ArrowRight: index + 1,
      ArrowLeft: index - 1 + tabs.length,
      Home: 0,
      End: tabs.length - 1,
    }[event.key];
    if (to === undefined) return;
    event.preventDefault();
    choose(tabs[to % tabs.length]![0]);
  };
  return (
    <div className="page wide">
      <h2 id={PAGE_HEADING} tabIndex={-1}>
        {t.admin}
      </h2>
      <div role="tablist" className="tabs" aria-labelledby={PAGE_HEADING} onKeyDown={onTabKey}>
        {tabs.map(([id, label]) => (
          <button
            key={id}
            id={`admin-tab-${id}`}
            type="button"
            role="tab"
            aria-selected={tab === id}
            aria-controls="admin-tabpanel"
            tabIndex={tab === id ? 0 : -1}
            onClick={() => choose(id)}
          >
            {label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id="admin-tabpanel" aria-labelledby={`admin-tab-${tab}`}>
        {tab === "users" && <UsersAndGroups userId={userId} onLeftAdmin={onLeftAdmin} />}
        {tab === "models" && <Models />}
        {tab === "search" && <SearchProviders />}
        {tab === "settings" && <SiteSettings />}
        {tab === "banners" && <AdminBanners />}
        {tab === "usage" && <Usage />}
        {tab === "feedback" && <AdminFeedback />}
        {tab === "audit" && <AuditLog />}
        {tab === "status" && <Status />}
      </div>
    </div>
  );
}

/** A user row's button that opens and closes a panel about that user (API keys, a password reset). */
function PanelToggle(props: {
  label: string;
  name: string;
  open: boolean;
  panelId: string;
  /** Called with the button, which takes focus back when the panel closes. */
  onToggle: (button: HTMLButtonElement) => void;
}) {
  const { t } = useI18n();
  return (
    <button
      type="button"
      className="small"
      aria-label={labelWithName(t, props.label, props.name)}
      aria-expanded={props.open}
      aria-controls={props.open ? props.panelId : undefined}
      onClick={(event) => props.onToggle(event.currentTarget)}
    >
      {props.label}
    </button>
  );
}
