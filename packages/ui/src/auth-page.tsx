import { type FormEvent, useEffect, useState } from "react";
import { ApiError, api, type SessionInfo } from "./api.js";
import { invalidField } from "./display-text.js";
import { describedField, useFocusInvalidField, usePageTitle } from "./focus.js";
import { useI18n } from "./i18n.js";
import { type SignUpField, signUpProblems } from "./sign-up-check.js";
import { errorCode, errorMessage } from "./use-action.js";

type Field = SignUpField;

/** The fields an error is about (marked invalid, pointing to it), by its code. */
const FIELDS_BY_CODE: Record<string, Field[]> = {
  INVALID_CREDENTIALS: ["username", "password"],
  USERNAME_TAKEN: ["username"],
  // A sign-up's user name holding a word the input filter refuses.
  CONTENT_BLOCKED: ["username"],
  WEAK_PASSWORD: ["password"],
};

/** The error code an SSO sign-in came back with (`/?signInError=CODE`, set by the callback). */
function signInErrorInAddress(): ApiError | undefined {
  const code = new URL(window.location.href).searchParams.get("signInError");
  return code && /^[A-Z_]{1,64}$/.test(code) ? new ApiError(0, code, code) : undefined;
}

/** Takes the code out of the address once shown, so that a reload does not show it again. */
function dropSignInErrorFromAddress(): void {
  const url = new URL(window.location.href);
  if (!url.searchParams.has("signInError")) return;
  url.searchParams.delete("signInError");
  window.history.replaceState(window.history.state, "", `${url.pathname}${url.search}${url.hash}`);
}

/** Where the SSO button starts a sign-in that comes back to this page. */
function ssoStartUrl(): string {
  const here = `${window.location.pathname}${window.location.search}`;
  return `/api/auth/oidc/start?returnTo=${encodeURIComponent(here)}`;
}

/**
 * Sign in, or create an account (the first one becomes admin); with single sign-on, its button
 * first, and the password form only where password sign-in is on (else behind a link for
 * administrators, who keep it).
 */
