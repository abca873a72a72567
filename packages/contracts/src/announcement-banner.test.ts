import { describe, expect, it } from "vitest";
import { bannerSegments, bannerShownAt } from "./announcement-banner.js";

describe("announcement banner text", () => {
  it("makes Markdown links and bare http(s) addresses links, leaving the sentence's punctuation out", () => {
    expect(
      bannerSegments(
        "维护今晚 22:00，详见 [公告](https://intranet.example/notice)。Or see https://status.example/a?b=1.",
      ),
    ).toEqual([
      { kind: "text", text: "维护今晚 22:00，详见 " },
      { kind: "link", text: "公告", href: "https://intranet.example/notice" },
      { kind: "text", text: "。Or see " },
      { kind: "link", text: "https://status.example/a?b=1", href: "https://status.example/a?b=1" },
      { kind: "text", text: "." },
    ]);
  });

  it("ends a bare address at Chinese punctuation, as Chinese writes it with no space after", () => {
    expect(
      bannerSegments(
        "详情见https://intranet.example.cn/维护，请提前保存。（备用：https://b.example.cn/x）【https://c.example.cn/y】",
      ),
    ).toEqual([
      { kind: "text", text: "详情见" },
      { kind: "link", text: "https://intranet.example.cn/维护", href: "https://intranet.example.cn/维护" },
      { kind: "text", text: "，请提前保存。（备用：" },
      { kind: "link", text: "https://b.example.cn/x", href: "https://b.example.cn/x" },
      { kind: "text", text: "）【" },
      { kind: "link", text: "https://c.example.cn/y", href: "https://c.example.cn/y" },
      { kind: "text", text: "】" },
    ]);
  });

  it("keeps HTML and other schemes as plain text", () => {
    const text = '<img src=x onerror=alert(1)> [click](javascript:alert(1)) <a href="data:text/html,x">x</a>';
    expect(bannerSegments(text)).toEqual([{ kind: "text", text }]);
  });

  it("gives plain text back whole, and nothing for no text", () => {
    expect(bannerSegments("The HR knowledge base was updated")).toEqual([
      { kind: "text", text: "The HR knowledge base was updated" },
    ]);
    expect(bannerSegments("")).toEqual([]);
  });
});

describe("a banner's time window", () => {
  const window = { startsAt: "2026-11-28T22:00:00.000Z", endsAt: "2026-11-29T02:00:00.000Z" };
  it("shows it from its start until (not at) its end", () => {
    expect(bannerShownAt(window, new Date("2026-11-28T21:59:59.999Z"))).toBe(false);
    expect(bannerShownAt(window, new Date("2026-11-28T22:00:00.000Z"))).toBe(true);
    expect(bannerShownAt(window, new Date("2026-11-29T01:59:59.999Z"))).toBe(true);
    expect(bannerShownAt(window, new Date("2026-11-29T02:00:00.000Z"))).toBe(false);
  });
  it("has no bound where none is set", () => {
    expect(bannerShownAt({ startsAt: null, endsAt: null }, new Date(0))).toBe(true);
    expect(bannerShownAt({ startsAt: null, endsAt: window.endsAt }, new Date(0))).toBe(true);
    expect(bannerShownAt({ startsAt: window.startsAt, endsAt: null }, new Date("2030-01-01"))).toBe(true);
  });
});
