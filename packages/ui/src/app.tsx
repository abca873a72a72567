import { useEffect, useMemo, useState } from "react";
import { api, type ModelsAnswer } from "./api.js";
import { ChatView } from "./chat-view.js";
import { I18nContext, initialLocale, type Locale, MESSAGES } from "./i18n.js";

type Theme = "light" | "dark";

function initialTheme(): Theme {
  const saved = localStorage.getItem("hearth.theme");
  if (saved === "light" || saved === "dark") return saved;
  return matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

export function App() {
  const [locale, setLocaleState] = useState<Locale>(initialLocale);
  const [theme, setTheme] = useState<Theme>(initialTheme);
  const [models, setModels] = useState<ModelsAnswer | undefined>();
  const [model, setModel] = useState("");
  const t = MESSAGES[locale];

  const i18n = useMemo(
    () => ({
      locale,
      t,
      setLocale(next: Locale) {
        localStorage.setItem("hearth.locale", next);
        setLocaleState(next);
      },
    }),
    [locale, t],
  );

  useEffect(() => {
    document.documentElement.lang = locale;
  }, [locale]);
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    localStorage.setItem("hearth.theme", theme);
  }, [theme]);

  useEffect(() => {
    void api<ModelsAnswer>("/api/models").then((answer) => {
      setModels(answer);
      setModel((current) => current || answer.models[0]?.id || "");
    });
  }, []);

  return (
    <I18nContext.Provider value={i18n}>
      <header className="topbar">
        <h1>{t.appName}</h1>
        {models && models.models.length > 0 && (
          <label className="model-picker">
            <span>{t.model}</span>
            <select value={model} onChange={(event) => setModel(event.target.value)} aria-label={t.model}>
              {models.models.map((entry) => (
                <option key={entry.id} value={entry.id}>
                  {entry.id}
                </option>
              ))}
            </select>
          </label>
        )}
        <div className="spacer" />
        <label>
          <span className="visually-hidden">{t.language}</span>
          <select
            value={locale}
            aria-label={t.language}
            onChange={(event) => i18n.setLocale(event.target.value as Locale)}
          >
            <option value="en">English</option>
            <option value="zh-CN">简体中文</option>
          </select>
        </label>
        <button
          type="button"
          onClick={() => setTheme(theme === "dark" ? "light" : "dark")}
          aria-label={t.theme}
        >
          {theme === "dark" ? t.light : t.dark}
        </button>
      </header>
      <main>{models ? <ChatView models={models} model={model} /> : null}</main>
    </I18nContext.Provider>
  );
}
