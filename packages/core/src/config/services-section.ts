import { z } from "zod";
import { httpUrl } from "./fields.js";

/** Where services find each other; defaults are the other sections' ports on loopback. */
export const servicesSection = z.strictObject({
  modelUrl: httpUrl.optional(),
  searchUrl: httpUrl.optional(),
  knowledgeUrl: httpUrl.optional(),
  /** Shared secret that services present to each other (hybrid deployments). */
  token: z.string().min(16).optional(),
});
