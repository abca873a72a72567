import { type FormEvent, useCallback, useEffect, useState } from "react";
import { api } from "./api.js";
import { type ApiKeyRow, ApiKeyTable } from "./api-key-table.js";
import type { ThemeChoice } from "./app.js";
import { describedField, focusWhenShown, keepFocusNear, PAGE_HEADING, usePageTitle } from "./focus.js";
import { fill, type Locale, useI18n } from "./i18n.js";
import { LanguageOptions } from "./language-options.js";
import { CopyButton } from "./markdown.js";
import { navigate } from "./router.js";
import { ActionError, errorCode, useAction } from "./use-action.js";

type PasswordField = "current" | "next" | "again";

/**
 * Changing one's password: the current one, then the new one twice (a mismatch is said here,
 * before anything is sent). The server ends the account's other sessions.
 */
function ChangePassword() {
  const { t } = useI18n();
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [again, setAgain] = useState("");
  const [done, setDone] = useState(false);
  const { error, run } = useAction();
  /** The field the error is about: marked invalid and pointing to it. */
  const invalid: PasswordField | undefined =
    error === undefined
      ? undefined
      : errorCode(error) === "CURRENT_PASSWORD_WRONG"
        ? "current"
        : errorCode(error) === "WEAK_PASSWORD"
          ? "next"
          : next !== again
            ? "again"
            : undefined;
  const described = (field: PasswordField, hint?: string) =>
    describedField(invalid === field, hint, "password-error");
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setDone(false);
    const changed = await run(async () => {
      if (next !== again) throw new Error(t.passwordMismatch);
      await api("/api/account/password", {
        method: "POST",
        body: { currentPassword: current, newPassword: next },
      });
    });
    if (changed) {
      setCurrent("");
      setNext("");
      setAgain("");
      setDone(true);
    }
  };
  return (
    <form className="form-card" onSubmit={submit} aria-labelledby="password-title">
      <h3 id="password-title">{t.changePassword}</h3>
      <label>
        {t.currentPassword}
        <input
          type="password"
          autoComplete="current-password"
          value={current}
          onChange={(e) => setCurrent(e.target.value)}
          required
          {...described("current")}
        />
      </label>
      <label>
        {t.newPassword}
        <input
          type="password"
          autoComplete="new-password"
          value={next}
          onChange={(e) => setNext(e.target.value)}
          required
          {...described("next", "new-password-rule")}
        />
      </label>
      <p id="new-password-rule" className="muted field-hint">
        {t.passwordRule}
      </p>
      <label>
        {t.confirmNewPassword}
        <input
          type="password"
          autoComplete="new-password"
          value={again}
          onChange={(e) => setAgain(e.target.value)}
          required
          {...described("again")}
        />
      </label>
      <ActionError id="password-error" error={error} />
      {done && <p role="status">{t.passwordChanged}</p>}
      <button type="submit">{t.changePassword}</button>
    </form>
  );
}

/**
 * Chats: the way to Archived chats, and "Archive all chats" (asked first), which says how many it
 * archived.
 */
function ChatsSettings() {
  const { t } = useI18n();
  const [done, setDone] = useState("");
  const { error, run } = useAction();
  const archiveAll = async () => {
    setDone("");
    if (!window.confirm(t.archiveAllConfirm)) return;
    await run(async () => {
      const answer = await api<{ archived: number }>("/api/conversations/archive-all", { method: "POST" });
      setDone(fill(t.allChatsArchived, { n: answer.archived }));
    });
  };
  return (
    <section aria-labelledby="chats-settings-title">
      <h3 id="chats-settings-title">{t.chatsSettings}</h3>
      <p>
        <a
          className="accent-link"
          href="/archived"
          onClick={(event) => {
            event.preventDefault();
            navigate("/archived");
            focusWhenShown(`#${PAGE_HEADING}`);
          }}
        >
          {t.archivedChats}
        </a>
      </p>
      <p id="archive-all-hint" className="muted">
        {t.archiveAllChatsHint}
      </p>
      <button type="button" aria-describedby="archive-all-hint" onClick={() => void archiveAll()}>
        {t.archiveAllChats}
      </button>
      <p role="status">{done}</p>
      <ActionError error={error} />
    </section>
  );
}

/** The user's settings: language, theme, password, chats, and API keys (shown once, revocable). */
export function SettingsPage(props: { theme: ThemeChoice; onTheme(theme: ThemeChoice): void }) {
  const { t, locale, setLocale } = useI18n();
  const [keys, setKeys] = useState<ApiKeyRow[]>([]);
  const [name, setName] = useState("");
  const [created, setCreated] = useState<string | undefined>();
  const { error, run } = useAction();
  usePageTitle(t.settings);

  const load = useCallback(
    async () => setKeys((await api<{ keys: ApiKeyRow[] }>("/api/account/api-keys")).keys),
    [],
  );
  useEffect(() => {
    void load();
  }, [load]);

  const create = async (event: FormEvent) => {
    event.preventDefault();
    await run(async () => {
      const answer = await api<{ key: string }>("/api/account/api-keys", { method: "POST", body: { name } });
      setCreated(answer.key);
      setName("");
      await load();
    });
  };
  const revoke = async (key: ApiKeyRow, from: Element) => {
    const restoreFocus = keepFocusNear(from, () => document.getElementById("api-keys-title"));
    await run(() => api(`/api/account/api-keys/${key.id}`, { method: "DELETE" }));
    await load();
    restoreFocus();
  };

  return (
    <div className="page">
      <h2 id={PAGE_HEADING} tabIndex={-1}>
        {t.settings}
      </h2>
      <div className="inline-form">
        <label>
          {t.language}{" "}
          <select value={locale} onChange={(e) => setLocale(e.target.value as Locale)}>
            <LanguageOptions />
          </select>
        </label>
        <label>
          {t.theme}{" "}
          <select value={props.theme} onChange={(e) => props.onTheme(e.target.value as ThemeChoice)}>
            <option value="system">{t.systemTheme}</option>
            <option value="light">{t.light}</option>
            <option value="dark">{t.dark}</option>
          </select>
        </label>
      </div>
      <ChangePassword />
      <ChatsSettings />
      <h3 id="api-keys-title" tabIndex={-1}>
        {t.apiKeys}
      </h3>
      <form className="inline-form" onSubmit={create}>
        <label>
          {t.newKey}
          <input value={name} onChange={(e) => setName(e.target.value)} required />
        </label>
        <button type="submit">{t.create}</button>
      </form>
      <ActionError error={error} />
      {/* Focus goes to its Copy button (a new key's, each time), which reads the key out too. */}
      {created && (
        <div className="key-once">
          <p role="status" id="new-key">
            {t.keyShownOnce} <code>{created}</code>
          </p>
          <CopyButton key={created} text={created} label={t.copyApiKey} focus describedBy="new-key" />
        </div>
      )}
      <ApiKeyTable keys={keys} onRevoke={(key, from) => void revoke(key, from)} />
    </div>
  );
}
