import {
  CHAT_CONTROL_LIMITS,
  CHAT_CONTROL_NAMES,
  type ChatControlLimit,
  type ChatControlName,
  type ChatControls,
  DEFAULT_CHAT_CONTROLS,
  isChatControlValue,
} from "@hearth/contracts/chat-controls";
import { useEffect, useState } from "react";
import { describedField } from "./focus.js";
import { useFoldedEditor } from "./folded-editor.js";
import { fill, type Messages, useI18n } from "./i18n.js";
import { ActionError } from "./use-action.js";

/** Each control's label and hint. */
function wordsFor(t: Messages, name: ChatControlName): { label: string; hint: string } {
  switch (name) {
    case "temperature":
      return { label: t.chatControlTemperature, hint: t.chatControlTemperatureHint };
    case "topP":
      return { label: t.chatControlTopP, hint: t.chatControlTopPHint };
    case "topK":
      return { label: t.chatControlTopK, hint: t.chatControlTopKHint };
    case "minP":
      return { label: t.chatControlMinP, hint: t.chatControlMinPHint };
    case "maxTokens":
      return { label: t.chatControlMaxTokens, hint: t.chatControlMaxTokensHint };
    case "seed":
      return { label: t.chatControlSeed, hint: t.chatControlSeedHint };
    case "frequencyPenalty":
      return { label: t.chatControlFrequencyPenalty, hint: t.chatControlFrequencyPenaltyHint };
    case "presencePenalty":
      return { label: t.chatControlPresencePenalty, hint: t.chatControlPresencePenaltyHint };
    case "repeatPenalty":
      return { label: t.chatControlRepeatPenalty, hint: t.chatControlRepeatPenaltyHint };
  }
}

/** What a value out of the control's range is told, with {min} and {max}. */
function rangeRule(t: Messages, limit: ChatControlLimit): string {
  if (limit.aboveMin) return t.chatControlAboveRange;
  return limit.integer ? t.chatControlWholeRange : t.chatControlRange;
}

type Draft = Record<ChatControlName, string>;

function draftOf(value: ChatControls): Draft {
  const draft = {} as Draft;
  for (const name of CHAT_CONTROL_NAMES) draft[name] = value[name] === null ? "" : String(value[name]);
  return draft;
}

/** The controls a draft gives (an empty field: the model's default), or the fields that are not numbers in range. */
function readDraft(draft: Draft): { controls: ChatControls } | { invalid: ChatControlName[] } {
  const controls = { ...DEFAULT_CHAT_CONTROLS };
  const invalid: ChatControlName[] = [];
  for (const name of CHAT_CONTROL_NAMES) {
    const text = draft[name].trim();
    if (text === "") continue;
    const value = Number(text);
    if (isChatControlValue(name, value)) controls[name] = value;
    else invalid.push(name);
  }
  return invalid.length > 0 ? { invalid } : { controls };
}

/** Whether any control is set (not the model's default). */
function anySet(value: ChatControls): boolean {
  return CHAT_CONTROL_NAMES.some((name) => value[name] !== null);
}

/**
 * The conversation's Chat controls (its own model parameters): one folded line under the system
 * prompt that says which are set, and opens to change them or reset them to the model's defaults;
 * an empty field is the model's default (shown as "Default"). In a new chat they are kept here
 * until the first message creates the conversation, which takes them.
 */
export function ChatControlsBar(props: {
  value: ChatControls;
  /** A new chat: nothing is stored until its first message. */
  newChat: boolean;
  /** Stores the controls; throws what the service refused. */
  onSave(controls: ChatControls): Promise<void>;
}) {
  const { t } = useI18n();
  const { open, close, save, error, summary, details, draft, setDraft, firstField } = useFoldedEditor<
    ChatControls,
    Draft,
    HTMLInputElement
  >(props.value, draftOf, props.onSave);
  const [invalid, setInvalid] = useState<ChatControlName[]>([]);
  const { value } = props;
  // Closing forgets the draft's errors with it.
  useEffect(() => {
    if (!open) setInvalid([]);
  }, [open]);
  const submit = () => {
    const read = readDraft(draft);
    if ("invalid" in read) {
      setInvalid(read.invalid);
      document.getElementById(`chat-control-${read.invalid[0]}`)?.focus();
      return;
    }
    setInvalid([]);
    void save(read.controls);
  };
  const shown = CHAT_CONTROL_NAMES.filter((name) => value[name] !== null)
    .map((name) => fill(t.chatControlValue, { field: wordsFor(t, name).label, value: String(value[name]) }))
    .join(t.chatControlsSeparator);
  return (
    <details className="chat-controls" {...details}>
      <summary ref={summary}>
        {fill(t.fieldValue, { field: t.chatControls, value: shown || t.chatControlsDefaults })}
      </summary>
      <form
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          submit();
        }}
      >
        <p id="chat-controls-hint" className="muted">
          {t.chatControlsHint}
        </p>
        {props.newChat && (
          <p id="chat-controls-new-chat" className="muted">
            {t.chatControlsNewChatHint}
          </p>
        )}
        <div className="chat-controls-fields">
          {CHAT_CONTROL_NAMES.map((name, index) => {
            const limit = CHAT_CONTROL_LIMITS[name];
            const words = wordsFor(t, name);
            const id = `chat-control-${name}`;
            const wrong = invalid.includes(name);
            return (
              <div key={name} className="chat-control">
                <label htmlFor={id}>{words.label}</label>
                <input
                  id={id}
                  ref={index === 0 ? firstField : undefined}
                  type="number"
                  inputMode={limit.integer ? "numeric" : "decimal"}
                  min={limit.min}
                  max={limit.max}
                  step={limit.step}
                  placeholder={t.chatControlDefault}
                  value={draft[name]}
                  {...describedField(wrong, `${id}-hint`, `${id}-error`)}
                  onChange={(event) => setDraft({ ...draft, [name]: event.target.value })}
                />
                <p id={`${id}-hint`} className="muted field-hint">
                  {words.hint}
                </p>
                {wrong && (
                  <p id={`${id}-error`} className="error-text">
                    {fill(rangeRule(t, limit), { min: limit.min, max: limit.max })}
                  </p>
                )}
              </div>
            );
          })}
        </div>
        <ActionError error={error} />
        <div className="form-buttons">
          <button type="submit" className="small">
            {t.save}
          </button>
          {(anySet(value) || CHAT_CONTROL_NAMES.some((name) => draft[name].trim() !== "")) && (
            <button type="button" className="small" onClick={() => void save(DEFAULT_CHAT_CONTROLS)}>
              {t.resetToDefaults}
            </button>
          )}
          <button type="button" className="small" onClick={close}>
            {t.cancel}
          </button>
        </div>
      </form>
    </details>
  );
}
