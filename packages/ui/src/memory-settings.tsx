import type { Memory } from "@hearth/contracts/memory";
import { textLength } from "@hearth/contracts/text-length";
import { type FormEvent, type Ref, useCallback, useEffect, useState } from "react";
import { api, type Preferences } from "./api.js";
import { cancelOnEscape, describedField, keepFocusNear, useEditFocus } from "./focus.js";
import { fill, useI18n } from "./i18n.js";
import { ActionError, errorCode, useAction } from "./use-action.js";

/** What `GET /api/memories` answers. */
interface MemoriesAnswer {
  memories: Memory[];
  maxChars: number;
  maxCount: number;
}

/** A memory's start, to name the buttons that act on it (a memory may be 1,000 characters long). */
function excerpt(content: string): string {
  const characters = [...content];
  return characters.length > 60 ? `${characters.slice(0, 60).join("")}…` : content;
}

/**
 * The form of a new memory, or of one being changed: its text, with the count of its characters. A
 * refusal (too long, a blocked word, the limit of memories reached) is shown under the field, which
 * is marked invalid and takes focus. Escape cancels a change.
 */
function MemoryForm(props: {
  editing?: Memory;
  maxChars: number;
  /** The text's field (focused as a change begins). */
  fieldRef?: Ref<HTMLTextAreaElement>;
  /** Sent: what the section said of the last change no longer holds. */
  onSubmit(): void;
  onSaved(memory: Memory): void;
  onCancel?(): void;
}) {
  const { t } = useI18n();
  const { editing } = props;
  const [content, setContent] = useState(editing?.content ?? "");
  const { error, run } = useAction();
  const prefix = editing ? `memory-edit-${editing.id}` : "memory-new";
  const errorId = `${prefix}-error`;
  // Every refusal of a memory is about its one field, but one that never reached the service.
  const invalid = error !== undefined && errorCode(error) !== "NETWORK_ERROR";
  useEffect(() => {
    if (invalid) document.getElementById(`${prefix}-content`)?.focus();
  }, [invalid, prefix]);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    props.onSubmit();
    let saved: Memory | undefined;
    const ok = await run(async () => {
      saved = editing
        ? await api<Memory>(`/api/memories/${editing.id}`, { method: "PATCH", body: { content } })
        : await api<Memory>("/api/memories", { method: "POST", body: { content } });
    });
    if (ok && saved) {
      if (!editing) setContent("");
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
      <h4 id={titleId}>{editing ? t.editMemory : t.newMemory}</h4>
      <label htmlFor={`${prefix}-content`}>{t.memoryText}</label>
      <textarea
        id={`${prefix}-content`}
        ref={props.fieldRef}
        value={content}
        rows={2}
        maxLength={props.maxChars}
        required
        onChange={(event) => setContent(event.target.value)}
        {...describedField(invalid, `${prefix}-hint ${prefix}-count`, errorId)}
      />
      <p id={`${prefix}-hint`} className="muted field-hint">
        {t.memoryTextHint}
      </p>
      <p id={`${prefix}-count`} className="muted field-hint">
        {fill(t.characterCount, { n: textLength(content), max: props.maxChars })}
      </p>
      <ActionError id={errorId} error={error} />
      <div className="inline-form">
        <button type="submit">{editing ? t.saveMemory : t.addMemory}</button>
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
 * A memory of the list: its text with its Edit and Delete buttons, or, while it is changed, the
 * form changing it (its field focused; focus back on Edit once saved or cancelled).
 */
function MemoryItem(props: {
  memory: Memory;
  maxChars: number;
  editing: boolean;
  onEdit(): void;
  onSubmit(): void;
  onSaved(): void;
  onCancel(): void;
  onDelete(from: Element): void;
}) {
  const { t } = useI18n();
  const { memory } = props;
  const { field, editButton } = useEditFocus<HTMLTextAreaElement>(props.editing);
  return (
    <li>
      {props.editing ? (
        <MemoryForm
          editing={memory}
          maxChars={props.maxChars}
          fieldRef={field}
          onSubmit={props.onSubmit}
          onSaved={props.onSaved}
          onCancel={props.onCancel}
        />
      ) : (
        <>
          <span className="memory-text">{memory.content}</span>
          <span className="prompt-list-actions">
            <button
              type="button"
              className="small"
              ref={editButton}
              aria-label={fill(t.editMemoryLabel, { memory: excerpt(memory.content) })}
              onClick={props.onEdit}
            >
              {t.edit}
            </button>
            <button
              type="button"
              className="small"
              aria-label={fill(t.deleteMemoryLabel, { memory: excerpt(memory.content) })}
              onClick={(event) => props.onDelete(event.currentTarget)}
            >
              {t.delete}
            </button>
          </span>
        </>
      )}
    </li>
  );
}

/**
 * Settings → Memory: facts the user asks the assistant to remember about them ("I work in Go"),
 * kept with their account, and the switch that adds them to their chats (off until turned on).
 * Add, change, delete one (asked first), or clear them all (asked first).
 */
export function MemorySettings(props: {
  preferences: Preferences;
  onSave(changes: Partial<Preferences>): Promise<Preferences>;
}) {
  const { t } = useI18n();
  const [answer, setAnswer] = useState<MemoriesAnswer>();
  const [editing, setEditing] = useState<string>();
  const [done, setDone] = useState("");
  const { error, run } = useAction();
  const toggle = useAction();
  const load = useCallback(async () => setAnswer(await api<MemoriesAnswer>("/api/memories")), []);
  useEffect(() => {
    void run(load);
  }, [run, load]);
  // Switched at once, and back should the save fail (its error said beside it).
  const [on, setOn] = useState(props.preferences.memory);
  const remove = async (memory: Memory, from: Element) => {
    setDone("");
    if (!window.confirm(fill(t.deleteMemoryConfirm, { memory: excerpt(memory.content) }))) return;
    const restoreFocus = keepFocusNear(from, () => document.getElementById("memory-title"));
    const ok = await run(async () => {
      await api(`/api/memories/${memory.id}`, { method: "DELETE" });
      await load();
    });
    if (ok) setDone(t.memoryDeleted);
    restoreFocus();
  };
  const clearAll = async () => {
    setDone("");
    if (!window.confirm(fill(t.clearMemoriesConfirm, { n: answer?.memories.length ?? 0 }))) return;
    const ok = await run(async () => {
      const cleared = await api<{ deleted: number }>("/api/memories", { method: "DELETE" });
      await load();
      setDone(fill(t.memoriesCleared, { n: cleared.deleted }));
    });
    // The button is gone with the list's last memory: focus goes back to the section's heading.
    if (ok) document.getElementById("memory-title")?.focus();
  };
  return (
    <section aria-labelledby="memory-title" className="memory-settings">
      <h3 id="memory-title" tabIndex={-1}>
        {t.memory}
      </h3>
      <p id="memory-intro" className="muted">
        {t.memoryIntro}
      </p>
      <label className="checkbox">
        <input
          type="checkbox"
          role="switch"
          checked={on}
          aria-checked={on}
          aria-describedby="memory-intro"
          onChange={(event) => {
            const memory = event.target.checked;
            setDone("");
            setOn(memory);
            void toggle.run(() => props.onSave({ memory })).then((saved) => saved || setOn(!memory));
          }}
        />{" "}
        {t.useMemory}
      </label>
      <ActionError error={toggle.error} />
      {answer && (
        <p className="muted" id="memory-count">
          {fill(t.memoryCount, { n: answer.memories.length, max: answer.maxCount })}
        </p>
      )}
      {answer?.memories.length === 0 && <p>{t.noMemories}</p>}
      {answer && answer.memories.length > 0 && (
        <ul className="memory-list" aria-labelledby="memory-title" aria-describedby="memory-count">
          {answer.memories.map((memory) => (
            <MemoryItem
              key={memory.id}
              memory={memory}
              maxChars={answer.maxChars}
              editing={editing === memory.id}
              onEdit={() => {
                setDone("");
                setEditing(memory.id);
              }}
              onSubmit={() => setDone("")}
              onSaved={() => {
                setEditing(undefined);
                setDone(t.memorySaved);
                void run(load);
              }}
              onCancel={() => setEditing(undefined)}
              onDelete={(from) => void remove(memory, from)}
            />
          ))}
        </ul>
      )}
      <p role="status">{done}</p>
      <ActionError error={error} />
      {answer && (
        <MemoryForm
          maxChars={answer.maxChars}
          onSubmit={() => setDone("")}
          onSaved={() => {
            setDone(t.memoryAdded);
            void run(load);
          }}
        />
      )}
      {answer && answer.memories.length > 0 && (
        <button type="button" onClick={() => void clearAll()}>
          {t.clearMemories}
        </button>
      )}
    </section>
  );
}
