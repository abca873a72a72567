import { describe, expect, it } from "vitest";
import { originAllowed } from "./origin-policy.js";

describe("originAllowed", () => {
  it("allows pages on this machine and desktop apps, and no other site, unless configured", () => {
    const allowed = originAllowed([]);
    for (const origin of [
      "http://localhost",
      "http://localhost:3000",
      "https://127.0.0.1:8443",
      "http://[::1]:5173",
      "app://chatbox",
      "file://",
      "tauri://localhost",
      "vscode-webview://1a2b3c",
    ])
      expect(allowed(origin), origin).toBe(true);
    for (const origin of [
      "https://evil.example",
      "http://localhost.evil.example",
      "http://127.0.0.1.nip.io",
      "null",
    ])
      expect(allowed(origin), origin).toBe(false);
  });

  it("adds configured origins, with `*` standing for part of a host or port, and `*` alone for any", () => {
    const allowed = originAllowed(["https://chat.example.com", "https://*.corp.example"]);
    expect(allowed("https://chat.example.com")).toBe(true);
    expect(allowed("https://chat.example.com:8443")).toBe(false);
    expect(allowed("https://wiki.corp.example")).toBe(true);
    expect(allowed("https://corp.example")).toBe(false);
    expect(allowed("https://evil.example/.corp.example")).toBe(false);
    expect(originAllowed(["*"])("https://anything.example")).toBe(true);
  });
});
