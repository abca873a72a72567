import { z } from "zod";

/** Shared field schemas for configuration sections. */
export const port = z.number().int().min(0).max(65535);
export const host = z.string().min(1);
export const httpUrl = z.url({ protocol: /^https?$/ });
