import { ANSWER_RATINGS, FEEDBACK_COMMENT_MAX_CHARS } from "@hearth/contracts";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { sendCsv } from "../admin/csv.js";
import { periodStart, reportQuerySchema } from "../admin/report-query.js";
import { currentUser } from "../auth/route-access.js";
import type { ContentFilter } from "../chat/content-filter.js";
import type { ConversationStore } from "../conversations/conversation-store.js";
import { limitedText } from "../text/limited-text.js";
import { readFeedbackRatings, readFeedbackReport } from "./feedback-report.js";
import { FeedbackStore } from "./feedback-store.js";

/**
 * Answer feedback: `PUT`/`DELETE /api/conversations/{id}/messages/{seq}/feedback`, the owner's thumbs
 * up or down on an answer of their conversation, with an optional comment (a session's, as every
 * conversation route: no API key opens them); the conversation carries each answer's `feedback`.
 * `GET /api/admin/feedback[?days][&format=csv]`, the administrators' report of it, as the usage
 * report is. A comment is held to the sensitive-word filter on user input (422 CONTENT_BLOCKED), as
 * every text a user saves is. Not audited: a rating changes nothing of anyone's.
 */
export function registerFeedbackRoutes(
  app: FastifyInstance,
  deps: { conversations: ConversationStore; contentFilter: ContentFilter },
) {
  const { conversations, contentFilter } = deps;
  const feedback = new FeedbackStore(conversations);
  const access = { config: { access: "user" as const } };
  const admin = { config: { access: "admin" as const } };
  const place = z.object({ id: z.string(), seq: z.coerce.number().int().min(1) });
  const rated = z.strictObject({
    rating: z.enum(ANSWER_RATINGS),
    /** Null, absent or blank: none. */
    comment: limitedText(FEEDBACK_COMMENT_MAX_CHARS, z.string().trim()).nullable().optional(),
  });
  /** The conversation is the caller's (else 404, whatever the request holds), and the answer's place. */
  const answerOf = async (user: { id: string }, params: unknown) => {
    await conversations.get(user.id, (params as { id: string }).id);
    return place.parse(params);
  };

  app.put("/api/conversations/:id/messages/:seq/feedback", access, async (request) => {
    const user = currentUser(request);
    const { id, seq } = await answerOf(user, request.params);
    const body = rated.parse(request.body);
    const comment = body.comment || null;
    if (comment) await contentFilter.checkInputs([comment]);
    return feedback.rate(user.id, id, seq, { rating: body.rating, comment });
  });

  app.delete("/api/conversations/:id/messages/:seq/feedback", access, async (request, reply) => {
    const user = currentUser(request);
    const { id, seq } = await answerOf(user, request.params);
    await feedback.remove(user.id, id, seq);
    return reply.code(204).send();
  });

  app.get("/api/admin/feedback", admin, async (request, reply) => {
    const query = reportQuerySchema.parse(request.query);
    const since = periodStart(query.days);
    if (query.format === "json") return readFeedbackReport(conversations.db, since);
    const ratings = await readFeedbackRatings(conversations.db, since);
    return sendCsv(
      reply,
      "hearth-feedback.csv",
      "rated_at,user,model,rating,comment,seq,version,versions,answer_start",
      ratings.map((r) => [
        r.ratedAt,
        r.username,
        r.model ?? "",
        r.rating,
        r.comment ?? "",
        r.seq,
        r.versionIndex ?? "",
        r.versionCount ?? "",
        r.answerStart,
      ]),
    );
  });
}
