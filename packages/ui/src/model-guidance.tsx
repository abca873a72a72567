import type { ModelsAnswer, SkippedModelFile } from "./api.js";
import { fill, type Messages, useI18n } from "./i18n.js";

/** The command the no-model card offers, shown as code. */
const PULL_COMMAND = "hearth models pull deepseek-r1:1.5b";

/** Why there is no model to send to, as a heading: the model service down, none for this user, or none installed. */
export function noModelReason(t: Messages, answer: ModelsAnswer): string {
  if (!answer.reachable) return t.modelServiceUnreachable;
  return answer.guidance?.reason === "none-allowed" ? t.noModelForYou : t.noModels;
}

/**
 * Why there is no model to pick: shown instead of a new chat's box. While the model service cannot
 * be reached, only that (the page asks again on its own); else how to install one (the server's
 * models folder, OLLAMA_HOST, the files there it skips and why), for administrators, whom alone the
 * server sends it; anyone else is told to ask an administrator.
 */
export function ModelGuidance({ answer }: { answer: ModelsAnswer }) {
  const { t } = useI18n();
  const guidance = answer.guidance;
  const setup = guidance?.modelsDir !== undefined;
  const skipped = guidance?.skippedFiles ?? [];
  const [before, after] = t.guidancePull.split("{command}");
  return (
    <section className="guidance" role="status" aria-live="polite" data-testid="model-guidance">
      <h2>{noModelReason(t, answer)}</h2>
      {!answer.reachable ? (
        <p>{t.modelServiceRetrying}</p>
      ) : setup ? (
        <>
          <SkippedModelFiles files={skipped} />
          <p>{t.guidanceIntro}</p>
          <ol>
            <li>
              {t.guidanceDrop} <code>{guidance?.modelsDir}</code>
            </li>
            <li>{t.guidanceOllama}</li>
            <li>
              {before}
              <code>{PULL_COMMAND}</code>
              {after}
            </li>
          </ol>
        </>
      ) : (
        <p>{t.askAdministrator}</p>
      )}
    </section>
  );
}

/**
 * The models folder's files that are not served, each with why and what to do (a name to rename it
 * to, or where its link points), on the no-model card and the Models tab; nothing when there are none.
 */
export function SkippedModelFiles({ files }: { files: SkippedModelFile[] }) {
  const { t } = useI18n();
  if (files.length === 0) return null;
  return (
    <>
      <p>{t.skippedFilesIntro}</p>
      <ul className="skipped-files">
        {files.map((file) => (
          <li key={file.file}>
            <code>{file.file}</code>{" "}
            {file.reason === "not-a-model-name"
              ? fill(t.skippedNotModelName, { suggested: file.suggestedFile })
              : fill(t.skippedLinkTargetMissing, { target: file.target })}
          </li>
        ))}
      </ul>
    </>
  );
}
