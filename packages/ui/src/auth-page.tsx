import { usernameProblem } from "@hearth/contracts/username";
import { type FormEvent, useState } from "react";
import { ApiError, api, type SessionInfo } from "./api.js";
import { invalidField } from "./display-text.js";
import { describedField, usePageTitle } from "./focus.js";
import { useI18n } from "./i18n.js";
import { errorCode, errorMessage } from "./use-action.js";

type Field = "username" | "password" | "confirmation";

/** The fields an error is about (marked invalid, pointing to it), by its code. */
const FIELDS_BY_CODE: Record<string, Field[]> = {
  INVALID_CREDENTIALS: ["username", "password"],
  USERNAME_TAKEN: ["username"],
  WEAK_PASSWORD: ["password"],
};

/** Sign in, or create an account (the first one becomes admin). */
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
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [confirmation, setConfirmation] = useState("");
  /** Why the last try failed; shown in the language of the moment. */
  const [error, setError] = useState<unknown>();
  const [notice, setNotice] = useState("");
  /** The fields the error is about. */
  const [invalid, setInvalid] = useState<Field[]>([]);
  usePageTitle(mode === "signin" ? t.signIn : t.signUp);
  const described = (field: Field, hint?: string) =>
    describedField(invalid.includes(field), hint, "auth-error");

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    setInvalid([]);
    // A new password is typed twice, so a typo does not lock the new account out.
    // A new user name is checked against the service's own rule before it is sent.
    const problem = mode === "signup" ? usernameProblem(username.trim()) : undefined;
    if (problem) {
      setError(new Error(t.fieldRules[problem === "shape" ? "username" : "username:mixed_scripts"]));
      setInvalid(["username"]);
      return;
    }
    if (mode === "signup" && password !== confirmation) {
      setError(new Error(t.passwordMismatch));
      setInvalid(["confirmation"]);
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
      <label>
        {t.username}
        <input
          autoComplete="username"
          value={username}
          onChange={(e) => setUsername(e.target.value)}
          required
          {...described("username", mode === "signup" ? "username-rule" : undefined)}
        />
      </label>
      {mode === "signup" && (
        <p id="username-rule" className="muted field-hint">
          {t.usernameRule}
        </p>
      )}
      <label>
        {t.password}
        <input
          type="password"
          autoComplete={mode === "signin" ? "current-password" : "new-password"}
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          required
          {...described("password", mode === "signup" ? "password-rule" : undefined)}
        />
      </label>
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
            type="password"
            autoComplete="new-password"
            value={confirmation}
            onChange={(e) => setConfirmation(e.target.value)}
            required
            {...described("confirmation")}
          />
        </label>
      )}
      {error !== undefined && (
        <p id="auth-error" className="error-text" role="alert">
          {errorMessage(t, error)}
        </p>
      )}
      <button type="submit">{mode === "signin" ? t.signIn : t.signUp}</button>
      {/* On the first run there is no account to sign in to yet. */}
      {!session.firstUser && (session.signup !== "closed" || mode === "signup") && (
        <button
          type="button"
          className="link"
          onClick={() => setMode(mode === "signin" ? "signup" : "signin")}
        >
          {mode === "signin" ? t.needAccount : t.haveAccount}
        </button>
      )}
    </form>
  );
}
