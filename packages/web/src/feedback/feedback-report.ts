import type { AnswerRating, FeedbackComment, FeedbackReport, ModelFeedback } from "@hearth/contracts";
import type { WebDatabase } from "../storage/open-database.js";

/** How many of the latest comments the report lists. */
export const REPORT_COMMENTS = 50;

/** A rating as the report's CSV lists it: one line each. */
export interface FeedbackRating {
  ratedAt: string;
  username: string;
  model: string | null;
  rating: AnswerRating;
  comment: string | null;
  seq: number;
  /** Which of the versions at its place the answer was when rated, of how many; null: the only one. */
  versionIndex: number | null;
  versionCount: number | null;
  answerStart: string;
}

/**
 * The ratings given (or last changed) since `since`: per model, up and down with the share of up,
 * the most rated first; and the latest REPORT_COMMENTS that came with a comment, newest first.
 */
export async function readFeedbackReport(db: WebDatabase, since: string): Promise<FeedbackReport> {
  const counts = await db
    .selectFrom("message_feedback")
    .select((eb) => ["model", "rating", eb.fn.countAll<number>().as("n")])
    .where("rated_at", ">", since)
    .groupBy(["model", "rating"])
    .execute();
  const perModel = new Map<string | null, { up: number; down: number }>();
  for (const { model, rating, n } of counts) {
    const tally = perModel.get(model) ?? { up: 0, down: 0 };
    tally[rating] += Number(n);
    perModel.set(model, tally);
  }
  const models: ModelFeedback[] = [...perModel]
    .map(([model, { up, down }]) => ({ model, up, down, upShare: up / (up + down) }))
    .sort((a, b) => b.up + b.down - (a.up + a.down) || (a.model ?? "").localeCompare(b.model ?? ""));
  const comments = await ratingsSince(db, since)
    .where("message_feedback.comment", "is not", null)
    .limit(REPORT_COMMENTS)
    .execute();
  return {
    since,
    models,
    comments: comments.map(
      ({ username, ratedAt, model, rating, comment, answerStart }): FeedbackComment => ({
        username,
        ratedAt,
        model,
        rating,
        comment: comment ?? "",
        answerStart,
      }),
    ),
  };
}

/** The ratings given (or last changed) since `since`, with their raters' names, newest first. */
function ratingsSince(db: WebDatabase, since: string) {
  return db
    .selectFrom("message_feedback")
    .innerJoin("users", "users.id", "message_feedback.user_id")
    .select([
      "message_feedback.rated_at as ratedAt",
      "users.username as username",
      "message_feedback.model as model",
      "message_feedback.rating as rating",
      "message_feedback.comment as comment",
      "message_feedback.seq as seq",
      "message_feedback.version_index as versionIndex",
      "message_feedback.version_count as versionCount",
      "message_feedback.answer_start as answerStart",
    ])
    .where("message_feedback.rated_at", ">", since)
    .orderBy("message_feedback.rated_at", "desc")
    .orderBy("message_feedback.message_id");
}

/** Every rating given (or last changed) since `since`, newest first: the report's CSV. */
export async function readFeedbackRatings(db: WebDatabase, since: string): Promise<FeedbackRating[]> {
  const rows = await ratingsSince(db, since).execute();
  return rows.map((row) => ({
    ...row,
    seq: Number(row.seq),
    versionIndex: row.versionIndex === null ? null : Number(row.versionIndex),
    versionCount: row.versionCount === null ? null : Number(row.versionCount),
  }));
}
