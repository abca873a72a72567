/**
 * A list the user keeps with the service and changes in place (Settings → Memory, Settings →
 * Prompts): `GET path` answers it, `POST path` adds an item, `PATCH` and `DELETE path/id` change and
 * delete one. Each item shows its Edit and Delete buttons, or, while it is changed, the form
 * changing it; a form for a new item follows the list. What the section said of the last action is
 * in its status; a failed load or delete is said under the list, a refused save in its form.
 */
import { type FormEvent, type ReactNode, type Ref, useCallback, useEffect, useState } from "react";
import { api } from "./api.js";
import {
  cancelOnEscape,
  describedField,
  keepFocusNear,
  useEditFocus,
  useFocusInvalidField,
} from "./focus.js";
import { useI18n } from "./i18n.js";
import { ActionError, useAction } from "./use-action.js";

/** An item of such a list. */
interface Listed {
  id: string;
}

/** The section's state, shared with the section's own actions (clearing all, importing). */
interface EditableListState<Answer> {
  /** Where the list is (see the top of this file). */
  path: string;
  /** What `GET path` answered, once it has. */
  answer: Answer | undefined;
  /** Reads the list again. */
  load(): Promise<void>;
  /** Runs an action of the section, its error shown under the list. */
  run(action: () => Promise<unknown>): Promise<boolean>;
  error: unknown;
  /** What the section's status says (an action done). */
  done: string;
  setDone(said: string): void;
  /** The id of the item being changed. */
  editing: string | undefined;
  setEditing(id: string | undefined): void;
}

/** The state of the section of the list at `path`, loaded as the section is shown. */
export function useEditableList<Answer>(path: string): EditableListState<Answer> {
  const [answer, setAnswer] = useState<Answer>();
  const [editing, setEditing] = useState<string>();
  const [done, setDone] = useState("");
  const { error, run } = useAction();
  const load = useCallback(async () => setAnswer(await api<Answer>(path)), [path]);
  useEffect(() => {
    void run(load);
  }, [run, load]);
  return { path, answer, load, run, error, done, setDone, editing, setEditing };
}

/** A field of an item's form: a key of what the form edits. */
type FieldOf<Draft> = keyof Draft & string;

/** What an item's form gives the fields a list draws in it. */
export interface ItemFormParts<Draft, Focused> {
  /** The start of the ids of the form's parts; a field's id is `${prefix}-${field}`. */
  prefix: string;
  draft: Draft;
  setDraft(draft: Draft): void;
  /** For the field that takes focus as a change begins. */
  fieldRef: Ref<Focused> | undefined;
  /** A field's ARIA state: described by its `hint` (ids), and by the form's error when it is about it. */
  described(field: FieldOf<Draft>, hint?: string): ReturnType<typeof describedField>;
  /** The form's error, where it is about `field`: shown under it. */
  fieldError(field: FieldOf<Draft>): ReactNode;
}

/** The words an editable list says of its items (each in the reader's language). */
interface ItemWords<Item> {
  /** The heading of the form of a new item, or of one being changed. */
  formHeading(item?: Item): string;
  add: string;
  save: string;
  /** The accessible names of an item's Edit and Delete buttons. */
  editLabel(item: Item): string;
  deleteLabel(item: Item): string;
  deleteConfirm(item: Item): string;
  /** The status once an item is added, saved or deleted. */
  added(item: Item): string;
  saved(item: Item): string;
  deleted(item: Item): string;
}

/** What one list states of its items: how they read, are edited and sent, and what is said of them. */
interface EditableListProps<
  Answer,
  Item extends Listed,
  Draft,
  Focused extends HTMLInputElement | HTMLTextAreaElement,
> {
  list: EditableListState<Answer>;
  items: Item[] | undefined;
  /** The start of the ids of its forms' parts: `${name}-new`, `${name}-edit-${id}`. */
  name: string;
  /** The section's heading, which names the list and takes focus when a delete leaves nothing nearer. */
  headingId: string;
  listClassName: string;
  /** What describes the list (its count), if anything. */
  describedBy?: string;
  /** What the section says while the list is empty. */
  empty: string;
  words: ItemWords<Item>;
  /** An item as the list shows it, before its buttons. */
  view(item: Item): ReactNode;
  /** Whether the user may change or delete an item (all of them unless said). */
  editable?(item: Item): boolean;
  /** What the form edits: an item's, or a new one's (no item). */
  draftOf(item?: Item): Draft;
  /** What is sent of it. */
  bodyOf(draft: Draft): unknown;
  /** The field a refusal is about, which is marked invalid, takes focus and has the error under it. */
  invalidField(error: unknown): FieldOf<Draft> | undefined;
  /** The form's fields. */
  fields(form: ItemFormParts<Draft, Focused>): ReactNode;
}

/**
 * The list of an editable section (see the top of this file): its items, its status and error, and
 * the form of a new item. A delete is asked first, and focus stays near the item deleted.
 */
