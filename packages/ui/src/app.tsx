import { lazy, Suspense, useCallback, useEffect, useMemo, useRef, useState } from "react";
import { AnnouncementBanners } from "./announcement-banners.js";
import {
  ApiError,
  type Assistant,
  abortRequests,
  api,
  type ModelsAnswer,
  type Preferences,
  type SessionInfo,
} from "./api.js";
import { AuthPage } from "./auth-page.js";
import { ChatView, clearDrafts, type KnowledgeBaseOption } from "./chat-view.js";
import { ConversationList } from "./conversation-list.js";
import { focusWhenShown, PAGE_HEADING, usePageTitle } from "./focus.js";
import { fill, I18nContext, initialLocale, type Locale, MESSAGES, useI18n } from "./i18n.js";
import { forgetUploads, uploadsPending } from "./knowledge-uploads.js";
import { LanguageOptions } from "./language-options.js";
import { forgetPulls } from "./model-pull.js";
import { MODELS_CHANGED, watchModels } from "./models-watch.js";
import { forgetAllQuestions } from "./retrieval-history.js";
import { navigate, usePath } from "./router.js";
import { modalDialogOpen, onMac, ShortcutsDialog, shortcutOf } from "./shortcuts.js";
import { leaveTemporaryChat } from "./temporary-chat.js";

// Pages most people open rarely load on demand, keeping the first load small.
const KnowledgePage = lazy(() => import("./knowledge-page.js").then((m) => ({ default: m.KnowledgePage })));
const SettingsPage = lazy(() => import("./settings-page.js").then((m) => ({ default: m.SettingsPage })));
const AdminPage = lazy(() => import("./admin-page.js").then((m) => ({ default: m.AdminPage })));
const SharePage = lazy(() => import("./share-page.js").then((m) => ({ default: m.SharePage })));
const AssistantsPage = lazy(() =>
  import("./assistants-page.js").then((m) => ({ default: m.AssistantsPage })),
);
const ArchivedPage = lazy(() => import("./archived-page.js").then((m) => ({ default: m.ArchivedPage })));

type Theme = "light" | "dark";
/** What the reader chose: a theme, or the system's (the default), followed as it changes. */
export type ThemeChoice = Theme | "system";

const DARK_QUERY = "(prefers-color-scheme: dark)";

/** The account's preferences when they cannot be read: none chosen (the page keeps its own choices). */
const NO_PREFERENCES: Preferences = {
  instructions: null,
  defaultModel: null,
  webSearch: null,
  language: null,
  theme: null,
  memory: false,
  instructionsMaxChars: 10_000,
  messageMaxChars: 100_000,
};

/** Only an explicit choice is stored; without one the page follows the system. */
function initialThemeChoice(): ThemeChoice {
  const saved = localStorage.getItem("hearth.theme");
  return saved === "light" || saved === "dark" ? saved : "system";
}

/** The system's theme, kept current when it changes (the OS switching to dark at night). */
function useSystemTheme(): Theme {
  const [theme, setTheme] = useState<Theme>(() => (matchMedia(DARK_QUERY).matches ? "dark" : "light"));
  useEffect(() => {
    const query = matchMedia(DARK_QUERY);
    const changed = () => setTheme(query.matches ? "dark" : "light");
    query.addEventListener("change", changed);
    return () => query.removeEventListener("change", changed);
  }, []);
  return theme;
}

function NavLink({
  href,
  label,
  path,
  className,
}: {
  href: string;
  label: string;
  path: string;
  className?: string;
}) {
  const current = href === "/" ? path === "/" || path.startsWith("/c/") : path.startsWith(href);
  return (
    <a
      href={href}
      className={className}
      aria-current={current ? "page" : undefined}
      onClick={(event) => {
        event.preventDefault();
        navigate(href);
        // As a page load would, the reader starts at the new page's heading (and hears its name).
        focusWhenShown(`#${PAGE_HEADING}`);
      }}
    >
      {label}
    </a>
  );
}

/** The window shown again (focus, a tab switched back to) reads the models at most this often. */
const MODELS_SHOWN_AGAIN_MS = 1000;

