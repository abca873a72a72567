import { KNOWLEDGE_BASE_NAME_MAX_CHARS } from "@hearth/contracts/knowledge-base-name";
import { type FormEvent, useState } from "react";
import { api, type ModelsAnswer } from "./api.js";
import { fill, useI18n } from "./i18n.js";

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

/** The knowledge service's limits on chunking (contracts: createKnowledgeBaseRequestSchema). */
const CHUNK_TOKENS = { min: 32, max: 8192 };
const OVERLAP_TOKENS = { min: 0, max: 4096 };
const DESCRIPTION_MAX_CHARS = 4000;
/** A minimum relevance's range and the step it is set in (contracts: minRelevanceSchema). */
const MIN_RELEVANCE = { min: 0, max: 1, step: 0.01 };

/** A minimum relevance's field, as typed: the settings' (saved) and the retrieval test's (tried). */
export function MinRelevanceField(props: { value: string; onChange: (value: string) => void }) {
  const { t } = useI18n();
  return (
    <label>
      {t.minRelevance}
      <input
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

/**
 * A base's settings, for its manager (Dify's and RAGFlow's knowledge settings): name, description,
 * embedding model (none: full text only), chunk size and overlap in tokens, the minimum relevance
 * of the passages chats are given, the rerank model that orders them (none: search order), and for
 * administrators the server folder it mirrors. A change of embedding model or chunking indexes
 * every document again, which is asked first when there are documents; the base stays searchable
 * meanwhile. The minimum relevance and the rerank model apply from the next question.
 */
export function KnowledgeBaseSettingsForm(props: {
  knowledgeBase: KnowledgeBaseSettings;
  /** How many documents the base holds now (the page's list, newer than the base's own count). */
  documentCount: number;
  admin: boolean;
  /** The models the user may use, as the app read them (undefined while it reads them). */
  models: ModelsAnswer | undefined;
  run(action: () => Promise<unknown>): Promise<boolean>;
  onSaved(notice: string): Promise<unknown>;
}) {
  const { t } = useI18n();
  const { knowledgeBase: base, admin, run } = props;
  const [name, setName] = useState(base.name);
  const [description, setDescription] = useState(base.description ?? "");
  const [embeddingModel, setEmbeddingModel] = useState(base.embeddingModel ?? "");
  const [maxTokens, setMaxTokens] = useState(String(base.chunking?.maxTokens ?? ""));
  const [overlapTokens, setOverlapTokens] = useState(String(base.chunking?.overlapTokens ?? ""));
  const [watchFolder, setWatchFolder] = useState(base.watchFolder ?? "");
  const [minRelevance, setMinRelevance] = useState(String(base.minRelevance ?? 0));
  const [rerankModel, setRerankModel] = useState(base.rerankModel ?? "");
  // The models the app listed for its pickers: embedding models and rerankers apart, each offered
  // first where it fits.
  const models = props.models && {
    embedding: (props.models.embeddingModels ?? []).map((model) => model.id),
    rerank: (props.models.rerankModels ?? []).map((model) => model.id),
    chat: props.models.models.map((model) => model.id),
  };

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
    if (Object.keys(change).length === 0) return props.onSaved(t.knowledgeSettingsUnchanged);
    const documents = props.documentCount;
    if (
      reindexes(change) &&
      documents > 0 &&
      !window.confirm(fill(t.knowledgeSettingsReindexConfirm, { n: documents }))
    )
      return;
    let reindexing = false;
    const saved = await run(async () => {
      const answer = await api<{ reindexJobId?: string }>(
        `/api/knowledge-bases/${encodeURIComponent(base.id)}`,
        {
          method: "PATCH",
          body: change,
        },
      );
      reindexing = Boolean(answer.reindexJobId);
    });
    if (saved)
      await props.onSaved(reindexing ? t.knowledgeSettingsSavedReindexing : t.knowledgeSettingsSaved);
  };

  // A model no longer listed (removed, or not this user's) stays choosable as it is.
  const listed = [...(models?.embedding ?? []), ...(models?.rerank ?? []), ...(models?.chat ?? [])];
  const unlistedOf = (model: string | null | undefined) =>
    model && models && !listed.includes(model) ? model : undefined;
  const unlisted = unlistedOf(base.embeddingModel);
  const unlistedReranker = unlistedOf(base.rerankModel);
  return (
    <form className="page-form knowledge-settings" onSubmit={save} aria-label={t.knowledgeSettings}>
      <label>
        {t.name}
        <input
          value={name}
          maxLength={KNOWLEDGE_BASE_NAME_MAX_CHARS}
          onChange={(e) => setName(e.target.value)}
          required
        />
      </label>
      <label>
        {t.knowledgeDescription}
        <textarea
          value={description}
          rows={2}
          maxLength={DESCRIPTION_MAX_CHARS}
          onChange={(e) => setDescription(e.target.value)}
        />
      </label>
      <ModelSelect
        label={t.embeddingModel}
        value={embeddingModel}
        onChange={setEmbeddingModel}
        none={t.embeddingModelNone}
        unlisted={unlisted}
        groups={[
          { label: t.embeddingModelsGroup, models: models?.embedding },
          { label: t.chatModelsGroup, models: models?.chat },
        ]}
      />
      <p className="muted">{t.embeddingModelHint}</p>
      <div className="inline-form">
        <label>
          {t.chunkTokens}
          <input
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
            type="number"
            min={OVERLAP_TOKENS.min}
            max={Math.min(OVERLAP_TOKENS.max, Math.max(0, Number(maxTokens) - 1))}
            value={overlapTokens}
            onChange={(e) => setOverlapTokens(e.target.value)}
            required
          />
        </label>
      </div>
      <div className="inline-form">
        <MinRelevanceField value={minRelevance} onChange={setMinRelevance} />
      </div>
      <p className="muted">{t.minRelevanceHint}</p>
      {/* Other models may rerank too (an OpenAI-compatible server's reranker is listed as any of
          its models): the knowledge service checks the one chosen. */}
      <ModelSelect
        label={t.rerankModel}
        value={rerankModel}
        onChange={setRerankModel}
        none={t.rerankModelNone}
        unlisted={unlistedReranker}
        groups={[
          { label: t.rerankModelsGroup, models: models?.rerank },
          { label: t.otherModelsGroup, models: models?.chat },
        ]}
      />
      <p className="muted">{t.rerankModelHint}</p>
      {admin && (
        <label>
          {t.watchFolder}
          <input value={watchFolder} onChange={(e) => setWatchFolder(e.target.value)} />
        </label>
      )}
      {admin && <p className="muted">{t.watchFolderHint}</p>}
      <div className="actions">
        <button type="submit">{t.saveKnowledgeSettings}</button>
      </div>
    </form>
  );
}

/** A model picker: "none" first, a model no longer listed as it is, then each group that has models. */
function ModelSelect(props: {
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
      <select value={props.value} onChange={(e) => props.onChange(e.target.value)}>
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
