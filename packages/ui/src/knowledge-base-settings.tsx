import { KNOWLEDGE_BASE_NAME_MAX_CHARS } from "@hearth/contracts/knowledge-base-name";
import { type FormEvent, useState } from "react";
import { api, type ModelsAnswer } from "./api.js";
import { describedField, useFocusInvalidField } from "./focus.js";
import { fill, type Messages, useI18n } from "./i18n.js";
import { ActionError, errorCode, errorField, useAction } from "./use-action.js";

/** A base's settings as the knowledge service lists them (contracts: knowledgeBaseSchema). */
export interface KnowledgeBaseSettings {
  id: string;
  name: string;
  description?: string;
  embeddingModel?: string | null;
  chunking?: { maxTokens: number; overlapTokens: number };
  watchFolder?: string | null;
  /** The least relevance (0 to 1) a passage needs to be given to a chat; 0 gives every one found. */
  minRelevance?: number;
  /** The model that reranks the passages a question finds; none: they come in search order. */
  rerankModel?: string | null;
}

/** What the last save of a base's settings came to: a message key, said in the language of the moment. */
export type SettingsNotice =
  | "knowledgeSettingsSaved"
  | "knowledgeSettingsSavedReindexing"
  | "knowledgeSettingsSavedSyncing"
  | "knowledgeSettingsUnchanged";

/**
 * A knowledge base's model picker's groups (its embedding model's, its rerank model's): the models
 * listed for the purpose first, then the chat models apart, under a label saying they may not do it;
 * `capable` says whether a model is one of the first.
 */
export function modelPickerGroups(
  t: Messages,
  models: ModelsAnswer | undefined,
  purpose: "embedding" | "rerank",
): { groups: Array<{ label: string; models: string[] }>; capable(model: string): boolean; none: boolean } {
  const fit = ((purpose === "embedding" ? models?.embeddingModels : models?.rerankModels) ?? []).map(
    (model) => model.id,
  );
  const others = (models?.models ?? []).map((model) => model.id).filter((id) => !fit.includes(id));
  return {
    groups: [
      {
        label: purpose === "embedding" ? t.embeddingModelsGroup : t.rerankModelsGroup,
        models: fit,
      },
      {
        label: purpose === "embedding" ? t.otherEmbeddingModelsGroup : t.otherRerankModelsGroup,
        models: others,
      },
    ].filter((group) => group.models.length > 0),
    capable: (model) => fit.includes(model),
    // Known to have none (the list read): said, so that the other models are not taken for them.
    none: models !== undefined && fit.length === 0 && others.length > 0,
  };
}

/** The knowledge service's limits on chunking (contracts: createKnowledgeBaseRequestSchema). */
const CHUNK_TOKENS = { min: 32, max: 8192 };
const OVERLAP_TOKENS = { min: 0, max: 4096 };
const DESCRIPTION_MAX_CHARS = 4000;
/** A minimum relevance's range and the step it is set in (contracts: minRelevanceSchema). */
const MIN_RELEVANCE = { min: 0, max: 1, step: 0.01 };

/** A minimum relevance's field, as typed: the settings' (saved) and the retrieval test's (tried). */
export function MinRelevanceField(props: {
  value: string;
  onChange: (value: string) => void;
  /** Its id and state for assistive technology, where a form's error may be about it (describedField). */
  field?: { id: string } & ReturnType<typeof describedField>;
}) {
  const { t } = useI18n();
  return (
    <label>
      {t.minRelevance}
      <input
        {...props.field}
        type="number"
        min={MIN_RELEVANCE.min}
        max={MIN_RELEVANCE.max}
        step={MIN_RELEVANCE.step}
        value={props.value}
        onChange={(e) => props.onChange(e.target.value)}
        required
      />
    </label>
  );
}

