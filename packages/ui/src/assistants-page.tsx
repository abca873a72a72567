import { ASSISTANT_DESCRIPTION_MAX_CHARS, ASSISTANT_NAME_MAX_CHARS } from "@hearth/contracts/assistant";
import { textLength } from "@hearth/contracts/text-length";
import { type FormEvent, useCallback, useEffect, useRef, useState } from "react";
import { type Assistant, api, type ModelsAnswer } from "./api.js";
import { audienceWarning, type ModelAccessRule } from "./assistant-audience.js";
import { DataTable } from "./data-table.js";
import { describedField, keepFocusNear, PAGE_HEADING, useFocusInvalidField, usePageTitle } from "./focus.js";
import { fill, labelWithName, useI18n } from "./i18n.js";
import { ModalDialog } from "./modal-dialog.js";
import { ActionError, errorCode, errorField, useAction } from "./use-action.js";

type Field =
  | "name"
  | "description"
  | "model"
  | "systemPrompt"
  | "knowledgeBaseIds"
  | "temperature"
  | "groupIds";

interface Draft {
  name: string;
  description: string;
  model: string;
  systemPrompt: string;
  knowledgeBaseIds: string[];
  webSearch: Assistant["webSearch"];
  /** As typed: empty for the model's own. */
  temperature: string;
  visibility: Assistant["visibility"];
  groupIds: string[];
}

interface ListAnswer {
  assistants: Assistant[];
  groups: Array<{ id: string; name: string }>;
  systemPromptMaxChars: number;
}

interface KnowledgeBaseChoice {
  id: string;
  name: string;
}

/**
 * Creating or changing an assistant, in a dialog: its name, description, base model (one the user
 * may use), system prompt, knowledge bases (those they may read), web search mode, temperature and
 * sharing (private, shared with groups, or public). A refusal is shown under the field it is about,
 * which is marked invalid and takes focus.
 */
