import type { Memory } from "@hearth/contracts/memory";
import { textLength } from "@hearth/contracts/text-length";
import { useState } from "react";
import { api, type Preferences } from "./api.js";
import { EditableList, type ItemFormParts, useEditableList } from "./editable-list.js";
import { fill, useI18n } from "./i18n.js";
import { ActionError, errorCode, useAction } from "./use-action.js";

/** What `GET /api/memories` answers. */
interface MemoriesAnswer {
  memories: Memory[];
  maxChars: number;
  maxCount: number;
}

/** What a memory's form edits: its one field, its text. */
type MemoryFormParts = ItemFormParts<{ content: string }, HTMLTextAreaElement>;

/** A memory's start, to name the buttons that act on it (a memory may be 1,000 characters long). */
function excerpt(content: string): string {
  const characters = [...content];
  return characters.length > 60 ? `${characters.slice(0, 60).join("")}…` : content;
}

/**
 * Settings → Memory: facts the user asks the assistant to remember about them ("I work in Go"),
 * kept with their account, and the switch that adds them to their chats (off until turned on).
 * Add, change (with the count of its characters), delete one (asked first), or clear them all
 * (asked first).
 */
export function MemorySettings(props: {
  preferences: Preferences;
  onSave(changes: Partial<Preferences>): Promise<Preferences>;
}) {
  const { t } = useI18n();
  const list = useEditableList<MemoriesAnswer>("/api/memories");
  const { answer, run, load, setDone } = list;
  const toggle = useAction();
  // Switched at once, and back should the save fail (its error said beside it).
  const [on, setOn] = useState(props.preferences.memory);
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
  const maxChars = answer?.maxChars ?? 0;
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
      <EditableList
        list={list}
        items={answer?.memories}
        name="memory"
        headingId="memory-title"
        listClassName="memory-list"
        describedBy="memory-count"
        empty={t.noMemories}
        words={{
          formHeading: (memory) => (memory ? t.editMemory : t.newMemory),
          add: t.addMemory,
          save: t.saveMemory,
          editLabel: (memory) => fill(t.editMemoryLabel, { memory: excerpt(memory.content) }),
          deleteLabel: (memory) => fill(t.deleteMemoryLabel, { memory: excerpt(memory.content) }),
          deleteConfirm: (memory) => fill(t.deleteMemoryConfirm, { memory: excerpt(memory.content) }),
          added: () => t.memoryAdded,
          saved: () => t.memorySaved,
          deleted: () => t.memoryDeleted,
        }}
        view={(memory) => <span className="memory-text">{memory.content}</span>}
        draftOf={(memory) => ({ content: memory?.content ?? "" })}
        bodyOf={(draft) => draft}
        // Every refusal of a memory is about its one field, but one that never reached the service.
        invalidField={(error) => (errorCode(error) === "NETWORK_ERROR" ? undefined : "content")}
        fields={({ prefix, draft, setDraft, fieldRef, described, fieldError }: MemoryFormParts) => (
          <>
            <label htmlFor={`${prefix}-content`}>{t.memoryText}</label>
            <textarea
              id={`${prefix}-content`}
              ref={fieldRef}
              value={draft.content}
              rows={2}
              maxLength={maxChars}
              required
              onChange={(event) => setDraft({ content: event.target.value })}
              {...described("content", `${prefix}-hint ${prefix}-count`)}
            />
            <p id={`${prefix}-hint`} className="muted field-hint">
              {t.memoryTextHint}
            </p>
            <p id={`${prefix}-count`} className="muted field-hint">
              {fill(t.characterCount, { n: textLength(draft.content), max: maxChars })}
            </p>
            {fieldError("content")}
          </>
        )}
      />
      {answer && answer.memories.length > 0 && (
        <button type="button" onClick={() => void clearAll()}>
          {t.clearMemories}
        </button>
      )}
    </section>
  );
}