/** The fields of a settings change that differ from the base as it is; empty when none does. */
function settingsChange(
  base: KnowledgeBaseSettings,
  form: {
    name: string;
    description: string;
    embeddingModel: string;
    maxTokens: number;
    overlapTokens: number;
    watchFolder: string;
    minRelevance: number;
    rerankModel: string;
  },
  admin: boolean,
): Record<string, unknown> {
  const change: Record<string, unknown> = {};
  if (form.name.trim() !== base.name) change.name = form.name.trim();
  if (form.description !== (base.description ?? "")) change.description = form.description;
  if (form.embeddingModel !== (base.embeddingModel ?? ""))
    change.embeddingModel = form.embeddingModel || null;
  const chunking = base.chunking;
  if (chunking && (form.maxTokens !== chunking.maxTokens || form.overlapTokens !== chunking.overlapTokens))
    change.chunking = { maxTokens: form.maxTokens, overlapTokens: form.overlapTokens };
  if (form.minRelevance !== (base.minRelevance ?? 0)) change.minRelevance = form.minRelevance;
  if (form.rerankModel !== (base.rerankModel ?? "")) change.rerankModel = form.rerankModel || null;
  if (admin && form.watchFolder.trim() !== (base.watchFolder ?? ""))
    change.watchFolder = form.watchFolder.trim() || null;
  return change;
}

/** Whether a change makes the knowledge service index every document of the base again. */
function reindexes(change: Record<string, unknown>): boolean {
  return "embeddingModel" in change || "chunking" in change;
}

/** The settings' fields, by the path a refused request names them with (details.issues). */
const SETTINGS_FIELDS = [
  "name",
  "description",
  "embeddingModel",
  "chunking.maxTokens",
  "chunking.overlapTokens",
  "minRelevance",
  "rerankModel",
  "watchFolder",
] as const;
type SettingsField = (typeof SETTINGS_FIELDS)[number];

/** The field each of the services' refusals of a settings change is about, where its code says it. */
const FIELD_OF_CODE: Record<string, SettingsField> = {
  KNOWLEDGE_BASE_NAME_TAKEN: "name",
  EMBEDDING_MODEL_NOT_FOUND: "embeddingModel",
  EMBEDDING_MODEL_UNUSABLE: "embeddingModel",
  RERANK_MODEL_NOT_FOUND: "rerankModel",
  MODEL_CANNOT_RERANK: "rerankModel",
  WATCH_FOLDER_IN_DATA_DIR: "watchFolder",
  FOLDER_UNREADABLE: "watchFolder",
};

/** A settings field's element id. */
function fieldId(field: SettingsField): string {
  return `knowledge-settings-${field.replace(".", "-")}`;
}

/** The settings field a refusal is about, if it names one. */
function settingsFieldOf(error: unknown): SettingsField | undefined {
  const field = FIELD_OF_CODE[errorCode(error) ?? ""] ?? errorField(error);
  return SETTINGS_FIELDS.find((known) => known === field);
}

/**
 * A base's settings, for its manager (Dify's and RAGFlow's knowledge settings): name, description,
 * embedding model (none: full text only), chunk size and overlap in tokens, the minimum relevance
 * of the passages chats are given, the rerank model that orders them (none: search order), and for
 * administrators the server folder it mirrors. A change of embedding model or chunking indexes
 * every document again, which is asked first when there are documents; the base stays searchable
 * meanwhile. The minimum relevance and the rerank model apply from the next question. A refusal is
 * shown in the form, not at the page's top far above it: under the field it is about, which takes
 * focus, else beside the Save button.
 */
