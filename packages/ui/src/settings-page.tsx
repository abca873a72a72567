import { textLength } from "@hearth/contracts/text-length";
import { type FormEvent, useCallback, useEffect, useState } from "react";
import { api, type ModelsAnswer, type Preferences } from "./api.js";
import { type ApiKeyRow, ApiKeyTable } from "./api-key-table.js";
import type { ThemeChoice } from "./app.js";
import {
  describedField,
  focusWhenShown,
  keepFocusNear,
  PAGE_HEADING,
  useFocusInvalidField,
  usePageTitle,
} from "./focus.js";
import { fill, type Locale, useI18n } from "./i18n.js";
import { LanguageOptions } from "./language-options.js";
import { CopyButton } from "./markdown.js";
import { MemorySettings } from "./memory-settings.js";
import { PromptsSettings } from "./prompts-settings.js";
import { ReadAloudSettings } from "./read-aloud-settings.js";
import { navigate } from "./router.js";
import { ActionError, errorCode, errorField, useAction } from "./use-action.js";

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

type ChatDefaultsField = "instructions" | "defaultModel" | "webSearch";
type SearchMode = "off" | "auto" | "on";

/**
 * The user's chat defaults, kept with their account: custom instructions (a new chat's system
 * prompt), the model and the web search mode a new chat starts with. A refusal is shown under the
 * field it is about, which is marked invalid and takes focus.
 */
function ChatDefaults(props: {
  preferences: Preferences;
  models: ModelsAnswer | undefined;
  onSave(changes: Partial<Preferences>): Promise<Preferences>;
}) {
  const { t } = useI18n();
  const { preferences } = props;
  const [instructions, setInstructions] = useState(preferences.instructions ?? "");
  const [defaultModel, setDefaultModel] = useState(preferences.defaultModel ?? "");
  const [webSearch, setWebSearch] = useState<SearchMode>(preferences.webSearch ?? "off");
  const [done, setDone] = useState(false);
  const { error, run } = useAction();
  /** Whether a web search engine is configured (undefined until known, or when it cannot be told). */
  const [searchConfigured, setSearchConfigured] = useState<boolean>();
  useEffect(() => {
    void api<{ configured: boolean | null }>("/api/search/status").then(
      (answer) => setSearchConfigured(answer.configured ?? undefined),
      () => {},
    );
  }, []);
  const offered = props.models?.models ?? [];
  /**
   * The stored default model when it is not in the list: no longer offered to the user (an
   * administrator limited it), or the list could not be read (the model service not answering).
   */
  const unlisted =
    preferences.defaultModel && !offered.some((m) => m.id === preferences.defaultModel)
      ? preferences.defaultModel
      : undefined;
  const unavailable = props.models?.reachable ? unlisted : undefined;
  const invalid: ChatDefaultsField | undefined =
    error === undefined
      ? undefined
      : ["CONTENT_BLOCKED", "MESSAGE_TOO_LONG"].includes(errorCode(error) ?? "")
        ? "instructions"
        : (errorField(error) as ChatDefaultsField | undefined);
  const errorId = "chat-defaults-error";
  const described = (field: ChatDefaultsField, hint?: string) =>
    describedField(invalid === field, hint, errorId);
  /** The refusal, under the field it is about. */
  const fieldError = (field: ChatDefaultsField) =>
    invalid === field ? <ActionError id={errorId} error={error} /> : null;
  useFocusInvalidField(invalid && `chat-defaults-${invalid}`);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setDone(false);
    const saved = await run(() =>
      props.onSave({
        instructions: instructions.trim() || null,
        defaultModel: defaultModel || null,
        webSearch,
      }),
    );
    setDone(saved);
  };
  const limit = preferences.instructionsMaxChars;
  return (
    <form className="page-form chat-defaults" onSubmit={submit} aria-labelledby="chat-defaults-title">
      <h3 id="chat-defaults-title">{t.chatDefaults}</h3>
      <p className="muted">{t.chatDefaultsIntro}</p>
      <label htmlFor="chat-defaults-instructions">{t.customInstructions}</label>
      <textarea
        id="chat-defaults-instructions"
        value={instructions}
        rows={6}
        maxLength={limit}
        onChange={(event) => {
          setInstructions(event.target.value);
          setDone(false);
        }}
        {...described("instructions", "chat-defaults-instructions-hint chat-defaults-instructions-count")}
      />
      <p id="chat-defaults-instructions-hint" className="muted field-hint">
        {t.customInstructionsHint}
      </p>
      <p id="chat-defaults-instructions-count" className="muted field-hint">
        {fill(t.characterCount, { n: textLength(instructions), max: limit })}
      </p>
      {fieldError("instructions")}
      <label>
        {t.defaultModel}
        <select
          id="chat-defaults-defaultModel"
          value={defaultModel}
          onChange={(event) => {
            setDefaultModel(event.target.value);
            setDone(false);
          }}
          {...described(
            "defaultModel",
            unavailable && defaultModel === unavailable ? "chat-defaults-model-unavailable" : undefined,
          )}
        >
          <option value="">{t.defaultModelUsual}</option>
          {offered.map((model) => (
            <option key={model.id} value={model.id}>
              {model.id}
            </option>
          ))}
          {unlisted && (
            <option value={unlisted}>
              {unavailable ? fill(t.defaultModelUnavailable, { model: unlisted }) : unlisted}
            </option>
          )}
        </select>
      </label>
      {unavailable && defaultModel === unavailable && (
        <p id="chat-defaults-model-unavailable" className="muted field-hint">
          {fill(t.defaultModelUnavailableHint, { model: unavailable })}
        </p>
      )}
      {fieldError("defaultModel")}
      <label>
        {t.defaultWebSearch}
        <select
          id="chat-defaults-webSearch"
          value={searchConfigured === false ? "off" : webSearch}
          disabled={searchConfigured === false}
          onChange={(event) => {
            setWebSearch(event.target.value as SearchMode);
            setDone(false);
          }}
          {...described("webSearch", searchConfigured === false ? "chat-defaults-search-hint" : undefined)}
        >
          <option value="off">{t.searchOff}</option>
          <option value="auto">{t.searchAuto}</option>
          <option value="on">{t.searchOn}</option>
        </select>
      </label>
      {searchConfigured === false && (
        <p id="chat-defaults-search-hint" className="muted field-hint">
          {t.searchOffSummary}
        </p>
      )}
      {fieldError("webSearch")}
      {error !== undefined && invalid === undefined && <ActionError error={error} />}
      {done && <p role="status">{t.chatDefaultsSaved}</p>}
      <button type="submit">{t.saveChatDefaults}</button>
    </form>
  );
}