function AssistantDialog(props: {
  editing?: Assistant;
  models: ModelsAnswer | undefined;
  knowledgeBases: KnowledgeBaseChoice[];
  groups: ListAnswer["groups"];
  systemPromptMaxChars: number;
  /** An administrator is warned when the assistant's audience may not use its base model. */
  admin: boolean;
  onSaved(assistant: Assistant): void;
  onClose(): void;
}) {
  const { t } = useI18n();
  const { editing } = props;
  /** Who may use each model (administrators only read them): for the audience warning. */
  const [rules, setRules] = useState<ModelAccessRule[]>([]);
  useEffect(() => {
    if (!props.admin) return;
    let open = true;
    void api<{ models: ModelAccessRule[] }>("/api/admin/models").then(
      (answer) => open && setRules(answer.models),
      () => undefined,
    );
    return () => {
      open = false;
    };
  }, [props.admin]);
  const models = props.models?.models.map((model) => model.id) ?? [];
  const [draft, setDraft] = useState<Draft>(
    editing
      ? {
          name: editing.name,
          description: editing.description,
          model: editing.model,
          systemPrompt: editing.systemPrompt ?? "",
          knowledgeBaseIds: editing.knowledgeBaseIds,
          webSearch: editing.webSearch,
          temperature: editing.temperature === null ? "" : String(editing.temperature),
          visibility: editing.visibility,
          groupIds: editing.groups.map((group) => group.id),
        }
      : {
          name: "",
          description: "",
          model: models[0] ?? "",
          systemPrompt: "",
          knowledgeBaseIds: [],
          webSearch: "off",
          temperature: "",
          visibility: "private",
          groupIds: [],
        },
  );
  const { error, run } = useAction();
  const prefix = editing ? `assistant-edit-${editing.id}` : "assistant-new";
  const code = error === undefined ? undefined : errorCode(error);
  const invalid: Field | undefined =
    code === "ASSISTANT_NAME_TAKEN"
      ? "name"
      : code === "MODEL_NOT_ALLOWED"
        ? "model"
        : code === "KNOWLEDGE_BASE_NOT_FOUND"
          ? "knowledgeBaseIds"
          : code === "GROUP_NOT_FOUND"
            ? "groupIds"
            : (errorField(error) as Field | undefined);
  const errorId = `${prefix}-error`;
  const described = (field: Field, hint?: string) => describedField(invalid === field, hint, errorId);
  const fieldError = (field: Field) =>
    invalid === field ? <ActionError id={errorId} error={error} /> : null;
  useFocusInvalidField(invalid && `${prefix}-${invalid}`);
  const toggle = (list: string[], id: string) =>
    list.includes(id) ? list.filter((other) => other !== id) : [...list, id];
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    let saved: Assistant | undefined;
    const ok = await run(async () => {
      const temperature = draft.temperature.trim();
      const body = {
        name: draft.name,
        description: draft.description,
        model: draft.model,
        systemPrompt: draft.systemPrompt.trim() ? draft.systemPrompt : null,
        knowledgeBaseIds: draft.knowledgeBaseIds,
        webSearch: draft.webSearch,
        temperature: temperature === "" ? null : Number(temperature),
        visibility: draft.visibility,
        groupIds: draft.visibility === "shared" ? draft.groupIds : [],
      };
      saved = editing
        ? await api<Assistant>(`/api/assistants/${editing.id}`, { method: "PATCH", body })
        : await api<Assistant>("/api/assistants", { method: "POST", body });
    });
    if (ok && saved) props.onSaved(saved);
  };
  const titleId = `${prefix}-title`;
  return (
    <ModalDialog
      className="assistant-dialog"
      titleId={titleId}
      title={editing ? fill(t.editAssistantTitle, { name: editing.name }) : t.newAssistant}
      onClose={props.onClose}
    >
      <form className="page-form assistant-form" onSubmit={submit} aria-labelledby={titleId}>
        <label>
          {t.assistantName}
          <input
            id={`${prefix}-name`}
            value={draft.name}
            maxLength={ASSISTANT_NAME_MAX_CHARS}
            required
            autoComplete="off"
            onChange={(event) => setDraft({ ...draft, name: event.target.value })}
            {...described("name")}
          />
        </label>
        {fieldError("name")}
        <label>
          {t.assistantDescription}
          <input
            id={`${prefix}-description`}
            value={draft.description}
            maxLength={ASSISTANT_DESCRIPTION_MAX_CHARS}
            onChange={(event) => setDraft({ ...draft, description: event.target.value })}
            {...described("description")}
          />
        </label>
        {fieldError("description")}
        <label>
          {t.assistantModel}
          <select
            id={`${prefix}-model`}
            value={draft.model}
            required
            onChange={(event) => setDraft({ ...draft, model: event.target.value })}
            {...described("model")}
          >
            {/* A base model no longer offered to this user stays shown as what it is. */}
            {draft.model && !models.includes(draft.model) && (
              <option value={draft.model}>{fill(t.assistantModelMissing, { model: draft.model })}</option>
            )}
            {models.map((model) => (
              <option key={model} value={model}>
                {model}
              </option>
            ))}
          </select>
        </label>
        {fieldError("model")}
        <label htmlFor={`${prefix}-systemPrompt`}>{t.systemPrompt}</label>
        <textarea
          id={`${prefix}-systemPrompt`}
          value={draft.systemPrompt}
          rows={5}
          maxLength={props.systemPromptMaxChars}
          onChange={(event) => setDraft({ ...draft, systemPrompt: event.target.value })}
          {...described("systemPrompt", `${prefix}-systemPrompt-count`)}
        />
        <p id={`${prefix}-systemPrompt-count`} className="muted field-hint">
          {fill(t.characterCount, { n: textLength(draft.systemPrompt), max: props.systemPromptMaxChars })}
        </p>
        {fieldError("systemPrompt")}
        <fieldset id={`${prefix}-knowledgeBaseIds`} className="choice-list">
          <legend>{t.knowledgeBases}</legend>
          {props.knowledgeBases.length === 0 && <p className="muted">{t.assistantKnowledgeNone}</p>}
          {props.knowledgeBases.map((kb) => (
            <label key={kb.id}>
              <input
                type="checkbox"
                checked={draft.knowledgeBaseIds.includes(kb.id)}
                onChange={() =>
                  setDraft({ ...draft, knowledgeBaseIds: toggle(draft.knowledgeBaseIds, kb.id) })
                }
                {...described("knowledgeBaseIds")}
              />{" "}
              {kb.name}
            </label>
          ))}
          {editing && editing.unavailableKnowledgeBases > 0 && (
            <p className="muted">
              {fill(t.assistantUnavailableBases, { n: editing.unavailableKnowledgeBases })}
            </p>
          )}
        </fieldset>
        {fieldError("knowledgeBaseIds")}
        <label>
          {t.webSearch}
          <select
            id={`${prefix}-webSearch`}
            value={draft.webSearch}
            onChange={(event) => setDraft({ ...draft, webSearch: event.target.value as Draft["webSearch"] })}
          >
            <option value="off">{t.searchOff}</option>
            <option value="auto">{t.searchAuto}</option>
            <option value="on">{t.searchOn}</option>
          </select>
        </label>
        <label>
          {t.assistantTemperature}
          <input
            id={`${prefix}-temperature`}
            type="number"
            inputMode="decimal"
            min={0}
            max={2}
            step={0.1}
            value={draft.temperature}
            onChange={(event) => setDraft({ ...draft, temperature: event.target.value })}
            {...described("temperature")}
          />
        </label>
        {fieldError("temperature")}
        <label>
          {t.visibility}
          <select
            id={`${prefix}-visibility`}
            value={draft.visibility}
            onChange={(event) =>
              setDraft({ ...draft, visibility: event.target.value as Draft["visibility"] })
            }
          >
            <option value="private">{t.private}</option>
            <option value="shared">{t.shared}</option>
            <option value="public">{t.public}</option>
          </select>
        </label>
        {draft.visibility === "shared" && (
          <fieldset id={`${prefix}-groupIds`} className="choice-list">
            <legend>{t.assistantGroups}</legend>
            {props.groups.length === 0 && <p className="muted">{t.noGroupsToShare}</p>}
            {props.groups.map((group) => (
              <label key={group.id}>
                <input
                  type="checkbox"
                  checked={draft.groupIds.includes(group.id)}
                  onChange={() => setDraft({ ...draft, groupIds: toggle(draft.groupIds, group.id) })}
                  {...described("groupIds")}
                />{" "}
                {group.name}
              </label>
            ))}
          </fieldset>
        )}
        {fieldError("groupIds")}
        <p className="audience-warning" role="status" id={`${prefix}-audience`}>
          {audienceWarning(t, draft, rules, props.groups)}
        </p>
        {error !== undefined && invalid === undefined && <ActionError error={error} />}
        <div className="form-buttons">
          <button type="submit" className="primary">
            {editing ? t.saveAssistant : t.addAssistant}
          </button>
          <button type="button" onClick={props.onClose}>
            {t.cancel}
          </button>
        </div>
      </form>
    </ModalDialog>
  );
}

