import { PROMPT_COMMAND_MAX_CHARS, PROMPT_TITLE_MAX_CHARS } from "@hearth/contracts/prompt-command";
import { textLength } from "@hearth/contracts/text-length";
import { type ChangeEvent, useRef } from "react";
import { api, type Prompt } from "./api.js";
import { EditableList, type ItemFormParts, useEditableList } from "./editable-list.js";
import { fill, useI18n } from "./i18n.js";
import { errorCode, errorField } from "./use-action.js";

/** The fields a refusal of a prompt may be about. */
type PromptField = "command" | "title" | "content";

/** What a prompt's form edits. */
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

type PromptFormParts = ItemFormParts<Draft, HTMLInputElement>;

/**
 * The fields of a prompt's form: its command (typed after "/" in the message box, the field focused
 * as a change begins), title and content; an administrator shares it with everyone.
 */
function PromptFields(props: { form: PromptFormParts; admin: boolean; contentMaxChars: number }) {
  const { t } = useI18n();
  const { prefix, draft, setDraft, fieldRef, described, fieldError } = props.form;
  const set = (field: keyof Draft) => (event: ChangeEvent<HTMLInputElement | HTMLTextAreaElement>) =>
    setDraft({
      ...draft,
      [field]: field === "shared" ? (event.target as HTMLInputElement).checked : event.target.value,
    });
  return (
    <>
      <label>
        {t.promptCommand}
        <span className="prompt-command-field">
          <span aria-hidden="true">/</span>
          <input
            id={`${prefix}-command`}
            ref={fieldRef}
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
    </>
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
  const list = useEditableList<{ prompts: Prompt[]; contentMaxChars: number }>("/api/prompts");
  const { run, load, setDone } = list;
  const prompts = list.answer?.prompts;
  const contentMaxChars = list.answer?.contentMaxChars ?? 0;
  const file = useRef<HTMLInputElement>(null);
  const byId = new Map((prompts ?? []).map((prompt) => [prompt.id, prompt]));
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
      <EditableList
        list={list}
        items={prompts}
        name="prompt"
        headingId="prompts-title"
        listClassName="prompt-list"
        empty={t.noPrompts}
        words={{
          formHeading: (prompt) =>
            prompt ? fill(t.editPromptTitle, { command: prompt.command }) : t.newPrompt,
          add: t.addPrompt,
          save: t.savePrompt,
          editLabel: (prompt) => fill(t.editPromptTitle, { command: prompt.command }),
          deleteLabel: (prompt) => fill(t.deletePromptLabel, { command: prompt.command }),
          deleteConfirm: (prompt) => fill(t.deletePromptConfirm, { command: prompt.command }),
          added: (prompt) => fill(t.promptSaved, { command: prompt.command }),
          saved: (prompt) => fill(t.promptSaved, { command: prompt.command }),
          deleted: (prompt) => fill(t.promptDeleted, { command: prompt.command }),
        }}
        view={(prompt) => {
          // The user's own prompt with the same command, which this shared one gives way to.
          const own = prompt.shadowedBy ? byId.get(prompt.shadowedBy) : undefined;
          return (
            <>
              <span className="prompt-list-command">/{prompt.command}</span> <span>{prompt.title}</span>
              {prompt.shared && <span className="badge">{t.promptShared}</span>}
              {own && (
                <span className="muted prompt-list-note">
                  {fill(t.promptShadowed, { command: own.command })}
                </span>
              )}
            </>
          );
        }}
        editable={(prompt) => prompt.editable}
        draftOf={(prompt) =>
          prompt
            ? { command: prompt.command, title: prompt.title, content: prompt.content, shared: prompt.shared }
            : EMPTY
        }
        bodyOf={(draft) => ({ ...draft, command: draft.command.trim().replace(/^\//, "") })}
        invalidField={(error) =>
          errorCode(error) === "PROMPT_COMMAND_TAKEN"
            ? "command"
            : (errorField(error) as PromptField | undefined)
        }
        fields={(form: PromptFormParts) => (
          <PromptFields form={form} admin={props.admin} contentMaxChars={contentMaxChars} />
        )}
      />
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
