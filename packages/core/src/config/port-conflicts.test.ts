import { describe, expect, it } from "vitest";
import { loadConfig } from "./load-config.js";
import { checkPortConflicts } from "./port-conflicts.js";

const ALL = ["model", "search", "knowledge", "web"] as const;
const config = (env: Record<string, string>) => loadConfig({ env, cwd: "/tmp" });

describe("services on one port", () => {
  it("refuses two services started together on the same port, naming both settings", () => {
    const same = config({ HEARTH_MODEL_PORT: "8080", HEARTH_PORT: "8080" });
    expect(() => checkPortConflicts(same, ALL)).toThrow(
      expect.objectContaining({
        code: "CONFIG_INVALID",
        message: expect.stringMatching(
          /^HEARTH_MODEL_PORT \(model\.port\) and HEARTH_PORT \(web\.port\) are both 8080, .*give each service its own port/,
        ),
      }),
    );
  });

  it("allows the same port on two addresses of this machine", () => {
    const apart = config({
      HEARTH_MODEL_PORT: "8080",
      HEARTH_MODEL_HOST: "127.0.0.1",
      HEARTH_PORT: "8080",
      HEARTH_HOST: "192.0.2.10",
    });
    expect(() => checkPortConflicts(apart, ALL)).not.toThrow();
  });

  it("lets one service of a container use a port another service has elsewhere", () => {
    // `hearth serve model` in its container: the web service's port is another container's business.
    const model = config({ HEARTH_MODEL_PORT: "8080", HEARTH_PORT: "8080" });
    expect(() => checkPortConflicts(model, ["model"])).not.toThrow();
    // The web container reaches the model service at its URL, on another host.
    const web = config({
      HEARTH_MODEL_PORT: "8080",
      HEARTH_PORT: "8080",
      HEARTH_MODEL_URL: "http://model:8080",
    });
    expect(() => checkPortConflicts(web, ["web"])).not.toThrow();
  });

  it("refuses a service whose port is where another is reached on this machine", () => {
    const web = config({ HEARTH_MODEL_PORT: "8080", HEARTH_PORT: "8080" });
    expect(() => checkPortConflicts(web, ["web"])).toThrow(
      expect.objectContaining({
        code: "CONFIG_INVALID",
        message: expect.stringContaining("or set HEARTH_MODEL_URL to where the model service runs"),
      }),
    );
  });

  it("accepts the defaults", () => {
    expect(() => checkPortConflicts(config({}), ALL)).not.toThrow();
  });
});
