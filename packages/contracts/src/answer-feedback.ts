/**
 * Answer feedback: a user's thumbs up or down on an answer of their own conversation, with an
 * optional comment, as the web service stores it and the web UI shows it; and the administrators'
 * report of it. Free of other imports, so the UI bundles it alone (`@hearth/contracts/answer-feedback`).
 */

/** The ratings an answer may be given. */
export const ANSWER_RATINGS = ["up", "down"] as const;
export type AnswerRating = (typeof ANSWER_RATINGS)[number];

/** The longest comment, in characters (counted as every Hearth text limit is: text-length.ts). */
export const FEEDBACK_COMMENT_MAX_CHARS = 1000;

/** An answer's rating as its conversation gives it (`feedback` of the message). */
export interface AnswerFeedback {
  rating: AnswerRating;
  /** Null: none given. */
  comment: string | null;
  /** When it was last given or changed. */
  ratedAt: string;
}

/** One model's ratings over the report's period. */
export interface ModelFeedback {
  /** The model that wrote the rated answers (null: an answer stored without one, an import's). */
  model: string | null;
  up: number;
  down: number;
  /** up / (up + down), from 0 to 1. */
  upShare: number;
}

/** A rating with a comment, as the report lists the latest. */
export interface FeedbackComment {
  username: string;
  ratedAt: string;
  model: string | null;
  rating: AnswerRating;
  comment: string;
  /** The start of the rated answer as it was when rated (its first 500 characters). */
  answerStart: string;
}

/** `GET /api/admin/feedback`: the ratings given since `since`, per model, and the latest comments. */
export interface FeedbackReport {
  since: string;
  models: ModelFeedback[];
  comments: FeedbackComment[];
}
