import { PROMPT_COMMAND_MAX_CHARS, PROMPT_TITLE_MAX_CHARS } from "@hearth/contracts/prompt-command";
import { textLength } from "@hearth/contracts/text-length";
import { type ChangeEvent, type FormEvent, type Ref, useCallback, useEffect, useRef, useState } from "react";
import { api, type Prompt } from "./api.js";
import { cancelOnEscape, describedField, keepFocusNear, useEditFocus } from "./focus.js";
import { fill, useI18n } from "./i18n.js";
import { ActionError, errorCode, errorField, useAction } from "./use-action.js";

type PromptField = "command" | "title" | "content";

interface Draft {
  command: string;
  title: string;
  content: string;
  shared: boolean;
}
const EMPTY: Draft = { command: "", title: "", content: "", shared: false };

/** A prompt library export: what is saved of each prompt (Settings → Prompts → Export). */
interface PromptExport {
  command: string;
  title: string;
  content: string;
}

/**
 * The form of a new prompt, or of one being changed: its command (typed after "/" in the message
 * box), title and content; an administrator shares it with everyone. A refusal is shown under the
 * field it is about, which is marked invalid and takes focus. Escape cancels a change.
 */
function PromptForm(props: {
  editing?: Prompt;
  admin: boolean;
  contentMaxChars: number;
  /** The command's field, the first (focused as a change begins). */
  fieldRef?: Ref<HTMLInputElement>;
  /** Sent: what the section said of the last change no longer holds. */
  onSubmit(): void;
  onSaved(prompt: Prompt): void;
  onCancel?(): void;
}) {
  const { t } = useI18n();
  const { editing } = props;
  const [draft, setDraft] = useState<Draft>(
    editing
      ? { command: editing.command, title: editing.title, content: editing.content, shared: editing.shared }
      : EMPTY,
  );
  const { error, run } = useAction();
  const prefix = editing ? `prompt-edit-${editing.id}` : "prompt-new";
  const invalid: PromptField | undefined =
    error === undefined
      ? undefined
      : errorCode(error) === "PROMPT_COMMAND_TAKEN"
        ? "command"
        : (errorField(error) as PromptField | undefined);
  const errorId = `${prefix}-error`;
  const described = (field: PromptField, hint?: string) => describedField(invalid === field, hint, errorId);
  const fieldError = (field: PromptField) =>
    invalid === field ? <ActionError id={errorId} error={error} /> : null;
  useEffect(() => {
    if (invalid) document.getElementById(`${prefix}-${invalid}`)?.focus();
  }, [invalid, prefix]);
  const set = (field: keyof Draft) => (event: ChangeEvent<HTMLInputElement | HTMLTextAreaElement>) =>
    setDraft({
      ...draft,
      [field]: field === "shared" ? (event.target as HTMLInputElement).checked : event.target.value,
    });
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    props.onSubmit();
    let saved: Prompt | undefined;
    const ok = await run(async () => {
      const body = { ...draft, command: draft.command.trim().replace(/^\//, "") };
      saved = editing
        ? await api<Prompt>(`/api/prompts/${editing.id}`, { method: "PATCH", body })
        : await api<Prompt>("/api/prompts", { method: "POST", body });
    });
    if (ok && saved) {
      if (!editing) setDraft(EMPTY);
      props.onSaved(saved);
    }
  };
  const titleId = `${prefix}-heading`;
  return (
    <form
      className="page-form prompt-form"
      onSubmit={submit}
      onKeyDown={props.onCancel && cancelOnEscape(props.onCancel)}
      aria-labelledby={titleId}
    >
      <h4 id={titleId}>{editing ? fill(t.editPromptTitle, { command: editing.command }) : t.newPrompt}</h4>
      <label>
        {t.promptCommand}
        <span className="prompt-command-field">
          <span aria-hidden="true">/</span>
          <input
            id={`${prefix}-command`}
            ref={props.fieldRef}
            value={draft.command}
            maxLength={PROMPT_COMMAND_MAX_CHARS + 1}
            required
            autoComplete="off"
            spellCheck={false}
            onChange={set("command")}
            {...described("command", `${prefix}-command-hint`)}
          />
        </span>
      </label>
      <p id={`${prefix}-command-hint`} className="muted field-hint">
        {t.promptCommandHint}
      </p>
      {fieldError("command")}
      <label>
        {t.promptTitle}
        <input
          id={`${prefix}-title`}
          value={draft.title}
          maxLength={PROMPT_TITLE_MAX_CHARS}
          required
          onChange={set("title")}
          {...described("title")}
        />
      </label>
      {fieldError("title")}
      <label htmlFor={`${prefix}-content`}>{t.promptContent}</label>
      <textarea
        id={`${prefix}-content`}
        value={draft.content}
        rows={5}
        maxLength={props.contentMaxChars}
        required
        onChange={set("content")}
        {...described("content", `${prefix}-content-hint ${prefix}-content-count`)}
      />
      <p id={`${prefix}-content-hint`} className="muted field-hint">
        {t.promptContentHint}
      </p>
      <p id={`${prefix}-content-count`} className="muted field-hint">
        {fill(t.characterCount, { n: textLength(draft.content), max: props.contentMaxChars })}
      </p>
      {fieldError("content")}
      {props.admin && (
        <label className="checkbox">
          <input type="checkbox" checked={draft.shared} onChange={set("shared")} /> {t.promptShareChoice}
        </label>
      )}
      {error !== undefined && invalid === undefined && <ActionError error={error} />}
      <div className="inline-form">
        <button type="submit">{editing ? t.savePrompt : t.addPrompt}</button>
        {props.onCancel && (
          <button type="button" onClick={props.onCancel}>
            {t.cancel}
          </button>
        )}
      </div>
    </form>
  );
}

/**
 * A prompt of the list: its command and title, whether it is shared or hidden by one's own, with
 * Edit and Delete where the user may change it; or, while it is changed, the form changing it (its
 * first field focused; focus back on Edit once saved or cancelled).
 */
function PromptItem(props: {
  prompt: Prompt;
  /** The user's own prompt with the same command, which this shared one gives way to. */
  shadowedBy: Prompt | undefined;
  admin: boolean;
  contentMaxChars: number;
  editing: boolean;
  onEdit(): void;
  onSubmit(): void;
  onSaved(prompt: Prompt): void;
  onCancel(): void;
  onDelete(from: Element): void;
}) {
  const { t } = useI18n();
  const { prompt, shadowedBy: own } = props;
  const { field, editButton } = useEditFocus<HTMLInputElement>(props.editing);
  return (
    <li>
      {props.editing ? (
        <PromptForm
          editing={prompt}
          admin={props.admin}
          contentMaxChars={props.contentMaxChars}
          fieldRef={field}
          onSubmit={props.onSubmit}
          onSaved={props.onSaved}
          onCancel={props.onCancel}
        />
      ) : (
        <>
          <span className="prompt-list-command">/{prompt.command}</span> <span>{prompt.title}</span>
          {prompt.shared && <span className="badge">{t.promptShared}</span>}
          {own && (
            <span className="muted prompt-list-note">{fill(t.promptShadowed, { command: own.command })}</span>
          )}
          {prompt.editable && (
            <span className="prompt-list-actions">
              <button
                type="button"
                className="small"
                ref={editButton}
                aria-label={fill(t.editPromptTitle, { command: prompt.command })}
                onClick={props.onEdit}
              >
                {t.edit}
              </button>
              <button
                type="button"
                className="small"
                aria-label={fill(t.deletePromptLabel, { command: prompt.command })}
                onClick={(event) => props.onDelete(event.currentTarget)}
              >
                {t.delete}
              </button>
            </span>
          )}
        </>
      )}
    </li>
  );
}

/**
 * Settings → Prompts: the user's prompt library and the prompts shared with everyone, each
 * inserted in the message box by typing "/" and its command; add, change, delete (asked first);
 * an administrator shares one with everyone and changes the shared ones. Export saves the user's
 * own as JSON; Import adds those of such a file (a command the user has already is left out).
 */
export function PromptsSettings(props: { admin: boolean }) {
  const { t } = useI18n();
  const [prompts, setPrompts] = useState<Prompt[]>();
  const [contentMaxChars, setContentMaxChars] = useState(0);
  const [editing, setEditing] = useState<string>();
  const [done, setDone] = useState("");
  const { error, run } = useAction();
  const file = useRef<HTMLInputElement>(null);
  const load = useCallback(async () => {
    const answer = await api<{ prompts: Prompt[]; contentMaxChars: number }>("/api/prompts");
    setPrompts(answer.prompts);
    setContentMaxChars(answer.contentMaxChars);
  }, []);
  useEffect(() => {
    void run(load);
  }, [run, load]);
  const byId = new Map((prompts ?? []).map((prompt) => [prompt.id, prompt]));
  const remove = async (prompt: Prompt, from: Element) => {
    setDone("");
    if (!window.confirm(fill(t.deletePromptConfirm, { command: prompt.command }))) return;
    const restoreFocus = keepFocusNear(from, () => document.getElementById("prompts-title"));
    const ok = await run(async () => {
      await api(`/api/prompts/${prompt.id}`, { method: "DELETE" });
      await load();
    });
    if (ok) setDone(fill(t.promptDeleted, { command: prompt.command }));
    restoreFocus();
  };
  const exportOwn = () => {
    const own: PromptExport[] = (prompts ?? [])
      .filter((prompt) => !prompt.shared)
      .map(({ command, title, content }) => ({ command, title, content }));
    const url = URL.createObjectURL(new Blob([JSON.stringify(own, null, 2)], { type: "application/json" }));
    const link = document.createElement("a");
    link.href = url;
    link.download = "hearth-prompts.json";
    link.click();
    URL.revokeObjectURL(url);
  };
  const importFile = async (chosen: File) => {
    setDone("");
    await run(async () => {
      let entries: unknown;
      try {
        entries = JSON.parse(await chosen.text());
      } catch {
        throw new Error(t.promptImportInvalid);
      }
      if (!Array.isArray(entries)) throw new Error(t.promptImportInvalid);
      let added = 0;
      let skipped = 0;
      for (const entry of entries as Array<Partial<PromptExport>>) {
        const command = typeof entry?.command === "string" ? entry.command.replace(/^\//, "") : "";
        try {
          await api("/api/prompts", {
            method: "POST",
            body: { command, title: entry?.title ?? command, content: entry?.content ?? "" },
          });
          added++;
        } catch {
          skipped++;
        }
      }
      await load();
      setDone(fill(t.promptsImported, { added, skipped }));
    });
  };
  return (
    <section aria-labelledby="prompts-title" className="prompts-settings">
      <h3 id="prompts-title" tabIndex={-1}>
        {t.prompts}
      </h3>
      <p className="muted">{t.promptsIntro}</p>
      {prompts && prompts.length === 0 && <p>{t.noPrompts}</p>}
      {prompts && prompts.length > 0 && (
        <ul className="prompt-list" aria-labelledby="prompts-title">
          {prompts.map((prompt) => (
            <PromptItem
              key={prompt.id}
              prompt={prompt}
              shadowedBy={prompt.shadowedBy ? byId.get(prompt.shadowedBy) : undefined}
              admin={props.admin}
              contentMaxChars={contentMaxChars}
              editing={editing === prompt.id}
              onEdit={() => {
                setDone("");
                setEditing(prompt.id);
              }}
              onSubmit={() => setDone("")}
              onSaved={(saved) => {
                setEditing(undefined);
                setDone(fill(t.promptSaved, { command: saved.command }));
                void run(load);
              }}
              onCancel={() => setEditing(undefined)}
              onDelete={(from) => void remove(prompt, from)}
            />
          ))}
        </ul>
      )}
      <p role="status">{done}</p>
      <ActionError error={error} />
      {prompts && (
        <PromptForm
          admin={props.admin}
          contentMaxChars={contentMaxChars}
          onSubmit={() => setDone("")}
          onSaved={(saved) => {
            setDone(fill(t.promptSaved, { command: saved.command }));
            void run(load);
          }}
        />
      )}
      <div className="inline-form">
        <button type="button" onClick={exportOwn} disabled={!prompts?.some((prompt) => !prompt.shared)}>
          {t.exportPrompts}
        </button>
        <button type="button" onClick={() => file.current?.click()}>
          {t.importPrompts}
        </button>
        <input
          ref={file}
          type="file"
          accept="application/json,.json"
          hidden
          onChange={(event) => {
            const chosen = event.target.files?.[0];
            event.target.value = "";
            if (chosen) void importFile(chosen);
          }}
        />
      </div>
    </section>
  );
}