export function AuthPage({
  session,
  expired,
  onSignedIn,
}: {
  session: SessionInfo;
  /** The sign-in ended while the app was in use (an expired or deleted session): say so. */
  expired?: boolean;
  onSignedIn(): void;
}) {
  const { t } = useI18n();
  const [mode, setMode] = useState<"signin" | "signup">(session.firstUser ? "signup" : "signin");
  const sso = session.sso ?? null;
  /** Password sign-in is offered (off with SSO-only, but an empty Hearth's first account is made here). */
  const passwordOffered = session.passwordLogin !== false || session.firstUser;
  const [showPassword, setShowPassword] = useState(passwordOffered);
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [confirmation, setConfirmation] = useState("");
  /** Why the last try failed; shown in the language of the moment. */
  const [error, setError] = useState<unknown>(signInErrorInAddress);
  useEffect(dropSignInErrorFromAddress, []);
  const [notice, setNotice] = useState("");
  /** The fields the error is about. */
  const [invalid, setInvalid] = useState<Field[]>([]);
  /** A new account's fields' own errors, each under its field (all at once), before it is sent. */
  const [fieldErrors, setFieldErrors] = useState<Partial<Record<Field, string>>>({});
  /** Tries so far: each try's field errors are new alerts, read out again when the same as the last. */
  const [tries, setTries] = useState(0);
  // The first field in error takes focus, where its error is read out with it.
  useFocusInvalidField(invalid[0] && `auth-${invalid[0]}`);
  usePageTitle(mode === "signin" ? t.signIn : t.signUp);
  const described = (field: Field, hint?: string) =>
    describedField(invalid.includes(field), hint, fieldErrors[field] ? `auth-error-${field}` : "auth-error");
  const fieldError = (field: Field) =>
    fieldErrors[field] && (
      <p key={tries} id={`auth-error-${field}`} className="error-text field-error" role="alert">
        {fieldErrors[field]}
      </p>
    );

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    setInvalid([]);
    setFieldErrors({});
    setTries((count) => count + 1);
    // A new user name is checked against the service's own rule, the password against its rule, and
    // typed twice, so a typo does not lock the new account out: every field's error at once.
    const problems = mode === "signup" ? signUpProblems(t, { username, password, confirmation }) : [];
    if (problems.length > 0) {
      setFieldErrors(Object.fromEntries(problems.map((problem) => [problem.field, problem.text])));
      setInvalid(problems.map((problem) => problem.field));
      return;
    }
    try {
      const answer = await api<{ status?: string }>(
        mode === "signin" ? "/api/auth/login" : "/api/auth/signup",
        { method: "POST", body: { username, password } },
      );
      if (answer.status === "pending") {
        setNotice(t.pendingApproval);
        setMode("signin");
        return;
      }
      onSignedIn();
    } catch (caught) {
      setError(caught);
      // The fields the code is about, or the one a refused field's rule names (details.issues).
      const field = caught instanceof ApiError ? invalidField(caught.details) : undefined;
      setInvalid(
        FIELDS_BY_CODE[errorCode(caught) ?? ""] ??
          (field === "username" || field === "password" ? [field] : []),
      );
    }
  };

  const errorText = error !== undefined && (
    <p id="auth-error" className="error-text" role="alert">
      {errorMessage(t, error)}
    </p>
  );
  return (
    <form className="form-card" onSubmit={submit} aria-labelledby="auth-title">
      <h2 id="auth-title" tabIndex={-1}>
        {mode === "signin" ? t.signInTitle : t.signUpTitle}
      </h2>
      {session.firstUser && <p role="note">{t.firstUserHint}</p>}
      {expired && !notice && (
        <p className="error-text" role="alert">
          {t.sessionExpired}
        </p>
      )}
      {notice && <p role="status">{notice}</p>}
      {sso && (
        <a className="sso-button" href={ssoStartUrl()}>
          {sso.buttonLabel ?? t.signInWithSso}
        </a>
      )}
      {/* A failed SSO sign-in says why above the password form while it is folded, in it once shown. */}
      {sso && !showPassword && errorText}
      {sso && !passwordOffered && (
        <button type="button" className="link" onClick={() => setShowPassword(!showPassword)}>
          {showPassword ? t.hidePasswordSignIn : t.adminPasswordSignIn}
        </button>
      )}
      {showPassword && sso && (
        <p className="auth-divider" aria-hidden="true">
          {t.orDivider}
        </p>
      )}
      {showPassword && (
        <>
          <label>
            {t.username}
            <input
              id="auth-username"
              autoComplete="username"
              value={username}
              onChange={(e) => setUsername(e.target.value)}
              required
              {...described("username", mode === "signup" ? "username-rule" : undefined)}
            />
          </label>
          {fieldError("username")}
          {mode === "signup" && (
            <p id="username-rule" className="muted field-hint">
              {t.usernameRule}
            </p>
          )}
          <label>
            {t.password}
            <input
              id="auth-password"
              type="password"
              autoComplete={mode === "signin" ? "current-password" : "new-password"}
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              required
              {...described("password", mode === "signup" ? "password-rule" : undefined)}
            />
          </label>
          {fieldError("password")}
          {/* The rule is there before it is broken, not only in the error after. */}
          {mode === "signup" && (
            <p id="password-rule" className="muted field-hint">
              {t.passwordRule}
            </p>
          )}
          {mode === "signup" && (
            <label>
              {t.confirmPassword}
              <input
                id="auth-confirmation"
                type="password"
                autoComplete="new-password"
                value={confirmation}
                onChange={(e) => setConfirmation(e.target.value)}
                required
                {...described("confirmation")}
              />
            </label>
          )}
          {mode === "signup" && fieldError("confirmation")}
          {errorText}
          <button type="submit">{mode === "signin" ? t.signIn : t.signUp}</button>
        </>
      )}
      {/* On the first run there is no account to sign in to yet; with SSO only, accounts come from it. */}
      {passwordOffered && !session.firstUser && (session.signup !== "closed" || mode === "signup") && (
        <button
          type="button"
          className="link"
          onClick={() => {
            setMode(mode === "signin" ? "signup" : "signin");
            setFieldErrors({});
            setInvalid([]);
          }}
        >
          {mode === "signin" ? t.needAccount : t.haveAccount}
        </button>
      )}
    </form>
  );
}
