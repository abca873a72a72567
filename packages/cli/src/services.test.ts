import { loadConfig } from "@hearth/core";
import { describe, expect, it } from "vitest";
import { dataDirWriters, SERVICE_NAMES } from "./services.js";

const config = (env: Record<string, string>) =>
  loadConfig({ env: { HEARTH_DATA_DIR: "/srv/hearth", ...env }, cwd: "/tmp" });

describe("the services that take the data dir's lock", () => {
  it("are those that write it: web on SQLite, knowledge, and model with its models dir inside", () => {
    expect(dataDirWriters(config({}), SERVICE_NAMES)).toEqual(["model", "knowledge", "web"]);
    expect(dataDirWriters(config({}), ["search"])).toEqual([]);
  });

  it("leave out web on PostgreSQL and a model service with its own models dir (replicas sharing one)", () => {
    const shared = config({
      HEARTH_DATABASE_URL: "postgres://hearth@db/hearth",
      HEARTH_MODELS_DIR: "/models",
    });
    expect(dataDirWriters(shared, SERVICE_NAMES)).toEqual(["knowledge"]);
  });
});
