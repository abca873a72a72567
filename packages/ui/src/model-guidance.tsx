import type { ModelsAnswer } from "./api.js";
import { useI18n } from "./i18n.js";

/** What to do when no model is installed: shown instead of the chat box. */
export function ModelGuidance({ answer }: { answer: ModelsAnswer }) {
  const { t } = useI18n();
  return (
    <section className="guidance" role="status" aria-live="polite" data-testid="model-guidance">
      <h2>{t.noModels}</h2>
      {!answer.reachable && <p>{t.modelServiceDown}</p>}
      <p>{t.guidanceIntro}</p>
      <ol>
        <li>
          {t.guidanceDrop} <code>{answer.guidance?.modelsDir ?? "data/models"}</code>
        </li>
        <li>{t.guidanceOllama}</li>
        <li>{t.guidancePull}</li>
      </ol>
    </section>
  );
}