export function EditableList<
  Answer,
  Item extends Listed,
  Draft,
  Focused extends HTMLInputElement | HTMLTextAreaElement,
>(props: EditableListProps<Answer, Item, Draft, Focused>) {
  const { list, items, words } = props;
  const remove = async (item: Item, from: Element) => {
    list.setDone("");
    if (!window.confirm(words.deleteConfirm(item))) return;
    const restoreFocus = keepFocusNear(from, () => document.getElementById(props.headingId));
    const ok = await list.run(async () => {
      await api(`${list.path}/${item.id}`, { method: "DELETE" });
      await list.load();
    });
    if (ok) list.setDone(words.deleted(item));
    restoreFocus();
  };
  const saved = (said: string) => {
    list.setDone(said);
    void list.run(list.load);
  };
  return (
    <>
      {items?.length === 0 && <p>{props.empty}</p>}
      {items && items.length > 0 && (
        <ul
          className={props.listClassName}
          aria-labelledby={props.headingId}
          aria-describedby={props.describedBy}
        >
          {items.map((item) => (
            <EditableItem
              key={item.id}
              {...props}
              item={item}
              editing={list.editing === item.id}
              onEdit={() => {
                list.setDone("");
                list.setEditing(item.id);
              }}
              onSaved={(changed) => {
                list.setEditing(undefined);
                saved(words.saved(changed));
              }}
              onCancel={() => list.setEditing(undefined)}
              onDelete={(from) => void remove(item, from)}
            />
          ))}
        </ul>
      )}
      <p role="status">{list.done}</p>
      <ActionError error={list.error} />
      {items && <ItemForm {...props} onSaved={(added) => saved(words.added(added))} />}
    </>
  );
}

/**
 * An item of the list: how it reads, with its Edit and Delete buttons where the user may change it;
 * or, while it is changed, the form changing it (its first field focused; focus back on Edit once
 * saved or cancelled).
 */
function EditableItem<
  Answer,
  Item extends Listed,
  Draft,
  Focused extends HTMLInputElement | HTMLTextAreaElement,
>(
  props: EditableListProps<Answer, Item, Draft, Focused> & {
    item: Item;
    editing: boolean;
    onEdit(): void;
    onSaved(item: Item): void;
    onCancel(): void;
    onDelete(from: Element): void;
  },
) {
  const { t } = useI18n();
  const { item, words } = props;
  const { field, editButton } = useEditFocus<Focused>(props.editing);
  return (
    <li>
      {props.editing ? (
        <ItemForm {...props} editing={item} fieldRef={field} />
      ) : (
        <>
          {props.view(item)}
          {(props.editable?.(item) ?? true) && (
            <span className="prompt-list-actions">
              <button
                type="button"
                className="small"
                ref={editButton}
                aria-label={words.editLabel(item)}
                onClick={props.onEdit}
              >
                {t.edit}
              </button>
              <button
                type="button"
                className="small"
                aria-label={words.deleteLabel(item)}
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
 * The form of a new item, or of one being changed. A refusal about a field is shown under it, which
 * is marked invalid and takes focus; another is shown above the buttons. Escape cancels a change.
 */
function ItemForm<Answer, Item extends Listed, Draft, Focused extends HTMLInputElement | HTMLTextAreaElement>(
  props: EditableListProps<Answer, Item, Draft, Focused> & {
    editing?: Item;
    fieldRef?: Ref<Focused>;
    onSaved(item: Item): void;
    onCancel?(): void;
  },
) {
  const { t } = useI18n();
  const { editing, list, words } = props;
  const [draft, setDraft] = useState(() => props.draftOf(editing));
  const { error, run } = useAction();
  const prefix = editing ? `${props.name}-edit-${editing.id}` : `${props.name}-new`;
  const errorId = `${prefix}-error`;
  const invalid = error === undefined ? undefined : props.invalidField(error);
  useFocusInvalidField(invalid && `${prefix}-${invalid}`);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    // What the section said of the last change no longer holds.
    list.setDone("");
    let saved: Item | undefined;
    const ok = await run(async () => {
      const body = props.bodyOf(draft);
      saved = editing
        ? await api<Item>(`${list.path}/${editing.id}`, { method: "PATCH", body })
        : await api<Item>(list.path, { method: "POST", body });
    });
    if (ok && saved) {
      if (!editing) setDraft(props.draftOf());
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
      <h4 id={titleId}>{words.formHeading(editing)}</h4>
      {props.fields({
        prefix,
        draft,
        setDraft,
        fieldRef: props.fieldRef,
        described: (field, hint) => describedField(invalid === field, hint, errorId),
        fieldError: (field) => (invalid === field ? <ActionError id={errorId} error={error} /> : null),
      })}
      {invalid === undefined && <ActionError id={errorId} error={error} />}
      <div className="inline-form">
        <button type="submit">{editing ? words.save : words.add}</button>
        {props.onCancel && (
          <button type="button" onClick={props.onCancel}>
            {t.cancel}
          </button>
        )}
      </div>
    </form>
  );
}
