import {
  type AnswerRating,
  FEEDBACK_COMMENT_MAX_CHARS,
  type AnswerFeedback as Feedback,
} from "@hearth/contracts/answer-feedback";
import { useEffect, useId, useRef, useState } from "react";
import { cancelOnEscape } from "./focus.js";
import { fill, useI18n } from "./i18n.js";
import { LineIcon } from "./line-icon.js";
import { ActionError, useAction } from "./use-action.js";

/** What an answer's rating becomes: a rating with its comment (null: none), or none (taken back). */
export type FeedbackChange = { rating: AnswerRating; comment?: string | null } | null;

/**
 * An answer's feedback, in its action row: thumbs up and down, toggle buttons (pressing the pressed
 * one takes the rating back). A rating given opens a small box for an optional comment, with Save
 * and Skip (Escape skips too), saying what administrators see; closed, the comment saved is shown
 * with a button to write or change it. `onRate` stores a change (the conversation then carries it).
 */
export function AnswerFeedback(props: {
  feedback: Feedback | undefined;
  onRate(change: FeedbackChange): Promise<void>;
}) {
  const { t } = useI18n();
  const id = useId();
  const { error, run } = useAction();
  const [commenting, setCommenting] = useState(false);
  const [draft, setDraft] = useState("");
  /** Said to screen readers once a comment is saved. */
  const [said, setSaid] = useState("");
  const box = useRef<HTMLTextAreaElement>(null);
  const buttons = { up: useRef<HTMLButtonElement>(null), down: useRef<HTMLButtonElement>(null) };
  const rating = props.feedback?.rating;
  const comment = props.feedback?.comment ?? null;
  useEffect(() => {
    if (commenting) box.current?.focus();
  }, [commenting]);

  const open = () => {
    setDraft(comment ?? "");
    setSaid("");
    setCommenting(true);
  };
  /** The box closes; focus goes back to the rating's button. */
  const close = () => {
    setCommenting(false);
    if (rating) buttons[rating].current?.focus();
  };
  const press = async (pressed: AnswerRating) => {
    // A rating changed keeps its comment (the box opens with it, to be changed or saved as it is).
    const change = pressed === rating ? null : { rating: pressed, comment };
    if (!(await run(() => props.onRate(change)))) return;
    setSaid("");
    if (change) {
      setDraft(comment ?? "");
      setCommenting(true);
    } else setCommenting(false);
  };
  const save = async () => {
    if (!rating) return;
    if (!(await run(() => props.onRate({ rating, comment: draft.trim() || null })))) return;
    close();
    setSaid(t.feedbackSaved);
  };

  return (
    <>
      {(["up", "down"] as const).map((each) => {
        const label = each === "up" ? t.goodAnswer : t.badAnswer;
        return (
          <button
            key={each}
            type="button"
            ref={buttons[each]}
            className={`small rate-${each}`}
            aria-label={label}
            title={label}
            aria-pressed={rating === each}
            onClick={() => void press(each)}
          >
            <Thumb down={each === "down"} />
          </button>
        );
      })}
      {rating && !commenting && (
        <button type="button" className="small" onClick={open}>
          {comment ? t.editComment : t.addComment}
        </button>
      )}
      <span className="visually-hidden" role="status">
        {said}
      </span>
      {rating && commenting ? (
        <form
          className="feedback-form"
          onSubmit={(event) => {
            event.preventDefault();
            void save();
          }}
        >
          <label htmlFor={`${id}-comment`}>
            {rating === "down" ? t.feedbackWhatWrong : t.feedbackWhatGood}
          </label>
          <textarea
            id={`${id}-comment`}
            ref={box}
            rows={2}
            maxLength={FEEDBACK_COMMENT_MAX_CHARS}
            value={draft}
            aria-describedby={`${id}-seen-by`}
            onChange={(event) => setDraft(event.target.value)}
            onKeyDown={cancelOnEscape(close)}
          />
          <p id={`${id}-seen-by`} className="muted">
            {t.feedbackSeenBy}
          </p>
          <div className="feedback-form-buttons">
            <button type="submit">{t.save}</button>
            <button type="button" onClick={close}>
              {t.feedbackSkip}
            </button>
          </div>
          <ActionError error={error} />
        </form>
      ) : (
        <>
          {comment && (
            <p className="feedback-comment muted">
              {fill(t.fieldValue, { field: t.yourComment, value: comment })}
            </p>
          )}
          {error ? (
            <div className="feedback-comment">
              <ActionError error={error} />
            </div>
          ) : null}
        </>
      )}
    </>
  );
}

/** A thumb up (or down). */
function Thumb({ down }: { down: boolean }) {
  return (
    <LineIcon size={14}>
      <g transform={down ? "rotate(180 12 12)" : undefined}>
        <path d="M2 10h4v11H2z" />
        <path d="M6 10l4-7a2 2 0 0 1 3 2l-1 5h6.5a2 2 0 0 1 2 2.4l-1.4 7a2 2 0 0 1-2 1.6H6" />
      </g>
    </LineIcon>
  );
}
