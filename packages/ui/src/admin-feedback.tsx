import type { FeedbackReport } from "@hearth/contracts/answer-feedback";
import { useEffect, useState } from "react";
import { api } from "./api.js";
import { DataTable } from "./data-table.js";
import { dateTimeText, numberText } from "./display-text.js";
import { useI18n } from "./i18n.js";
import { ReportPeriod } from "./report-period.js";
import { ActionError, useAction } from "./use-action.js";

/**
 * Admin → Feedback: the users' ratings of answers over a period, per model (good, bad, the share of
 * good), and the latest comments, each with who gave it, when, the model, the rating and the start
 * of the rated answer (folded); the period's every rating as CSV.
 */
export function AdminFeedback() {
  const { t } = useI18n();
  const [days, setDays] = useState(30);
  const [report, setReport] = useState<FeedbackReport>();
  const { error, run } = useAction();
  useEffect(() => {
    void run(async () => setReport(await api<FeedbackReport>(`/api/admin/feedback?days=${days}`)));
  }, [days, run]);
  const percent = new Intl.NumberFormat(t.dateLocale, { style: "percent" });
  return (
    <section aria-labelledby="feedback-title">
      <h3 id="feedback-title">{t.feedback}</h3>
      <ReportPeriod days={days} onDays={setDays} csv="/api/admin/feedback" />
      <ActionError error={error} />
      <h4>{t.feedbackByModel}</h4>
      <DataTable label={t.feedbackByModel} columns={[t.model, t.ratedGood, t.ratedBad, t.goodShare]}>
        {report?.models.map((row) => (
          <tr key={row.model ?? ""}>
            <td className="breakable">{row.model ?? t.unknownModel}</td>
            <td>{numberText(t, row.up)}</td>
            <td>{numberText(t, row.down)}</td>
            <td>{percent.format(row.upShare)}</td>
          </tr>
        ))}
      </DataTable>
      {report?.models.length === 0 && <p className="muted">{t.noRatings}</p>}
      <h4>{t.latestComments}</h4>
      <DataTable
        label={t.latestComments}
        columns={[t.time, t.username, t.model, t.rating, t.comment, t.answer]}
        nowrap={[0]}
      >
        {report?.comments.map((row) => (
          <tr key={`${row.ratedAt}-${row.username}-${row.answerStart.slice(0, 40)}`}>
            <td className="nowrap">{dateTimeText(t, row.ratedAt)}</td>
            <td className="breakable">{row.username}</td>
            <td className="breakable">{row.model ?? t.unknownModel}</td>
            <td>{row.rating === "up" ? t.ratedGood : t.ratedBad}</td>
            <td className="breakable feedback-report-text">{row.comment}</td>
            <td className="breakable">
              <details>
                <summary>{t.showAnswer}</summary>
                <div className="feedback-report-text">{row.answerStart}</div>
              </details>
            </td>
          </tr>
        ))}
      </DataTable>
      {report?.comments.length === 0 && <p className="muted">{t.noRatingComments}</p>}
    </section>
  );
}
