import type { ModelsAnswer } from "./api.js";
import { useI18n } from "./i18n.js";

/**
 * Why there is no model to pick: shown instead of the chat box. How to install one (the server's
 * models folder, OLLAMA_HOST) is for administrators, and the server sends it only to them; anyone
 * else is told to ask an administrator.
 */
export function ModelGuidance({ answer }: { answer: ModelsAnswer }) {
  const { t } = useI18n();
  const guidance = answer.guidance;
  const setup = guidance?.modelsDir !== undefined;
  return (
    <section className="guidance" role="status" aria-live="polite" data-testid="model-guidance">
      <h2>{guidance?.reason === "none-allowed" ? t.noModelForYou : t.noModels}</h2>
      {!answer.reachable && <p>{t.modelServiceDown}</p>}
      {setup ? (
        <>
          <p>{t.guidanceIntro}</p>
          <ol>
            <li>
              {t.guidanceDrop} <code>{guidance?.modelsDir}</code>
            </li>
            <li>{t.guidanceOllama}</li>
            <li>{t.guidancePull}</li>
          </ol>
        </>
      ) : (
        <p>{t.askAdministrator}</p>
      )}
    </section>
  );
}
