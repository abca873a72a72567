import { fill, useI18n } from "./i18n.js";

/** The periods (in days back from now) an administrators' report offers. */
const REPORT_DAYS = [1, 7, 30, 90, 366] as const;

/**
 * The period of an administrators' report (usage, feedback), and the link to its CSV for that
 * period (`csv`: the report's path, given `?format=csv&days=` here).
 */
export function ReportPeriod(props: { days: number; onDays(days: number): void; csv: string }) {
  const { t } = useI18n();
  return (
    <div className="inline-form">
      <label>
        {t.usageDays}{" "}
        <select value={props.days} onChange={(e) => props.onDays(Number(e.target.value))}>
          {REPORT_DAYS.map((n) => (
            <option key={n} value={n}>
              {n === 1 ? t.usageLastDay : fill(t.usageDaysOption, { n })}
            </option>
          ))}
        </select>
      </label>
      <a href={`${props.csv}?format=csv&days=${props.days}`} download>
        {t.exportCsv}
      </a>
    </div>
  );
}
