import { z } from "zod";
import { parseAddressRange } from "../net/address-policy.js";

/** Shared field schemas for configuration sections. */
export const port = z.number().int().min(0).max(65535);
export const host = z.string().min(1);
export const httpUrl = z.url({ protocol: /^https?$/ });
/** An id named in metrics labels, API requests and logs (search providers, word lists). */
export const labelId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, "must be lowercase letters, digits, '-' or '_'");
/** A PostgreSQL connection URL. */
export const postgresUrl = z
  .string()
  .regex(/^postgres(ql)?:\/\//, "must be a postgres:// or postgresql:// URL");
/**
 * CIDR ranges (or single addresses) a fetch of a user-given URL may reach although private
 * (search.fetch.allowPrivateRanges, knowledge.allowPrivateRanges).
 */
export const addressRanges = z
  .array(
    z.string().superRefine((range, context) => {
      try {
        parseAddressRange(range);
      } catch (error) {
        context.addIssue({ code: "custom", message: (error as Error).message });
      }
    }),
  )
  .default([]);
