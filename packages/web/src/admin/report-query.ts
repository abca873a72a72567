import { z } from "zod";

/**
 * The query of an administrators' report over a period (usage, answer feedback): `days` back from
 * now (1 to 366, 30 by default), as JSON or as a CSV file. Other parameters are refused, as the
 * audit log's are: a period asked for another way (`from=2026-03-01`) would otherwise be answered
 * with the last 30 days as if they were the period asked for.
 */
export const reportQuerySchema = z.strictObject({
  days: z.coerce.number().int().min(1).max(366).default(30),
  format: z.enum(["json", "csv"]).default("json"),
});

/** Where a report of the last `days` days begins (an ISO time, as records are stored). */
export function periodStart(days: number): string {
  return new Date(Date.now() - days * 86_400_000).toISOString();
}