/** A visibility as the list shows it: shared ones name their groups. */
function sharingText(t: ReturnType<typeof useI18n>["t"], assistant: Assistant): string {
  if (assistant.visibility === "private") return t.private;
  if (assistant.visibility === "public") return t.public;
  return labelWithName(
    t,
    t.shared,
    assistant.groups.map((group) => group.name).join(t.errorDetails.separator),
  );
}

/**
 * The Assistants page: the assistants the user may use (their own, shared with one of their groups,
 * public; an administrator may list every user's), each with its name, description, base model,
 * owner and sharing; create and edit in a dialog; delete (asked first).
 */
export function AssistantsPage(props: {
  models: ModelsAnswer | undefined;
  /** The knowledge bases the user may read (the app reads them as this page opens). */
  knowledgeBases: KnowledgeBaseChoice[];
  admin: boolean;
}) {
  const { t } = useI18n();
  usePageTitle(t.assistants);
  const [answer, setAnswer] = useState<ListAnswer>();
  const [all, setAll] = useState(false);
  /** The dialog open: "new", or the assistant being changed. */
  const [dialog, setDialog] = useState<"new" | Assistant>();
  /** What had focus when the dialog opened: it gets it back when the dialog closes. */
  const opener = useRef<Element | null>(null);
  const [done, setDone] = useState("");
  const { error, run } = useAction();
  const load = useCallback(async () => {
    setAnswer(await api<ListAnswer>(`/api/assistants${all ? "?all=true" : ""}`));
  }, [all]);
  useEffect(() => {
    void run(load);
  }, [run, load]);
  const open = (which: "new" | Assistant, from: Element) => {
    setDone("");
    opener.current = from;
    setDialog(which);
  };
  const close = () => {
    setDialog(undefined);
    const from = opener.current;
    if (from instanceof HTMLElement && from.isConnected) from.focus();
    else document.getElementById(PAGE_HEADING)?.focus();
  };
  const remove = async (assistant: Assistant, from: Element) => {
    setDone("");
    if (!window.confirm(fill(t.deleteAssistantConfirm, { name: assistant.name }))) return;
    const restoreFocus = keepFocusNear(from, () => document.getElementById(PAGE_HEADING));
    const ok = await run(async () => {
      await api(`/api/assistants/${assistant.id}`, { method: "DELETE" });
      await load();
    });
    if (ok) setDone(fill(t.assistantDeleted, { name: assistant.name }));
    restoreFocus();
  };
  return (
    <div className="page assistants-page">
      <h2 id={PAGE_HEADING} tabIndex={-1}>
        {t.assistants}
      </h2>
      <p className="muted">{t.assistantsIntro}</p>
      <div className="inline-form">
        <button type="button" className="primary" onClick={(event) => open("new", event.currentTarget)}>
          {t.newAssistant}
        </button>
        {props.admin && (
          <label className="checkbox">
            <input type="checkbox" checked={all} onChange={(event) => setAll(event.target.checked)} />{" "}
            {t.showAllAssistants}
          </label>
        )}
      </div>
      <p role="status">{done}</p>
      <ActionError error={error} />
      {answer && answer.assistants.length === 0 && <p>{t.noAssistants}</p>}
      {answer && answer.assistants.length > 0 && (
        <DataTable
          label={t.assistants}
          columns={[
            t.assistantName,
            t.assistantDescription,
            t.assistantModel,
            t.assistantOwner,
            t.assistantSharing,
            t.assistantApiModel,
          ]}
          actions
          pinFirst
        >
          {answer.assistants.map((assistant) => (
            <tr key={assistant.id}>
              <td>{assistant.name}</td>
              <td className="breakable">{assistant.description}</td>
              <td>
                {assistant.model}
                {props.models?.reachable && !props.models.models.some((m) => m.id === assistant.model) && (
                  <>
                    {" "}
                    <span className="badge unavailable" title={t.assistantModelUnavailableTitle}>
                      {t.assistantModelUnavailable}
                    </span>
                  </>
                )}
              </td>
              <td>{assistant.owner.username}</td>
              <td>{sharingText(t, assistant)}</td>
              <td>
                <code>{assistant.apiModel}</code>
              </td>
              <td>
                {assistant.editable && (
                  <>
                    <button
                      type="button"
                      className="small"
                      aria-label={fill(t.editAssistantTitle, { name: assistant.name })}
                      onClick={(event) => open(assistant, event.currentTarget)}
                    >
                      {t.edit}
                    </button>
                    <button
                      type="button"
                      className="small"
                      aria-label={fill(t.deleteAssistantLabel, { name: assistant.name })}
                      onClick={(event) => void remove(assistant, event.currentTarget)}
                    >
                      {t.delete}
                    </button>
                  </>
                )}
              </td>
            </tr>
          ))}
        </DataTable>
      )}
      {dialog && answer && (
        <AssistantDialog
          {...(dialog === "new" ? {} : { editing: dialog })}
          models={props.models}
          knowledgeBases={props.knowledgeBases}
          groups={answer.groups}
          systemPromptMaxChars={answer.systemPromptMaxChars}
          admin={props.admin}
          onClose={close}
          onSaved={(saved) => {
            setDialog(undefined);
            setDone(fill(t.assistantSaved, { name: saved.name }));
            void run(load);
            document.getElementById(PAGE_HEADING)?.focus();
          }}
        />
      )}
    </div>
  );
}