/**
 * The user's settings: language and theme (kept with the account), chat defaults, memory,
 * prompts, password, chats, and API keys (shown once, revocable).
 */
export function SettingsPage(props: {
  theme: ThemeChoice;
  /** Shows the theme, and keeps it with the account. */
  onTheme(theme: ThemeChoice): Promise<void>;
  /** Shows the language, and keeps it with the account. */
  onLocale(locale: Locale): Promise<void>;
  models: ModelsAnswer | undefined;
  /** Undefined until read. */
  preferences: Preferences | undefined;
  onSavePreferences(changes: Partial<Preferences>): Promise<Preferences>;
  /** An administrator shares prompts with everyone, and changes the shared ones. */
  admin?: boolean;
  /** An account made by single sign-on has no password: Settings says so instead of the form. */
  hasPassword?: boolean;
}) {
  const { t, locale } = useI18n();
  const display = useAction();
  const [keys, setKeys] = useState<ApiKeyRow[]>([]);
  const [name, setName] = useState("");
  /** The key just created, shown once until another is created or it is revoked. */
  const [created, setCreated] = useState<{ id: string; key: string } | undefined>();
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
      const answer = await api<{ id: string; key: string }>("/api/account/api-keys", {
        method: "POST",
        body: { name },
      });
      setCreated({ id: answer.id, key: answer.key });
      setName("");
      await load();
    });
  };
  const revoke = async (key: ApiKeyRow, from: Element) => {
    const restoreFocus = keepFocusNear(from, () => document.getElementById("api-keys-title"));
    const revoked = await run(() => api(`/api/account/api-keys/${key.id}`, { method: "DELETE" }));
    if (revoked) setCreated((shown) => (shown?.id === key.id ? undefined : shown));
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
          <select
            value={locale}
            aria-describedby="display-choices-hint"
            onChange={(e) => void display.run(() => props.onLocale(e.target.value as Locale))}
          >
            <LanguageOptions />
          </select>
        </label>
        <label>
          {t.theme}{" "}
          <select
            value={props.theme}
            aria-describedby="display-choices-hint"
            onChange={(e) => void display.run(() => props.onTheme(e.target.value as ThemeChoice))}
          >
            <option value="system">{t.systemTheme}</option>
            <option value="light">{t.light}</option>
            <option value="dark">{t.dark}</option>
          </select>
        </label>
      </div>
      <p id="display-choices-hint" className="muted">
        {t.displayChoicesHint}
      </p>
      <ActionError error={display.error} />
      {props.preferences && (
        <>
          <ChatDefaults
            preferences={props.preferences}
            models={props.models}
            onSave={props.onSavePreferences}
          />
          <MemorySettings preferences={props.preferences} onSave={props.onSavePreferences} />
        </>
      )}
      <PromptsSettings admin={props.admin ?? false} />
      <ReadAloudSettings />
      {props.hasPassword === false ? (
        <section className="form-card" aria-labelledby="password-title">
          <h3 id="password-title">{t.changePassword}</h3>
          <p role="note">{t.ssoAccountNote}</p>
        </section>
      ) : (
        <ChangePassword />
      )}
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
            {t.keyShownOnce} <code>{created.key}</code>
          </p>
          <CopyButton key={created.id} text={created.key} label={t.copyApiKey} focus describedBy="new-key" />
        </div>
      )}
      <ApiKeyTable keys={keys} onRevoke={(key, from) => void revoke(key, from)} />
    </div>
  );
}
