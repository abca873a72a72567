import { describe, expect, it } from "vitest";
import { withSecretsHidden } from "./config.js";

describe("hearth config", () => {
  it("shows the configuration with every secret hidden and the rest as set", () => {
    const shown = JSON.stringify(
      withSecretsHidden({
        services: { modelUrl: "http://127.0.0.1:8081", token: "SERVICE-TOKEN-1" },
        storage: { databaseUrl: "postgres://hearth:DBPASS@db:5432/hearth" },
        alerts: {
          webhook: { kind: "wecom", url: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=WECOMKEY" },
          webhooks: [
            { kind: "slack", url: "https://hooks.slack.com/services/T0/B0/SLACKPATHSECRET" },
            {
              kind: "dingtalk",
              url: "https://oapi.dingtalk.com/robot/send?access_token=DINGTOKEN",
              secret: "SEC1",
            },
          ],
        },
        search: {
          providers: [
            {
              id: "custom",
              url: "https://search.example.com/api?q={query}&k=RAWKEY",
              headers: { Authorization: "Bearer HDRSECRET", "x-trace": "on" },
              apiKey: "APIKEY-1",
            },
          ],
        },
      }),
    );
    for (const secret of [
      "SERVICE-TOKEN-1",
      "DBPASS",
      "WECOMKEY",
      "SLACKPATHSECRET",
      "DINGTOKEN",
      "SEC1",
      "RAWKEY",
      "HDRSECRET",
      "APIKEY-1",
    ])
      expect(shown).not.toContain(secret);
    // What is not secret stays readable.
    expect(shown).toContain('"modelUrl":"http://127.0.0.1:8081"');
    expect(shown).toContain("postgres://[credentials]@db:5432/hearth");
    expect(shown).toContain("https://search.example.com/api?q=[hidden]&k=[hidden]");
    expect(shown).toContain('"kind":"dingtalk"');
    expect(shown).toContain('"Authorization":"[set]"');
  });
});
