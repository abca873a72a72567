import { z } from "zod";
import { alertsSection } from "./alerts-section.js";
import { knowledgeSection } from "./knowledge-section.js";
import { modelSection } from "./model-section.js";
import { searchSection } from "./search-section.js";
import { servicesSection } from "./services-section.js";
import { webSection } from "./web-section.js";

export const configSchema = z.strictObject({
  /** Everything Hearth stores lives under this directory. */
  dataDir: z.string().min(1).default("./data"),
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  web: webSection.prefault({}),
  model: modelSection.prefault({}),
  search: searchSection.prefault({}),
  knowledge: knowledgeSection.prefault({}),
  services: servicesSection.prefault({}),
  alerts: alertsSection.prefault({}),
});

export type ConfigInput = z.input<typeof configSchema>;
type ParsedConfig = z.output<typeof configSchema>;

/** The validated configuration with every path resolved and every service URL filled in. */
export type HearthConfig = Readonly<
  Omit<ParsedConfig, "model" | "services"> & {
    configFile: string | undefined;
    model: Readonly<ParsedConfig["model"] & { modelsDir: string }>;
    services: Readonly<{
      modelUrl: string;
      searchUrl: string;
      knowledgeUrl: string;
      token: string | undefined;
    }>;
  }
>;