/** What a user (not an administrator) sees at /admin: that it is not for them, and the way back. */
function AdminOnly() {
  const { t } = useI18n();
  usePageTitle(t.adminOnlyPage);
  return (
    <div className="page">
      <h2 id={PAGE_HEADING} tabIndex={-1}>
        {t.adminOnlyPage}
      </h2>
      <p>{t.adminOnlyPageHint}</p>
      <p>
        <NavLink href="/" label={t.toChat} path="" />
      </p>
    </div>
  );
}

export function App() {
  const [locale, setLocaleState] = useState<Locale>(initialLocale);
  const [themeChoice, setThemeChoice] = useState<ThemeChoice>(initialThemeChoice);
  const systemTheme = useSystemTheme();
  const theme: Theme = themeChoice === "system" ? systemTheme : themeChoice;
  const [models, setModels] = useState<ModelsAnswer | undefined>();
  /** The signed-in user's chat defaults and display choices (undefined until read). */
  const [preferences, setPreferences] = useState<Preferences | undefined>();
  const [model, setModel] = useState("");
  const [knowledgeBases, setKnowledgeBases] = useState<KnowledgeBaseOption[]>([]);
  /** The largest file the knowledge service takes, listed with the bases (a chat's files are held to it). */
  const [maxUploadBytes, setMaxUploadBytes] = useState<number>();
  /** The assistants the user may use whose base model is offered to them (the new chat's picker). */
  const [assistants, setAssistants] = useState<Assistant[]>([]);
  /** The assistant a new chat is started with, chosen in the picker; none: a plain model. */
  const [assistantId, setAssistantId] = useState<string>();
  const [refresh, setRefresh] = useState(0);
  /** The last conversation renamed in the list (the chat's heading and the tab's title follow it). */
  const [renamed, setRenamed] = useState<{ id: string; title: string }>();
  /** The last conversation archived from the list (the chat showing it says so). */
  const [archived, setArchived] = useState<{ id: string; archivedAt: string }>();
  const path = usePath();
  const t = MESSAGES[locale];
  /** Whether the phone's header menu (language, theme, sign out) is open; it closes on leaving a page. */
  const [menuOpen, setMenuOpen] = useState(false);
  // biome-ignore lint/correctness/useExhaustiveDependencies: closes when the page changes
  useEffect(() => setMenuOpen(false), [path]);
  // Escape closes the open menu, back on its button.
  useEffect(() => {
    if (!menuOpen) return;
    const onKey = (event: globalThis.KeyboardEvent) => {
      if (event.key !== "Escape") return;
      setMenuOpen(false);
      document.querySelector<HTMLElement>(".menu-toggle")?.focus();
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [menuOpen]);

  const [session, setSession] = useState<SessionInfo | undefined>();
  const signedInNow = useRef(false);
  signedInNow.current = Boolean(session?.user);

  /** Shows a language (kept on this browser too, for the sign-in form). */
  const applyLocale = useCallback((next: Locale) => {
    localStorage.setItem("hearth.locale", next);
    setLocaleState(next);
  }, []);
  /** Shows a theme; only an explicit choice is kept on this browser. */
  const applyTheme = useCallback((choice: ThemeChoice) => {
    if (choice === "system") localStorage.removeItem("hearth.theme");
    else localStorage.setItem("hearth.theme", choice);
    setThemeChoice(choice);
  }, []);
  /** Saves some of the account's preferences (only those given change); gives back all of them. */
  const savePreferences = useCallback(async (changes: Partial<Preferences>) => {
    const saved = await api<Preferences>("/api/account/preferences", { method: "PUT", body: changes });
    setPreferences(saved);
    return saved;
  }, []);
  /**
   * The reader chose a language or a theme: shown at once, and, while signed in, kept with the
   * account, so that every device they sign in on shows it.
   */
  const chooseLocale = useCallback(
    async (next: Locale) => {
      applyLocale(next);
      if (signedInNow.current) await savePreferences({ language: next });
    },
    [applyLocale, savePreferences],
  );
  const chooseTheme = useCallback(
    async (choice: ThemeChoice) => {
      applyTheme(choice);
      if (signedInNow.current) await savePreferences({ theme: choice });
    },
    [applyTheme, savePreferences],
  );

  const i18n = useMemo(
    () => ({
      locale,
      t,
      // The header's picker (and the sign-in form's): a failed save leaves the choice on this browser.
      setLocale: (next: Locale) => void chooseLocale(next).catch(() => {}),
    }),
    [locale, t, chooseLocale],
  );

  useEffect(() => {
    document.documentElement.lang = locale;
  }, [locale]);
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);

  const loadSession = useCallback(async () => setSession(await api<SessionInfo>("/api/auth/session")), []);
  /** The sign-in ended under the user (a 401 while signed in): the sign-in form says so. */
  const [expired, setExpired] = useState(false);
  /** Set from a deliberate sign-out until the next sign-in: a 401 meanwhile is no expired session. */
  const signingOut = useRef(false);
  useEffect(() => {
    void loadSession();
    const signedOut = () => {
      if (signedInNow.current && !signingOut.current) setExpired(true);
      void loadSession();
    };
    addEventListener("hearth:signed-out", signedOut);
    return () => removeEventListener("hearth:signed-out", signedOut);
  }, [loadSession]);

  const signedIn = Boolean(session?.user);
  const onChatPage = path === "/" || path.startsWith("/c/");
  // The models offered; while the model service cannot be reached, read again on their own and
  // when the browser goes online: the chat carries on once it is back. Read again too when the
  // models change here (Admin → Models: a pull, a delete, a rollback, who may use one) and when the
  // window is shown again or gets focus (another administrator may have changed them meanwhile).
  useEffect(() => {
    if (!signedIn) return;
    let signedInStill = true;
    const watch = watchModels(async () => {
      const answer = await api<ModelsAnswer>("/api/models");
      if (signedInStill) setModels(answer);
      return answer.reachable;
    });
    const changed = () => watch.refresh();
    /** Focus and a tab shown again come together: read once for both. */
    const shown = () => {
      if (document.visibilityState === "visible") watch.refresh(MODELS_SHOWN_AGAIN_MS);
    };
    addEventListener(MODELS_CHANGED, changed);
    addEventListener("focus", shown);
    document.addEventListener("visibilitychange", shown);
    addEventListener("online", watch.wake);
    return () => {
      signedInStill = false;
      watch.stop();
      removeEventListener(MODELS_CHANGED, changed);
      removeEventListener("focus", shown);
      document.removeEventListener("visibilitychange", shown);
      removeEventListener("online", watch.wake);
    };
  }, [signedIn]);
  useEffect(() => {
    if (!signedIn) return setPreferences(undefined);
    void api<Preferences>("/api/account/preferences").then(
      (answer) => {
        setPreferences(answer);
        // Signed in, the account's language and theme are the page's (this browser's until now).
        if (answer.language) applyLocale(answer.language);
        if (answer.theme) applyTheme(answer.theme);
      },
      () => {
        if (signedInNow.current) setPreferences(NO_PREFERENCES);
      },
    );
  }, [signedIn, applyLocale, applyTheme]);
  useEffect(() => {
    if (!models || !preferences) return;
    // The model chosen while it is still offered (a model deleted, or no longer allowed, is not);
    // else the user's default model while it is offered to them; else the model last chosen on this
    // browser, while it is still offered; else the first.
    const offered = (id: string | null) => id !== null && models.models.some((m) => m.id === id);
    const saved = localStorage.getItem("hearth.model");
    const { defaultModel } = preferences;
    setModel((current) =>
      offered(current)
        ? current
        : offered(defaultModel)
          ? defaultModel!
          : offered(saved)
            ? saved!
            : models.models[0]?.id || "",
    );
  }, [models, preferences]);
  const loadKnowledgeBases = useCallback(() => {
    void api<{
      knowledgeBases: Array<KnowledgeBaseOption & { indexedDocumentCount?: number }>;
      maxUploadBytes?: number;
    }>("/api/knowledge-bases")
      .then((answer) => {
        setKnowledgeBases(
          answer.knowledgeBases.map((kb) => ({
            id: kb.id,
            name: kb.name,
            // Those answers may use: a failed or switched-off document is not counted (an older
            // knowledge service, without the figure, counts them all).
            documentCount: kb.indexedDocumentCount ?? kb.documentCount,
            ...(kb.ownerName ? { ownerName: kb.ownerName } : {}),
          })),
        );
        setMaxUploadBytes(answer.maxUploadBytes);
      })
      .catch(() => setKnowledgeBases([]));
  }, []);
  // Knowledge bases change on the knowledge page: reload them when coming back to the chat, or to
  // the assistants page, which offers them.
  const onAssistantsPage = path.startsWith("/assistants");
  useEffect(() => {
    if (signedIn && (onChatPage || onAssistantsPage)) loadKnowledgeBases();
  }, [signedIn, onChatPage, onAssistantsPage, loadKnowledgeBases]);
  const loadAssistants = useCallback(() => {
    void api<{ assistants: Assistant[] }>("/api/assistants").then(
      (answer) => setAssistants(answer.assistants),
      () => setAssistants([]),
    );
  }, []);
  // Assistants change on their page: read again when coming back to the chat.
  useEffect(() => {
    if (signedIn && onChatPage) loadAssistants();
  }, [signedIn, onChatPage, loadAssistants]);

  const chooseModel = useCallback((id: string) => {
    localStorage.setItem("hearth.model", id);
    setModel(id);
  }, []);
  const conversationId = path.startsWith("/c/") ? path.slice(3) : undefined;
  const user = session?.user;
  /** Whether the keyboard shortcuts' dialog is open (Ctrl+/, or Keyboard shortcuts in the menu). */
  const [shortcutsOpen, setShortcutsOpen] = useState(false);
  // ChatGPT's shortcuts, for a signed-in user on any page: a new chat, the message box, the list of
  // them. (Copying the last answer is the chat's own: chat-view.tsx.)
  useEffect(() => {
    if (!signedIn) return;
    const onKey = (event: globalThis.KeyboardEvent) => {
      if (event.defaultPrevented || modalDialogOpen()) return;
      const shortcut = shortcutOf(event, onMac());
      if (shortcut === "new-chat") {
        event.preventDefault();
        setShortcutsOpen(false);
        navigate("/");
        focusWhenShown("#message-input");
      } else if (shortcut === "focus-message") {
        const box = document.getElementById("message-input");
        if (!box) return;
        event.preventDefault();
        box.focus();
      } else if (shortcut === "show-shortcuts") {
        event.preventDefault();
        setShortcutsOpen(true);
      }
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [signedIn]);
  /** Those whose base model the user may use (the model service offers it to them). */
  const usableAssistants = assistants.filter((entry) => models?.models.some((m) => m.id === entry.model));
  const modelOptions = models?.models.map((entry) => (
    <option key={entry.id} value={entry.id}>
      {entry.id}
    </option>
  ));
  const assistant = conversationId ? undefined : usableAssistants.find((entry) => entry.id === assistantId);
  // An assistant is chosen for a new chat: a conversation opened (the new one made) has its own.
  useEffect(() => {
    if (conversationId) setAssistantId(undefined);
  }, [conversationId]);
  /** The picker's choice: an assistant (`assistant:<id>`) or a model. */
  const pick = (value: string) => {
    const chosen = value.startsWith("assistant:")
      ? usableAssistants.find((entry) => `assistant:${entry.id}` === value)
      : undefined;
    if (chosen) {
      setAssistantId(chosen.id);
      setModel(chosen.model);
      return;
    }
    setAssistantId(undefined);
    chooseModel(value);
  };

  let page: React.ReactNode = null;
  if (!session) page = null;
  else if (!user)
    page = (
      <AuthPage
        session={session}
        expired={expired}
        onSignedIn={() => {
          signingOut.current = false;
          setExpired(false);
          void loadSession();
          focusWhenShown("#message-input");
        }}
      />
    );
  else if (path.startsWith("/s/")) page = <SharePage shareId={path.slice(3)} />;
  else if (path.startsWith("/knowledge"))
    page = <KnowledgePage admin={user.role === "admin"} models={models} />;
  else if (path.startsWith("/archived")) page = <ArchivedPage />;
  else if (path.startsWith("/assistants"))
    page = <AssistantsPage models={models} knowledgeBases={knowledgeBases} admin={user.role === "admin"} />;
  else if (path.startsWith("/settings"))
    page = (
      <SettingsPage
        theme={themeChoice}
        onTheme={chooseTheme}
        onLocale={chooseLocale}
        models={models}
        preferences={preferences}
        onSavePreferences={savePreferences}
        admin={user.role === "admin"}
        hasPassword={user.hasPassword !== false}
      />
    );
  else if (path.startsWith("/admin") && user.role !== "admin") page = <AdminOnly />;
  else if (path.startsWith("/admin"))
    page = (
      <AdminPage
        userId={user.id}
        onLeftAdmin={() => {
          // Their own account made a user: the session says so, and the chat is where they go.
          navigate("/");
          void loadSession();
        }}
      />
    );
  else if (models && preferences)
    page = (
      <div className="layout">
        <ConversationList
          activeId={conversationId}
          refresh={refresh}
          onRenamed={(id, title) => setRenamed({ id, title })}
          onArchived={(id, archivedAt) => setArchived({ id, archivedAt })}
        />
        <ChatView
          models={models}
          model={model}
          preferences={preferences}
          conversationId={conversationId}
          knowledgeBases={knowledgeBases}
          maxUploadBytes={maxUploadBytes}
          assistant={assistant}
          onAssistantsChanged={loadAssistants}
          onConversationCreated={(id) => navigate(`/c/${id}`)}
          onChanged={() => setRefresh((n) => n + 1)}
          onKnowledgeBasesChanged={loadKnowledgeBases}
          onModel={setModel}
          renamed={renamed}
          archived={archived}
          admin={user.role === "admin"}
          userName={user.username}
        />
      </div>
    );

  return (
    <I18nContext.Provider value={i18n}>
      {/* biome-ignore lint/a11y/useValidAnchor: a skip link, which goes to #main where the page has no message box or heading to go to */}
      <a
        className="skip-link"
        href="#main"
        onClick={(event) => {
          // On the chat page to the message box, past the conversation list that comes first in
          // <main>; elsewhere to the page's heading; else (signed out) to <main>.
          const target =
            document.querySelector<HTMLElement>("#message-input:not(:disabled)") ??
            document.getElementById(PAGE_HEADING);
          if (!target) return;
          event.preventDefault();
          target.focus();
        }}
      >
        {t.skipToContent}
      </a>
      <header className="topbar">
        <h1>{t.appName}</h1>
        {user && (
          <nav aria-label={t.mainNav}>
            <NavLink href="/" label={t.chat} path={path} />
            <NavLink href="/knowledge" label={t.knowledge} path={path} />
            {/* On a phone these wait behind the menu button (below), keeping the bar one row with
                room for the model picker to name the model. */}
            <NavLink href="/assistants" label={t.assistants} path={path} className="wide-only" />
            <NavLink href="/settings" label={t.settings} path={path} className="wide-only" />
            {user.role === "admin" && <NavLink href="/admin" label={t.admin} path={path} />}
          </nav>
        )}
        {/* The picker and the menu keep together: on a narrow screen they wrap to a row of their own. */}
        <div className="topbar-end">
          {user && models && models.models.length > 0 && (path === "/" || path.startsWith("/c/")) && (
            <label className="model-picker">
              <span>{t.model}</span>
              <select
                value={assistant ? `assistant:${assistant.id}` : model}
                onChange={(event) => pick(event.target.value)}
                aria-label={t.model}
              >
                {/* A new chat may start with an assistant (its settings filled in), listed first. */}
                {!conversationId && usableAssistants.length > 0 ? (
                  <>
                    <optgroup label={t.assistantsGroup}>
                      {usableAssistants.map((entry) => (
                        <option key={entry.id} value={`assistant:${entry.id}`}>
                          {entry.name}
                        </option>
                      ))}
                    </optgroup>
                    <optgroup label={t.modelsGroup}>{modelOptions}</optgroup>
                  </>
                ) : (
                  modelOptions
                )}
              </select>
            </label>
          )}
          <div className="spacer" />
          {/* On a phone these settle behind a menu button (always shown wider). */}
          <button
            type="button"
            className="menu-toggle"
            aria-expanded={menuOpen}
            aria-controls="topbar-menu"
            onClick={() => setMenuOpen(!menuOpen)}
          >
            {t.menu}
          </button>
          <div id="topbar-menu" className="topbar-menu" data-open={menuOpen || undefined}>
            {user && (
              <>
                <NavLink href="/assistants" label={t.assistants} path={path} className="phone-only" />
                <NavLink href="/settings" label={t.settings} path={path} className="phone-only" />
              </>
            )}
            <label>
              <span className="visually-hidden">{t.language}</span>
              <select
                value={locale}
                aria-label={t.language}
                onChange={(event) => i18n.setLocale(event.target.value as Locale)}
              >
                <LanguageOptions />
              </select>
            </label>
            {/* Named by what it shows (the theme it switches to), so the name is what a reader sees. */}
            <button
              type="button"
              onClick={() => void chooseTheme(theme === "dark" ? "light" : "dark").catch(() => {})}
            >
              {theme === "dark" ? t.lightTheme : t.darkTheme}
            </button>
            {user && (
              <button
                type="button"
                onClick={() => {
                  setMenuOpen(false);
                  setShortcutsOpen(true);
                }}
              >
                {t.keyboardShortcuts}
              </button>
            )}
            {user && (
              <button
                type="button"
                onClick={async () => {
                  // Files still being sent to a knowledge base would be lost: the user says so first.
                  if (uploadsPending() && !window.confirm(t.uploadsSignOutConfirm)) return;
                  setMenuOpen(false);
                  // A temporary chat shown goes first, while the session may still delete it.
                  await leaveTemporaryChat();
                  // What the page is still loading or streaming for this account stops now; what it
                  // asks for until the sign-out is done, and a 401 it gets, says nothing of an
                  // expired session.
                  signingOut.current = true;
                  abortRequests();
                  // A single sign-on session is ended at the provider too, where it says (204: none).
                  let endSessionUrl: string | undefined;
                  try {
                    endSessionUrl = (
                      await api<{ endSessionUrl: string } | undefined>("/api/auth/logout", { method: "POST" })
                    )?.endSessionUrl;
                  } catch (error) {
                    // A sign-in that had already ended is signed out all the same; else nothing changed.
                    if (!(error instanceof ApiError && error.status === 401)) {
                      signingOut.current = false;
                      return;
                    }
                  }
                  // Signed out on purpose: unsent drafts do not wait for the next account on this tab.
                  clearDrafts();
                  forgetUploads();
                  forgetPulls();
                  forgetAllQuestions();
                  setModels(undefined);
                  // The next account starts from its own defaults (its model, its instructions).
                  setPreferences(undefined);
                  setModel("");
                  setExpired(false);
                  // The provider sends the browser back to the sign-in page once its session has ended.
                  if (endSessionUrl) {
                    window.location.assign(endSessionUrl);
                    return;
                  }
                  // Signed out at once (the chat page opened next asks for nothing in the meantime);
                  // the probe then says what the sign-in form offers.
                  setSession((current) => current && { ...current, user: null });
                  navigate("/");
                  await loadSession();
                  focusWhenShown("#auth-title");
                }}
              >
                {fill(t.withNote, { text: t.signOut, note: user.username })}
              </button>
            )}
          </div>
        </div>
      </header>
      {/* Keyed by the account: the next one to sign in on this tab starts from its own banners. */}
      {user && <AnnouncementBanners key={user.id} path={path} />}
      <main id="main">
        <Suspense fallback={null}>{page}</Suspense>
      </main>
      {user && shortcutsOpen && <ShortcutsDialog onClose={() => setShortcutsOpen(false)} />}
    </I18nContext.Provider>
  );
}