export function KnowledgeBaseSettingsForm(props: {
  knowledgeBase: KnowledgeBaseSettings;
  /** How many documents the base holds now (the page's list, newer than the base's own count). */
  documentCount: number;
  admin: boolean;
  /** The models the user may use, as the app read them (undefined while it reads them). */
  models: ModelsAnswer | undefined;
  /** What the last save came to (the form is made anew once the base is saved, the page keeps it). */
  notice: SettingsNotice | undefined;
  onSaved(notice: SettingsNotice): Promise<unknown>;
}) {
  const { t } = useI18n();
  const { knowledgeBase: base, admin } = props;
  const { error, run } = useAction();
  const [name, setName] = useState(base.name);
  const [description, setDescription] = useState(base.description ?? "");
  const [embeddingModel, setEmbeddingModel] = useState(base.embeddingModel ?? "");
  const [maxTokens, setMaxTokens] = useState(String(base.chunking?.maxTokens ?? ""));
  const [overlapTokens, setOverlapTokens] = useState(String(base.chunking?.overlapTokens ?? ""));
  const [watchFolder, setWatchFolder] = useState(base.watchFolder ?? "");
  const [minRelevance, setMinRelevance] = useState(String(base.minRelevance ?? 0));
  const [rerankModel, setRerankModel] = useState(base.rerankModel ?? "");
  // The models the app listed for its pickers: embedding models and rerankers apart, each offered
  // first where it fits, the others apart under a label saying they may not do it.
  const embeddingPicker = modelPickerGroups(t, props.models, "embedding");
  const rerankPicker = modelPickerGroups(t, props.models, "rerank");
  // The folder's field is an administrator's only: a refusal about it is shown beside Save to others.
  const named = error === undefined ? undefined : settingsFieldOf(error);
  const invalid = named === "watchFolder" && !admin ? undefined : named;
  const errorId = "knowledge-settings-error";
  const described = (field: SettingsField) => ({
    id: fieldId(field),
    ...describedField(invalid === field, undefined, errorId),
  });
  /** The refusal, under the field it is about. */
  const fieldError = (field: SettingsField) =>
    invalid === field ? <ActionError id={errorId} error={error} /> : null;
  useFocusInvalidField(invalid && fieldId(invalid));

  const save = async (event: FormEvent) => {
    event.preventDefault();
    const change = settingsChange(
      base,
      {
        name,
        description,
        embeddingModel,
        maxTokens: Number(maxTokens),
        overlapTokens: Number(overlapTokens),
        watchFolder,
        minRelevance: Number(minRelevance),
        rerankModel,
      },
      admin,
    );
    const documents = props.documentCount;
    if (
      reindexes(change) &&
      documents > 0 &&
      !window.confirm(fill(t.knowledgeSettingsReindexConfirm, { n: documents }))
    )
      return;
    // Through `run` even when nothing changed: a refusal shown of an earlier try no longer holds.
    let notice: SettingsNotice = "knowledgeSettingsUnchanged";
    const saved = await run(async () => {
      if (Object.keys(change).length === 0) return;
      const answer = await api<{ reindexJobId?: string; syncJobId?: string }>(
        `/api/knowledge-bases/${encodeURIComponent(base.id)}`,
        { method: "PATCH", body: change },
      );
      // A folder set or changed is read at once (its sync named): the page lists its files as they come.
      notice = answer.reindexJobId
        ? "knowledgeSettingsSavedReindexing"
        : answer.syncJobId
          ? "knowledgeSettingsSavedSyncing"
          : "knowledgeSettingsSaved";
    });
    if (saved) await props.onSaved(notice);
  };

  // A model no longer listed (removed, or not this user's) stays choosable as it is.
  const models = props.models;
  const listed = [
    ...(models?.embeddingModels ?? []),
    ...(models?.rerankModels ?? []),
    ...(models?.models ?? []),
  ].map((model) => model.id);
  const unlistedOf = (model: string | null | undefined) =>
    model && models && !listed.includes(model) ? model : undefined;
  const unlisted = unlistedOf(base.embeddingModel);
  const unlistedReranker = unlistedOf(base.rerankModel);
  return (
    <form className="page-form knowledge-settings" onSubmit={save} aria-label={t.knowledgeSettings}>
      <label>
        {t.name}
        <input
          {...described("name")}
          value={name}
          maxLength={KNOWLEDGE_BASE_NAME_MAX_CHARS}
          onChange={(e) => setName(e.target.value)}
          required
        />
      </label>
      {fieldError("name")}
      <label>
        {t.knowledgeDescription}
        <textarea
          {...described("description")}
          value={description}
          rows={2}
          maxLength={DESCRIPTION_MAX_CHARS}
          onChange={(e) => setDescription(e.target.value)}
        />
      </label>
      {fieldError("description")}
      <ModelSelect
        field={described("embeddingModel")}
        label={t.embeddingModel}
        value={embeddingModel}
        onChange={setEmbeddingModel}
        none={t.embeddingModelNone}
        unlisted={unlisted}
        groups={embeddingPicker.groups}
      />
      {embeddingPicker.none && <p className="muted">{t.noEmbeddingModels}</p>}
      {/* A model chosen that is not listed for it: said now, not only when Save is refused. */}
      {embeddingModel &&
        embeddingModel !== base.embeddingModel &&
        !embeddingPicker.capable(embeddingModel) && (
          <p className="model-purpose-warning">{t.modelMayNotEmbed}</p>
        )}
      {fieldError("embeddingModel")}
      <p className="muted">{t.embeddingModelHint}</p>
      <div className="inline-form">
        <label>
          {t.chunkTokens}
          <input
            {...described("chunking.maxTokens")}
            type="number"
            min={CHUNK_TOKENS.min}
            max={CHUNK_TOKENS.max}
            value={maxTokens}
            onChange={(e) => setMaxTokens(e.target.value)}
            required
          />
        </label>
        <label>
          {t.chunkOverlap}
          <input
            {...described("chunking.overlapTokens")}
            type="number"
            min={OVERLAP_TOKENS.min}
            max={Math.min(OVERLAP_TOKENS.max, Math.max(0, Number(maxTokens) - 1))}
            value={overlapTokens}
            onChange={(e) => setOverlapTokens(e.target.value)}
            required
          />
        </label>
      </div>
      {fieldError("chunking.maxTokens")}
      {fieldError("chunking.overlapTokens")}
      <div className="inline-form">
        <MinRelevanceField
          field={described("minRelevance")}
          value={minRelevance}
          onChange={setMinRelevance}
        />
      </div>
      {fieldError("minRelevance")}
      <p className="muted">{t.minRelevanceHint}</p>
      {/* Other models may rerank too (an OpenAI-compatible server's reranker is listed as any of
          its models): offered apart, and the knowledge service checks the one chosen. */}
      <ModelSelect
        field={described("rerankModel")}
        label={t.rerankModel}
        value={rerankModel}
        onChange={setRerankModel}
        none={t.rerankModelNone}
        unlisted={unlistedReranker}
        groups={rerankPicker.groups}
      />
      {rerankPicker.none && <p className="muted">{t.noRerankModels}</p>}
      {rerankModel && rerankModel !== base.rerankModel && !rerankPicker.capable(rerankModel) && (
        <p className="model-purpose-warning">{t.modelMayNotRerank}</p>
      )}
      {fieldError("rerankModel")}
      <p className="muted">{t.rerankModelHint}</p>
      {admin && (
        <label>
          {t.watchFolder}
          <input
            {...described("watchFolder")}
            value={watchFolder}
            onChange={(e) => setWatchFolder(e.target.value)}
          />
        </label>
      )}
      {fieldError("watchFolder")}
      {admin && <p className="muted">{t.watchFolderHint}</p>}
      {error !== undefined && invalid === undefined && <ActionError error={error} />}
      {error === undefined && props.notice && <output>{t[props.notice]}</output>}
      <div className="actions">
        <button type="submit">{t.saveKnowledgeSettings}</button>
      </div>
    </form>
  );
}

/** A model picker: "none" first, a model no longer listed as it is, then each group that has models. */
function ModelSelect(props: {
  field: { id: string } & ReturnType<typeof describedField>;
  label: string;
  value: string;
  onChange: (model: string) => void;
  none: string;
  unlisted: string | undefined;
  groups: ReadonlyArray<{ label: string; models: readonly string[] | undefined }>;
}) {
  return (
    <label>
      {props.label}
      <select {...props.field} value={props.value} onChange={(e) => props.onChange(e.target.value)}>
        <option value="">{props.none}</option>
        {props.unlisted && <option value={props.unlisted}>{props.unlisted}</option>}
        {props.groups.map(
          ({ label, models }) =>
            models &&
            models.length > 0 && (
              <optgroup key={label} label={label}>
                {models.map((model) => (
                  <option key={model} value={model}>
                    {model}
                  </option>
                ))}
              </optgroup>
            ),
        )}
      </select>
    </label>
  );
}
