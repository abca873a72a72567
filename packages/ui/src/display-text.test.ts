import { providerStatusSchema } from "@hearth/contracts";
import { ERROR_CODES } from "@hearth/core";
import { describe, expect, it } from "vitest";
import {
  answerFailureNote,
  answerFailureText,
  auditDetailsLines,
  changelogText,
  citationLabels,
  documentStatusText,
  errorText,
  fileSizeText,
  groundingWarningText,
  groundingWarningTitle,
  knowledgeBaseBadgeText,
  knowledgeBaseLabel,
  numberText,
  providerOutcomeText,
  providerStandingText,
  pullStepText,
  quotaResetText,
  serviceReadinessText,
  versionSwitchText,
  viewPassagesText,
  wordListText,
} from "./display-text.js";
import { MESSAGES } from "./i18n.js";

const en = MESSAGES.en;
const zh = MESSAGES["zh-CN"];

describe("why an import skipped a conversation, in the reader's language", () => {
  it("words every reason the service gives, a refused word's included, in English and Chinese", () => {
    const reasons = ["empty", "unreadable", "message-too-long", "content-blocked", "unstorable"];
    expect(Object.keys(en.importSkipReasons).sort()).toEqual([...reasons].sort());
    expect(Object.keys(zh.importSkipReasons).sort()).toEqual([...reasons].sort());
    expect(en.importSkipReasons["content-blocked"]).toMatch(/word this site does not allow/);
    expect(zh.importSkipReasons["content-blocked"]).toMatch(/本站不允许的词语/);
  });
});

describe("grounding warnings in the reader's language", () => {
  it("words a web search a block word list refused apart from one that failed, in English and Chinese", () => {
    expect(Object.keys(zh.groundingWarnings).sort()).toEqual(Object.keys(en.groundingWarnings).sort());
    expect(en.groundingWarnings["search-blocked"]).toMatch(/content policy/);
    expect(zh.groundingWarnings["search-blocked"]).toMatch(/内容策略/);
  });

  it("words an answer some search engines failed for apart from one web search failed for", () => {
    const partial = { code: "search-partial" };
    expect(groundingWarningText(en, partial)).toBe(
      "Some web search engines did not answer (failed, timed out or rate-limited): this answer uses the web results of the others.",
    );
    expect(groundingWarningText(zh, partial)).toMatch(/^部分搜索引擎未能响应.*其余搜索引擎的网页结果/);
  });
});

describe("why web search failed, and what the context had no room for, in the reader's language", () => {
  it("words a rate limit with its wait, a timeout, an unreachable service and other failures by code", () => {
    const limited = { code: "search-unavailable", errorCode: "SEARCH_RATE_LIMITED", reason: "rate-limited" };
    expect(groundingWarningText(en, { ...limited, retryAfterSeconds: 30 })).toMatch(
      /search engines are rate-limiting; try again in 30 s/,
    );
    expect(groundingWarningText(zh, { ...limited, retryAfterSeconds: 30 })).toMatch(/限流，请 30 秒后再试/);
    expect(groundingWarningText(en, limited)).toMatch(/rate-limiting; try again later/);
    const timedOut = {
      code: "search-unavailable",
      errorCode: "SEARCH_ALL_PROVIDERS_FAILED",
      reason: "timeout",
    };
    expect(groundingWarningText(en, timedOut)).toMatch(/did not answer in time/);
    expect(groundingWarningText(zh, timedOut)).toMatch(/未能及时响应/);
    const down = { code: "search-unavailable", errorCode: "UPSTREAM_UNAVAILABLE", reason: "unreachable" };
    expect(groundingWarningText(en, down)).toMatch(/could not be reached/);
    expect(groundingWarningText(zh, down)).toMatch(/无法连接搜索服务/);
    const other = { code: "search-unavailable", errorCode: "SEARCH_ALL_PROVIDERS_FAILED", reason: "failed" };
    // A sentence, no raw code: the code is in the tooltip only.
    expect(groundingWarningText(en, other)).toBe(
      "Web search failed for this answer: none of the search engines could answer. It was written without web results.",
    );
    expect(groundingWarningText(zh, other)).toBe(
      "联网搜索失败：所有搜索引擎都未能给出结果。本回答未使用网页结果。",
    );
    expect(groundingWarningTitle(en, other)).toBe("Error code: SEARCH_ALL_PROVIDERS_FAILED");
    expect(groundingWarningTitle(zh, other)).toBe("错误代码：SEARCH_ALL_PROVIDERS_FAILED");
    for (const warning of [other, timedOut, down, limited, { code: "search-not-configured" }])
      for (const messages of [en, zh])
        expect(groundingWarningText(messages, warning)).not.toMatch(/[A-Z]+_[A-Z_]+/);
    expect(groundingWarningTitle(en, { code: "search-not-configured" })).toBe(
      "Error code: SEARCH_NO_PROVIDERS",
    );
    expect(groundingWarningTitle(en, { code: "sources-trimmed" })).toBeUndefined();
    // From a service that says no reason: as before.
    expect(groundingWarningText(en, { code: "search-unavailable" })).toBe(
      en.groundingWarnings["search-unavailable"],
    );
  });

  it("counts the sources of each kind left out", () => {
    const trimmed = (knowledge: number, web: number) => ({
      code: "sources-trimmed",
      leftOut: { knowledge, web },
    });
    expect(groundingWarningText(en, trimmed(3, 1))).toBe(
      "Left out of this answer for lack of room in the model's context: 3 knowledge passages and 1 web result.",
    );
    expect(groundingWarningText(en, trimmed(1, 0))).toBe(
      "Left out of this answer for lack of room in the model's context: 1 knowledge passage.",
    );
    expect(groundingWarningText(zh, trimmed(3, 2))).toBe(
      "模型的上下文容不下全部来源，本回答未用到其中的 3 段知识库内容和 2 条网页结果。",
    );
    expect(Object.keys(zh.searchFailures).sort()).toEqual(Object.keys(en.searchFailures).sort());
  });
});

describe("error codes in the reader's language", () => {
  // Start-up failures end the process, and backups and alerts are the CLI's and the log's: no page shows them.
  const notShown = new Set([
    "BACKUP_FAILED",
    "BACKUP_IN_PROGRESS",
    "BACKUP_INVALID",
    "BACKUP_CORRUPT",
    "BACKUP_TOO_NEW",
    "RESTORE_FAILED",
    "ALERT_DELIVERY_FAILED",
  ]);
  const shown = Object.entries(ERROR_CODES)
    .filter(([code, entry]) => !("exit" in entry) && !notShown.has(code))
    .map(([code]) => code);

  it("has English and Chinese words for every code a page can be answered with", () => {
    expect(shown.filter((code) => !en.errorCodes[code])).toEqual([]);
    expect(shown.filter((code) => !zh.errorCodes[code])).toEqual([]);
    expect(Object.keys(zh.errorCodes).sort()).toEqual(Object.keys(en.errorCodes).sort());
  });

  it("names the refused words after a refusal, in the reader's language", () => {
    const details = { words: ["机密", "炸药"] };
    expect(errorText(zh, "CONTENT_BLOCKED", "The message contains blocked words: 机密, 炸药", details)).toBe(
      "消息中含有本站不允许的词语。被拒绝的词：机密、炸药",
    );
    expect(errorText(en, "CONTENT_BLOCKED", "", details)).toBe(
      "The message contains a word this site does not allow. Refused: 机密, 炸药",
    );
  });

  it("names the refused field of a name, in the reader's language", () => {
    const details = { field: "name", words: ["机密"] };
    expect(errorText(zh, "CONTENT_BLOCKED", "The name contains blocked words: 机密", details)).toBe(
      "名称中含有本站不允许的词语。被拒绝的词：机密",
    );
    expect(errorText(en, "CONTENT_BLOCKED", "", { field: "title", words: ["x"] })).toBe(
      "The title contains a word this site does not allow. Refused: x",
    );
    expect(errorText(en, "CONTENT_BLOCKED", "", { field: "username", words: ["x"] })).toBe(
      "The user name contains a word this site does not allow. Refused: x",
    );
  });

  it("says how long a refused message is and the limit it is over, in the reader's language", () => {
    const details = { maxChars: 100_000, chars: 100_312 };
    const message = "A message may have at most 100000 characters; this one has 100312";
    expect(errorText(en, "MESSAGE_TOO_LONG", message, details)).toBe(
      "The message is too long: 100,312 characters, 312 more than the limit of 100,000.",
    );
    expect(errorText(zh, "MESSAGE_TOO_LONG", message, details)).toBe(
      "消息过长：共 100,312 字，比上限 100,000 字多 312 字。",
    );
    // An older service's refusal, without details: as before.
    expect(errorText(en, "MESSAGE_TOO_LONG", "A message may have at most 100000 characters")).toBe(
      "The message is too long.",
    );
  });

  it("says the largest file taken when one is refused as too large, in the reader's language", () => {
    const details = { maxBytes: 100 * 1024 * 1024 };
    const message = "The file is larger than the limit of 104857600 bytes (knowledge.maxUploadBytes)";
    expect(errorText(en, "DOCUMENT_TOO_LARGE", message, details)).toBe(
      "The file is larger than this site accepts: at most 100 MiB.",
    );
    expect(errorText(zh, "DOCUMENT_TOO_LARGE", message, details)).toBe(
      "文件超过本站接受的大小：最大 100 MiB。",
    );
    // An older service's refusal, without the limit: as before.
    expect(errorText(zh, "DOCUMENT_TOO_LARGE", message)).toBe("文件超过本站接受的大小。");
    expect(
      [512, 64 * 1024, 2.5 * 1024 ** 3, 1536 * 1024 + 1].map((bytes) => fileSizeText(en, bytes)),
    ).toEqual(["512 B", "64 KiB", "2.5 GiB", "1.5 MiB"]);
  });

  it("states the rule of the field a request broke, or the service's own words for another field", () => {
    const username = { issues: [{ path: "username", message: "2 to 64 letters, digits or _ . @ -" }] };
    const message = "username: 2 to 64 letters, digits or _ . @ -";
    expect(errorText(en, "INVALID_REQUEST", message, username)).toBe(
      "User name: 2 to 64 letters, digits or _ . @ - (no spaces).",
    );
    expect(errorText(zh, "INVALID_REQUEST", message, username)).toBe(
      "用户名：2 到 64 个字母、数字或 _ . @ -（不能有空格）。",
    );
    const issues = { issues: [{ path: "username", message: "Too small" }] };
    expect(errorText(en, "INVALID_REQUEST", "username: Too small", issues)).toBe(en.fieldRules.username);
    expect(errorText(en, "INVALID_REQUEST", "content: Too big: expected at most 32000 characters")).toBe(
      "A field is missing or out of range. (content: Too big: expected at most 32000 characters)",
    );
    // A name mixing scripts (the Cyrillic а of "аlice"): that rule, not the general one.
    const mixed = {
      issues: [{ path: "username", message: "letters of one script only", code: "mixed_scripts" }],
    };
    expect(errorText(en, "INVALID_REQUEST", "username: letters of one script only", mixed)).toBe(
      en.fieldRules["username:mixed_scripts"],
    );
    expect(errorText(zh, "INVALID_REQUEST", "username: letters of one script only", mixed)).toMatch(
      /^用户名：字母只能属于同一种文字/,
    );
    expect(Object.keys(zh.fieldRules).sort()).toEqual(Object.keys(en.fieldRules).sort());
  });

  it("says each refused field's rule in the reader's language, not the service's English", () => {
    const tooLong = {
      issues: [
        {
          path: "name",
          message: "Too big: expected string to have <=200 characters",
          code: "too_big",
          origin: "string",
          maximum: 200,
        },
      ],
    };
    const message = "name: Too big: expected string to have <=200 characters";
    expect(errorText(zh, "INVALID_REQUEST", message, tooLong)).toBe("名称：最多 200 个字符。");
    expect(errorText(en, "INVALID_REQUEST", message, tooLong)).toBe("Name: at most 200 characters.");
    const blank = {
      issues: [{ path: "name", message: "Too small", code: "too_small", origin: "string", minimum: 1 }],
    };
    expect(errorText(zh, "INVALID_REQUEST", "name: Too small", blank)).toBe("名称：不能为空。");
    expect(errorText(en, "INVALID_REQUEST", "name: Too small", blank)).toBe("Name: cannot be empty.");
    // A sentence an issue; a nested field named as the audit log names it, an unknown one by its path.
    const several = {
      issues: [
        { path: "chunking.maxTokens", message: "", code: "too_small", origin: "number", minimum: 32 },
        { path: "tags", message: "", code: "too_big", origin: "array", maximum: 2 },
        {
          path: "temperature",
          message: "",
          code: "too_small",
          origin: "number",
          minimum: 0,
          inclusive: false,
        },
      ],
    };
    expect(errorText(zh, "INVALID_REQUEST", "", several)).toBe(
      "分块 › 每块 token 数：不能小于 32。tags：最多 2 项。temperature：必须大于 0。",
    );
    expect(errorText(en, "INVALID_REQUEST", "", several)).toBe(
      "Chunking › Tokens per chunk: at least 32. tags: at most 2 items. temperature: greater than 0.",
    );
    // A text holding a NUL character, which no database field takes.
    const nul = { issues: [{ path: "title", message: "", code: "nul_character" }] };
    expect(errorText(en, "INVALID_REQUEST", "", nul)).toBe(
      "Title: holds a NUL character (U+0000), which cannot be stored.",
    );
    expect(errorText(zh, "INVALID_REQUEST", "", nul)).toBe("标题：包含无法保存的 NUL 字符（U+0000）。");
    // A lone UTF-16 surrogate, no character at all.
    const surrogate = { issues: [{ path: "title", message: "", code: "lone_surrogate" }] };
    expect(errorText(en, "INVALID_REQUEST", "", surrogate)).toBe(
      "Title: holds a broken character (a lone UTF-16 surrogate), which cannot be stored.",
    );
    expect(errorText(zh, "INVALID_REQUEST", "", surrogate)).toBe(
      "标题：包含无法保存的残缺字符（不成对的 UTF-16 代理项）。",
    );
    // An issue this page cannot put in words keeps the service's own, as before.
    const other = { issues: [{ path: "visibility", message: "Invalid option", code: "invalid_value" }] };
    expect(errorText(en, "INVALID_REQUEST", "visibility: Invalid option", other)).toBe(
      "A field is missing or out of range. (visibility: Invalid option)",
    );
    expect(Object.keys(zh.requestIssues).sort()).toEqual(Object.keys(en.requestIssues).sort());
  });

  it("says what a refused file really is, and mentions Tika only where Tika could read it", () => {
    const exe = { reason: "not-a-document", detected: "windows-executable" };
    const message = '"bad.exe" is a Windows executable, not a supported document type';
    expect(errorText(zh, "DOCUMENT_UNSUPPORTED_FORMAT", message, exe)).toBe(
      "这是一个 Windows 可执行文件，不是可以读取的文档。",
    );
    expect(errorText(en, "DOCUMENT_UNSUPPORTED_FORMAT", message, exe)).toBe(
      "This is a Windows executable, not a document Hearth reads.",
    );
    const mismatch = { detected: "pdf" };
    expect(
      errorText(
        zh,
        "DOCUMENT_TYPE_MISMATCH",
        '"备忘录.docx" is named like a document but is a PDF',
        mismatch,
      ),
    ).toBe("文件内容与文件名不符：它实际上是一个 PDF 文件。");
    expect(errorText(en, "DOCUMENT_TYPE_MISMATCH", "", mismatch)).toBe(
      "The file's content does not match its name: it is really a PDF.",
    );
    // No parser, no Tika: the hint; Tika refusing it: no hint; an older failure without details: no hint either.
    expect(errorText(zh, "DOCUMENT_UNSUPPORTED_FORMAT", "", { reason: "no-parser" })).toMatch(
      /HEARTH_TIKA_URL/,
    );
    expect(errorText(zh, "DOCUMENT_UNSUPPORTED_FORMAT", "", { reason: "tika-refused" })).toBe(
      "无法读取这种文件格式，Apache Tika 也无法读取。",
    );
    expect(errorText(zh, "DOCUMENT_UNSUPPORTED_FORMAT", "")).toBe("无法读取这种文件格式。");
    expect(errorText(en, "DOCUMENT_UNSUPPORTED_FORMAT", "")).not.toMatch(/Tika/);
    // A kind this page does not know yet: the code's own text.
    expect(errorText(zh, "DOCUMENT_TYPE_MISMATCH", "", { detected: "something-new" })).toBe(
      "文件内容与文件名不符。",
    );
    expect(Object.keys(zh.fileKinds).sort()).toEqual(Object.keys(en.fileKinds).sort());
  });

  it("says a PDF without pages has none, where a PDF without text is told to get OCR", () => {
    const noPages = { reason: "no-pages" };
    const message = "The PDF has no pages: there is nothing in it to index";
    expect(errorText(zh, "DOCUMENT_NO_TEXT", message, noPages)).toBe(
      "该 PDF 没有任何页面，没有可读取的内容。",
    );
    expect(errorText(en, "DOCUMENT_NO_TEXT", message, noPages)).toBe(
      "The PDF has no pages: there is nothing in it to read.",
    );
    expect(errorText(en, "DOCUMENT_NO_TEXT", "The document holds no extractable text")).toMatch(/OCR/);
  });

  it("names the service that did not answer, and a failed answer's as the model service", () => {
    const knowledge = { service: "knowledge" };
    expect(errorText(zh, "UPSTREAM_UNAVAILABLE", "the knowledge service did not answer", knowledge)).toBe(
      "无法连接知识库服务。",
    );
    expect(errorText(en, "UPSTREAM_UNAVAILABLE", "", { service: "search" })).toBe(
      "The search service cannot be reached.",
    );
    // Not named (Tika, a model registry): no service is guessed.
    expect(errorText(zh, "UPSTREAM_UNAVAILABLE", "Tika at http://tika:9998 did not answer")).toBe(
      "无法连接上游服务。",
    );
    expect(answerFailureText(zh, "UPSTREAM_UNAVAILABLE", "the model service did not answer")).toBe(
      "无法连接模型服务。",
    );
    expect(Object.keys(zh.unreachableServices).sort()).toEqual(Object.keys(en.unreachableServices).sort());
  });

  it("says why a web page could not be fetched in the reader's language, by the reason the service names", () => {
    const refused = {
      message:
        "127.0.0.1 is a private or loopback address (list it in knowledge.allowPrivateRanges to allow it)",
      details: { reason: "private-address", host: "127.0.0.1" },
    };
    const unknownName = {
      message:
        "https://does-not-exist.invalid did not answer: does-not-exist.invalid does not resolve (ENOTFOUND)",
      details: { reason: "unresolved", host: "does-not-exist.invalid" },
    };
    const gone = {
      message: "https://example.org/old answered 404",
      details: { reason: "status", status: 404 },
    };
    const slow = {
      message: "https://example.org did not answer: no answer in time",
      details: { reason: "timeout", host: "example.org" },
    };
    const text = (t: typeof en, failure: { message: string; details: Record<string, unknown> }) =>
      errorText(t, "URL_FETCH_FAILED", failure.message, failure.details);
    expect(text(zh, refused)).toBe(
      "未抓取该网页：127.0.0.1 是内网或回环地址，须先由管理员放行（knowledge.allowPrivateRanges）。",
    );
    expect(text(zh, unknownName)).toBe(
      "无法抓取该网页：域名 does-not-exist.invalid 无法解析（不存在该主机名），请检查网址。",
    );
    expect(text(zh, gone)).toBe("无法抓取该网页：网站返回了 HTTP 404。");
    expect(text(zh, slow)).toBe("无法抓取该网页：example.org 未在规定时间内应答。");
    expect(text(en, unknownName)).toBe(
      "The page could not be fetched: does-not-exist.invalid does not resolve (no such host name). Check the address.",
    );
    for (const failure of [refused, unknownName, gone, slow])
      expect(text(zh, failure)).not.toMatch(/[a-z]{3} [a-z]/);
    expect(Object.keys(zh.urlFetchFailures).sort()).toEqual(Object.keys(en.urlFetchFailures).sort());
    // A reason the page has no words for (a refused connection), or an older service's failure
    // without details: the service's own words, beside the reader's language.
    const closed = "http://127.0.0.1:9 did not answer: connection refused (ECONNREFUSED)";
    expect(errorText(zh, "URL_FETCH_FAILED", closed, { reason: "no-answer", host: "127.0.0.1" })).toBe(
      `无法抓取该文档的 URL。（${closed}）`,
    );
    expect(errorText(zh, "URL_FETCH_FAILED", refused.message)).toBe(
      `无法抓取该文档的 URL。（${refused.message}）`,
    );
    expect(errorText(en, "URL_FETCH_FAILED", "")).toBe("The document's URL could not be fetched.");
  });

  it("states the rule of the Knowledge page's fields the service refused, not its English", () => {
    const relative = {
      message: `watchFolder "docs" is not an absolute path of a folder on the knowledge service's machine`,
      details: { issues: [{ path: "watchFolder", code: "custom", message: "an absolute path" }] },
    };
    const notHttp = {
      message: "url: Invalid URL",
      details: { issues: [{ path: "url", code: "invalid_format", format: "url", message: "Invalid URL" }] },
    };
    const overlap = {
      message: "chunking.overlapTokens must be smaller than chunking.maxTokens",
      details: {
        issues: [
          { path: "chunking.overlapTokens", code: "custom", message: "smaller than chunking.maxTokens" },
        ],
      },
    };
    const text = (t: typeof en, refusal: { message: string; details: Record<string, unknown> }) =>
      errorText(t, "INVALID_REQUEST", refusal.message, refusal.details);
    expect(text(zh, relative)).toBe(
      "镜像的服务器文件夹：须填写知识服务所在机器上文件夹的完整路径，如 /srv/docs（Windows 上如 C:\\docs）。",
    );
    expect(text(zh, notHttp)).toBe("网页网址：须为以 http:// 或 https:// 开头的完整网址。");
    expect(text(zh, overlap)).toBe("重叠（token）：须小于分块大小。");
    expect(text(en, relative)).toBe(
      "Folder on the server to mirror: the full path of a folder on the knowledge service's machine, such as /srv/docs (C:\\docs on Windows).",
    );
    expect(text(en, notHttp)).toBe("Web page address: a full address that starts with http:// or https://.");
    // A folder path over its length limit is told as that limit, not as a relative path.
    const tooLong = {
      issues: [{ path: "watchFolder", code: "too_big", origin: "string", maximum: 4096, message: "" }],
    };
    expect(errorText(zh, "INVALID_REQUEST", "", tooLong)).toBe("监视的文件夹：最多 4,096 个字符。");
  });

  it("shows an admin the server's own words on a model too large for memory; tells others to ask an admin", () => {
    const message =
      "loading big-model needs about 43.31 GiB but only 21.47 GiB is free; use a smaller quantization, a smaller context (HEARTH_CONTEXT_SIZE), fewer parallel slots (HEARTH_PARALLEL)";
    for (const t of [en, zh]) {
      // The translated sentence stays the first line for everyone.
      expect(answerFailureText(t, "MODEL_MEMORY_INSUFFICIENT", message)).toBe(
        t.errorCodes.MODEL_MEMORY_INSUFFICIENT,
      );
      // Under it: the need, what is free and the fixes for an admin, who can act on them.
      expect(answerFailureNote(t, "MODEL_MEMORY_INSUFFICIENT", message, true)).toBe(message);
      // Anyone else is told who can.
      expect(answerFailureNote(t, "MODEL_MEMORY_INSUFFICIENT", message, false)).toBe(t.askAdministratorToFix);
      // Failures a user can do something about need no note.
      expect(answerFailureNote(t, "CONTEXT_OVERFLOW", "too long", true)).toBeUndefined();
    }
    expect(en.askAdministratorToFix).toMatch(/administrator/);
    expect(zh.askAdministratorToFix).toMatch(/管理员/);
  });

  it("says a wrong password and a throttled sign-in in Chinese", () => {
    expect(zh.errorCodes.INVALID_CREDENTIALS).toBe("用户名或密码错误。");
    expect(zh.errorCodes.LOGIN_THROTTLED).toMatch(/登录失败次数过多/);
  });
});

describe("versionSwitchText", () => {
  it("calls a switch to an older version a rollback and to a newer one a roll forward, by number", () => {
    expect(versionSwitchText(en, { model: "tiny:latest", from: "1.1.0", to: "1.0.0" })).toEqual({
      action: "Roll back",
      question: "Roll back tiny:latest from 1.1.0 to 1.0.0? The model is reloaded with the older weights.",
    });
    expect(versionSwitchText(en, { model: "tiny:latest", from: "1.0.0", to: "1.1.0" })).toEqual({
      action: "Roll forward",
      question: "Roll tiny:latest forward from 1.0.0 to 1.1.0? The model is reloaded with the newer weights.",
    });
    expect(versionSwitchText(zh, { model: "tiny:latest", from: "1.0.0", to: "1.1.0" }).action).toBe("升级");
    expect(versionSwitchText(zh, { model: "tiny:latest", from: "1.1.0", to: "1.0.0" }).action).toBe("回滚");
    // 1.10.0 comes after 1.9.0, not before it (as text would sort them).
    expect(versionSwitchText(en, { model: "m", from: "1.9.0", to: "1.10.0" }).action).toBe("Roll forward");
    expect(versionSwitchText(en, { model: "m", from: "1.10.0", to: "1.9.0" }).action).toBe("Roll back");
  });
});

describe("pullStepText", () => {
  it("translates the registry's steps, keeps file names, and adds the percentage", () => {
    expect(pullStepText(zh, { status: "pulling manifest" })).toBe("正在读取清单");
    expect(pullStepText(zh, { status: "pulling 0123456789ab", completed: 50, total: 200 })).toBe(
      "正在下载 0123456789ab 25%",
    );
    expect(pullStepText(en, { status: "downloading model.gguf" })).toBe("Downloading model.gguf");
    expect(pullStepText(zh, { status: "verifying sha256 digest" })).toBe("正在校验下载的文件");
    expect(pullStepText(zh, { status: "success" })).toBe("完成");
  });

  it("says a failed pull in the reader's language, with the service's words beside it", () => {
    expect(pullStepText(zh, { error: "manifest unknown" })).toBe(
      `错误：${zh.errorCodes.MODEL_PULL_FAILED}（manifest unknown）`,
    );
    expect(pullStepText(zh, { error: "digest mismatch", code: "MODEL_DIGEST_MISMATCH" })).toBe(
      `错误：${zh.errorCodes.MODEL_DIGEST_MISMATCH}`,
    );
    // A catch-all code keeps the words that tell its causes apart.
    expect(pullStepText(zh, { error: "x answered 404", code: "MODEL_PULL_FAILED" })).toBe(
      `错误：${zh.errorCodes.MODEL_PULL_FAILED}（x answered 404）`,
    );
  });

  it("says what the server answered a failed download in the reader's language, naming its URL", () => {
    const url = "http://127.0.0.1:9311/missing.gguf";
    const missing = {
      error: `${url} answered 404`,
      code: "MODEL_PULL_FAILED",
      details: { status: 404, url },
    };
    expect(pullStepText(zh, missing)).toBe(`错误：拉取模型失败：${url} 返回了 HTTP 404（文件不存在）。`);
    expect(pullStepText(en, missing)).toBe(
      `Error: The model could not be pulled: ${url} answered HTTP 404 (no such file).`,
    );
    const refused = { ...missing, details: { status: 401, url, credentials: "refused" } };
    expect(pullStepText(zh, refused)).toBe(
      `错误：拉取模型失败：${url} 返回了 HTTP 401（它拒绝了 URL 中的用户名和密码）。`,
    );
    const asks = { ...missing, details: { status: 403, url, credentials: "required" } };
    expect(pullStepText(en, asks)).toMatch(/answered HTTP 403 \(it asks for credentials: .*user:password@/);
    expect(pullStepText(zh, { ...missing, details: { status: 502, url } })).toBe(
      `错误：拉取模型失败：${url} 返回了 HTTP 502（服务器出错）。`,
    );
    expect(pullStepText(zh, { ...missing, details: { status: 418, url } })).toBe(
      `错误：拉取模型失败：${url} 返回了 HTTP 418。`,
    );
  });

  it("says each reason a pull failed in the reader's language, and pull again to resume only where it resumes", () => {
    const url = "http://127.0.0.1:9311/page.gguf";
    const failed = (reason: string, details: Record<string, unknown> = {}) => ({
      error: "the service's English words",
      code: "MODEL_PULL_FAILED",
      details: { reason, url, ...details },
    });
    expect(pullStepText(zh, failed("not-gguf"))).toBe(
      `错误：拉取模型失败：${url} 不是 GGUF 文件。请检查 URL：它必须直接指向 .gguf 文件，而不是网页。`,
    );
    expect(pullStepText(en, failed("not-gguf"))).toBe(
      `Error: The model could not be pulled: ${url} is not a GGUF file. Check the URL: it must lead to the .gguf file itself, not to a web page.`,
    );
    expect(pullStepText(zh, failed("unreachable", { host: "127.0.0.1:9311" }))).toBe(
      "错误：拉取模型失败：127.0.0.1:9311 没有响应。请检查地址和网络，然后再次拉取。",
    );
    for (const reason of ["interrupted", "stalled"]) {
      expect(pullStepText(zh, failed(reason))).toMatch(/再次拉取即可续传。$/);
      expect(pullStepText(en, failed(reason))).toMatch(/Pull again to resume it\.$/);
    }
    // What a retry does not fix says nothing of resuming; nothing in Chinese carries English words.
    for (const reason of ["not-gguf", "unreachable", "not-a-manifest", "no-model-layer", "conflict"]) {
      expect(pullStepText(en, failed(reason))).not.toMatch(/resume/);
      expect(pullStepText(zh, failed(reason))).not.toMatch(/续传|English/);
    }
    // The registry has no such model or tag: it says so, naming the registry's host.
    const missing = {
      error: "library/nosuch:v9 is not in the registry http://127.0.0.1:9311",
      code: "MODEL_NOT_FOUND",
      details: { reason: "not-in-registry", registry: "127.0.0.1:9311", model: "library/nosuch:v9" },
    };
    expect(pullStepText(en, missing)).toBe(
      "Error: The registry 127.0.0.1:9311 has no model or tag named library/nosuch:v9.",
    );
    expect(pullStepText(zh, missing)).toBe(
      "错误：模型仓库 127.0.0.1:9311 中没有名为 library/nosuch:v9 的模型或标签。",
    );
    // A reason this page does not know: the catch-all, with the service's words beside it.
    expect(pullStepText(en, failed("something-new"))).toBe(
      `Error: ${en.errorCodes.MODEL_PULL_FAILED} (the service's English words)`,
    );
  });

  it("keeps English punctuation in English", () => {
    expect(pullStepText(en, { error: "manifest unknown" })).toBe(
      `Error: ${en.errorCodes.MODEL_PULL_FAILED} (manifest unknown)`,
    );
  });

  it("says a pull waits for another pull of the same file, naming its process, with that one's progress", () => {
    const waiting = {
      status: "waiting for another pull of the same file (process 4242)",
      completed: 50,
      total: 200,
    };
    expect(pullStepText(zh, waiting)).toBe("正在等待同一文件的另一个拉取（进程 4242）完成 25%");
    expect(pullStepText(en, waiting)).toBe("Waiting for another pull of the same file (process 4242) 25%");
    expect(
      pullStepText(en, { status: "waiting for another pull of the same file (process 7 on box-2)" }),
    ).toBe("Waiting for another pull of the same file (process 7 on box-2)");
    expect(pullStepText(zh, { error: "taken", code: "MODEL_PULL_IN_PROGRESS" })).toBe(
      `错误：${zh.errorCodes.MODEL_PULL_IN_PROGRESS}`,
    );
  });

  it("shows a step it does not know as the service wrote it", () => {
    expect(pullStepText(zh, { status: "resuming" })).toBe("resuming");
  });
});

describe("citationLabels", () => {
  const doc = (page: number | undefined, snippet: string) => ({
    title: "handbook.pdf",
    url: `/api/knowledge-bases/kb/documents/d/file${page ? `#page=${page}` : ""}`,
    snippet,
  });

  it("tells sources from the same document apart by page", () => {
    expect(citationLabels(en, [doc(3, "Vacation"), doc(7, "Sick leave")])).toEqual([
      { label: "handbook.pdf, page 3" },
      { label: "handbook.pdf, page 7" },
    ]);
    expect(citationLabels(zh, [doc(3, "假期")])).toEqual([{ label: "handbook.pdf，第 3 页" }]);
  });

  it("adds the start of each passage where the labels would still read the same", () => {
    const long = `Employees get   25 vacation days\n${"and more ".repeat(30)}`;
    const [first, second] = citationLabels(en, [doc(undefined, long), doc(undefined, "Sick leave is paid.")]);
    expect(first!.label).toBe("handbook.pdf");
    expect(first!.snippet).toMatch(/^Employees get 25 vacation days/);
    expect(first!.snippet!.endsWith("…")).toBe(true);
    expect(first!.snippet!.length).toBeLessThanOrEqual(121);
    expect(second).toEqual({ label: "handbook.pdf", snippet: "Sick leave is paid." });
  });

  it("cuts a passage on whole characters, never half of 𠮷", () => {
    const passage = `${"请".repeat(119)}𠮷野家的牛肉饭`;
    const [first] = citationLabels(zh, [doc(undefined, passage), doc(undefined, "另一段")]);
    expect(first!.snippet).toBe(`${"请".repeat(119)}𠮷…`);
    const [exact] = citationLabels(zh, [doc(undefined, `${"请".repeat(119)}𠮷`), doc(undefined, "另一段")]);
    expect(exact!.snippet).toBe(`${"请".repeat(119)}𠮷`);
  });

  it("shows a title as written, whatever marks it holds", () => {
    const odd = { title: "cost $& {page} notes.pdf", url: "/kb/doc#page=2", snippet: "x" };
    expect(citationLabels(en, [odd])).toEqual([{ label: "cost $& {page} notes.pdf, page 2" }]);
  });

  it("leaves a web page's title alone", () => {
    expect(citationLabels(en, [{ title: "Hearth", url: "https://example.com/", snippet: "x" }])).toEqual([
      { label: "Hearth" },
    ]);
  });
});

describe("a used-up quota", () => {
  const now = new Date(2026, 2, 10, 9, 30);
  it("says when it resets, in the reader's time and language", () => {
    expect(quotaResetText(zh, new Date(2026, 2, 10, 14, 5), now)).toBe("额度已用完，将于 14:05 重置。");
    expect(quotaResetText(zh, new Date(2026, 2, 11, 9, 0), now)).toBe("额度已用完，将于明天 09:00 重置。");
    expect(quotaResetText(en, new Date(2026, 2, 10, 14, 5), now)).toBe(
      "Your quota is used up; it resets at 2:05 PM.",
    );
    expect(quotaResetText(en, new Date(2026, 2, 11, 9, 0), now)).toBe(
      "Your quota is used up; it resets tomorrow at 9:00 AM.",
    );
    expect(quotaResetText(en, new Date(2026, 2, 14, 9, 0), now)).toMatch(/resets on Mar 14, 2026, 9:00/);
  });

  it("never names a time already past: the reset's minute is rounded up", () => {
    const later = new Date(2026, 2, 10, 11, 10, 12);
    expect(quotaResetText(zh, new Date(2026, 2, 10, 11, 40, 40), later)).toBe(
      "额度已用完，将于 11:41 重置。",
    );
    expect(quotaResetText(en, new Date(2026, 2, 11, 10, 58, 43), later)).toBe(
      "Your quota is used up; it resets tomorrow at 10:59 AM.",
    );
    // 23:59:30 rounds up to midnight, which is tomorrow.
    expect(quotaResetText(en, new Date(2026, 2, 10, 23, 59, 30), later)).toBe(
      "Your quota is used up; it resets tomorrow at 12:00 AM.",
    );
    expect(quotaResetText(en, new Date(2026, 2, 14, 8, 59, 1), later)).toMatch(
      /resets on Mar 14, 2026, 9:00/,
    );
  });

  it("says a reset under two minutes away as a clock time to the second, which does not go stale", () => {
    const later = new Date(2026, 2, 10, 11, 10, 12);
    // A per-minute limit lifting at 11:10:40: not "at 11:10", already past.
    expect(quotaResetText(zh, new Date(2026, 2, 10, 11, 10, 40), later)).toBe(
      "额度已用完，将于 11:10:40 重置。",
    );
    expect(quotaResetText(en, new Date(2026, 2, 10, 11, 10, 40, 300), later)).toBe(
      "Your quota is used up; it resets at 11:10:41 AM.",
    );
    expect(quotaResetText(en, new Date(2026, 2, 10, 11, 12, 11), later)).toBe(
      "Your quota is used up; it resets at 11:12:11 AM.",
    );
    // A reset that passed while the refusal was on its way: the next second, not a time gone by.
    expect(quotaResetText(en, new Date(2026, 2, 10, 11, 10, 11), later)).toBe(
      "Your quota is used up; it resets at 11:10:13 AM.",
    );
  });

  it("is told with its reset time where the refusal gives one", () => {
    const resetAt = new Date(Date.now() + 60_000).toISOString();
    expect(errorText(en, "QUOTA_EXCEEDED", "The per-minute limit is used up", { resetAt })).toMatch(
      /^Your quota is used up; it resets (tomorrow )?at \d+:\d\d:\d\d [AP]M\.$/,
    );
    expect(errorText(en, "QUOTA_EXCEEDED", "")).toBe(en.errorCodes.QUOTA_EXCEEDED);
  });

  it("tells a prompt too long for the token limit to be shortened, not when the quota resets", () => {
    // The server's resetAt for it is a whole window away: waiting does not help.
    const details = { reason: "prompt-too-long", resetAt: new Date(Date.now() + 86_400_000).toISOString() };
    expect(errorText(en, "QUOTA_EXCEEDED", "The prompt alone ...; shorten it", details)).toBe(
      "Your message is longer than your token limit allows; shorten it.",
    );
    expect(errorText(zh, "QUOTA_EXCEEDED", "", details)).toBe(
      "消息超出了你的 token 限额所允许的长度，请缩短后再发送。",
    );
  });

  it("tells an answer refused in its stream the same, by the details of the stream's error part", () => {
    // A conversation's turn refused after its stream began: the error part's details, not its code alone.
    const details = { reason: "prompt-too-long", resetAt: new Date(Date.now() + 60_000).toISOString() };
    expect(answerFailureText(en, "QUOTA_EXCEEDED", "The prompt alone ...; shorten it", details)).toBe(
      "Your message is longer than your token limit allows; shorten it.",
    );
    expect(answerFailureText(zh, "QUOTA_EXCEEDED", "", { resetAt: details.resetAt })).toMatch(
      /^额度已用完，将于.+重置。$/,
    );
    // A stored answer keeps no details: its code alone.
    expect(answerFailureText(en, "QUOTA_EXCEEDED", "")).toBe(en.errorCodes.QUOTA_EXCEEDED);
  });
});

describe("model changelogs in the reader's language", () => {
  it("says the registry's own sentences in Chinese, and anything else as written", () => {
    expect(changelogText(zh, "found in the models dir")).toBe("在模型目录中发现");
    expect(changelogText(zh, "pulled from deepseek-r1:1.5b")).toBe("拉取自 deepseek-r1:1.5b");
    expect(changelogText(zh, "imported from the local Ollama (/home/a/.ollama)")).toBe(
      "从本机 Ollama 导入（/home/a/.ollama）",
    );
    expect(changelogText(zh, "copied from qwen 1.0.0")).toBe("复制自 qwen 1.0.0");
    expect(changelogText(zh, "linked to /home/a/models/qwen.gguf")).toBe("链接到 /home/a/models/qwen.gguf");
    expect(changelogText(en, "found in the models dir")).toBe("found in the models folder");
    expect(changelogText(zh, "fine-tuned on our manuals")).toBe("fine-tuned on our manuals");
  });
});

describe("admin pages in the reader's language", () => {
  it("shows an audit entry's details as named lines, not JSON", () => {
    expect(auditDetailsLines(zh, "user.create", { role: "user", status: "active" })).toEqual([
      "角色：普通用户",
      "状态：正常",
    ]);
    expect(auditDetailsLines(zh, "user.role-change", { from: "user", to: "admin" })).toEqual([
      "角色：普通用户 → 管理员",
    ]);
    // Set by single sign-on at a sign-in: the change, then where it came from.
    const issuer = "https://sso.example.cn/realms/team";
    expect(
      auditDetailsLines(en, "user.role-change", { from: "admin", to: "user", via: "sso", issuer }),
    ).toEqual(["Role: Administrator → User", "Via: single sign-on", `Identity provider: ${issuer}`]);
    expect(
      auditDetailsLines(zh, "group.members-change", { via: "sso", issuer, membersAdded: ["wang.fang"] }),
    ).toEqual(["来源：单点登录", `身份提供方：${issuer}`, "加入的成员：wang.fang"]);
    expect(auditDetailsLines(en, "user.sso-sign-in", { issuer, keptLastAdmin: true })).toEqual([
      `Identity provider: ${issuer}`,
      "Kept as the last active administrator: yes",
    ]);
    // An announcement banner's change: its type in words, its switch as yes or no.
    expect(
      auditDetailsLines(zh, "banner.change", {
        type: { from: "warning", to: "error" },
        dismissible: { from: true, to: false },
      }),
    ).toEqual(["类型：警告 → 错误", "可关闭：是 → 否"]);
    expect(auditDetailsLines(en, "banner.create", { text: "Maintenance tonight", type: "info" })).toEqual([
      "Text: Maintenance tonight",
      "Type: Information",
    ]);
    expect(
      auditDetailsLines(zh, "settings.change", {
        keys: ["signup", "filter"],
        changes: {
          signup: { from: "open", to: "closed" },
          filter: { wordsAdded: 2, applyToOutput: { from: true, to: false } },
        },
      }),
    ).toEqual([
      "修改的设置：注册方式、敏感词",
      "变更 › 注册方式：开放注册 → 关闭注册",
      "变更 › 敏感词 › 新增敏感词：2",
      "变更 › 敏感词 › 屏蔽模型回答中的敏感词：是 → 否",
    ]);
    // A field no one named yet shows its key; English reads the same way.
    expect(auditDetailsLines(en, "api-key.create", { name: "ci", label: "x" })).toEqual([
      "Name: ci",
      "label: x",
    ]);
  });

  it("shows group limits by group, limits as amounts, and groups by name rather than id", () => {
    expect(
      auditDetailsLines(zh, "settings.change", {
        keys: ["userLimits", "groupLimits"],
        changes: {
          userLimits: { from: {}, to: { requestsPerDay: 500 } },
          groupLimits: { from: { staff: {} }, to: { staff: { requestsPerMinute: 5, tokensPerDay: 9000 } } },
        },
      }),
    ).toEqual([
      "修改的设置：用户限额、用户组限额",
      "变更 › 用户限额：不限 → 每天 500 次请求",
      "变更 › 用户组限额 › staff：不限 → 每分钟 5 次请求、每天 9000 个 token",
    ]);
    expect(
      auditDetailsLines(en, "model.access-change", {
        groupIds: ["7796a0c2-1", "gone-id"],
        groups: ["staff", null],
        adminOnly: false,
      }),
    ).toEqual(["Groups: staff, gone-id", "Administrators only: no"]);
    expect(
      auditDetailsLines(en, "group.delete", {
        name: "staff",
        models: [{ model: "tiny", adminOnly: true }],
        knowledgeBases: [{ id: "kb-1", name: "Minutes", madePrivate: true }],
      }),
    ).toEqual([
      "Name: staff",
      "Models: tiny (Administrators only)",
      "Knowledge bases: Minutes (Made private)",
    ]);
    expect(
      auditDetailsLines(zh, "knowledge-base.access-change", {
        visibility: "shared",
        shares: [{ groupId: "g-1", group: "editors", permission: "write" }],
      }),
    ).toEqual(["可见范围：共享", "共享给：editors（可编辑文档）"]);
  });

  it("names every detail field the services write, in English and Chinese", () => {
    // The details of each audited action as the web service writes them (packages/web, audit(...)).
    const written: Array<[string, Record<string, unknown>]> = [
      ["user.signup", { role: "user", status: "active" }],
      ["user.delete", { knowledgeBasesTo: "u-1", knowledgeBases: ["kb-1"] }],
      ["user.create-admin", { promoted: true, via: "cli" }],
      ["user.create", { role: "user", status: "active", groupIds: ["g-1"], groups: ["staff"], via: "cli" }],
      ["user.password-reset", { via: "cli" }],
      ["api-key.revoke", { keyId: "k-1", name: "ci", prefix: "hk_1" }],
      ["group.rename", { from: "a", to: "b" }],
      ["group.members-change", { userIds: ["u-1"], users: ["alice"] }],
      ["model.access-change", { groupIds: ["g-1"], groups: ["staff"], adminOnly: true }],
      ["knowledge-base.delete", { name: "Minutes" }],
      ["knowledge-base.document-delete", { documentId: "d-1", name: "a.txt" }],
      ["knowledge-base.document-disable", { documentId: "d-1", name: "a.txt" }],
      ["knowledge-base.document-enable", { documentId: "d-1", name: "a.txt" }],
      ["knowledge-base.access-change", { owner: "root", via: "web" }],
      [
        "knowledge-base.settings-change",
        {
          name: "n",
          description: "d",
          embeddingModel: "e",
          chunking: { maxTokens: 200, overlapTokens: 20 },
          watchFolder: "/srv",
        },
      ],
      ["model.rollback", { from: "1.0.1", to: "1.0.0", digest: "sha256:ab" }],
      ["conversation.share", { messageCount: 4, updated: true }],
      [
        "settings.change",
        {
          keys: ["signup", "shareLinks"],
          changes: {
            signup: { from: "open", to: "closed" },
            shareLinks: { from: "signed-in", to: "off" },
            filter: { wordsAdded: 1, wordsRemoved: 0, wordCount: 1, allowedWordsAdded: 1 },
          },
        },
      ],
    ];
    for (const t of [en, zh])
      for (const [action, details] of written)
        for (const line of auditDetailsLines(t, action, details)) {
          const field = line.slice(0, line.indexOf(t === en ? ": " : "："));
          expect(field, `${action}: ${line}`).not.toMatch(/[a-z][A-Z]|^[a-z]/);
        }
    expect(auditDetailsLines(zh, "model.rollback", { digest: "sha256:ab" })).toEqual(["摘要：sha256:ab"]);
    expect(
      auditDetailsLines(en, "settings.change", {
        keys: ["shareLinks"],
        changes: { shareLinks: { from: "signed-in", to: "off" } },
      }),
    ).toEqual([
      "Settings changed: Share links",
      "Changes › Share links: Anyone signed in can open them → Off",
    ]);
    expect(auditDetailsLines(zh, "conversation.share", { messageCount: 4, updated: false })).toEqual([
      "消息数：4",
      "更新了链接：否",
    ]);
  });

  it("says a service's readiness and its known reasons in Chinese", () => {
    expect(serviceReadinessText(zh, false, "unreachable")).toBe("未就绪（无法连接）");
    expect(serviceReadinessText(zh, false, "the database is not reachable")).toBe("未就绪（无法连接数据库）");
    expect(serviceReadinessText(zh, false, "something new")).toBe("未就绪（something new）");
    expect(serviceReadinessText(zh, true, undefined)).toBe("就绪");
    expect(zh.serviceNames.knowledge).toBe("知识库服务");
  });
});

describe("search engine tests in the reader's language", () => {
  it("names every status the search service reports, in English and Chinese", () => {
    for (const status of providerStatusSchema.options) {
      expect(providerOutcomeText(zh, { status }).status).not.toBe(status);
      expect(providerOutcomeText(en, { status }).status).not.toBe(status);
    }
    expect(providerOutcomeText(zh, { status: "ok" })).toEqual({ status: "正常" });
    expect(providerOutcomeText(zh, { status: "rate-limited" }).status).toBe("受速率限制");
  });

  it("says why an engine failed in the reader's language, the server's detail kept where it says more", () => {
    const error = "cannot reach http://127.0.0.1:9310/api: connection refused (ECONNREFUSED)";
    expect(providerOutcomeText(zh, { status: "error", error })).toEqual({
      status: "失败",
      note: "无法连接该搜索引擎，或它返回了错误。",
      detail: `服务器原文：${error}`,
    });
    expect(providerOutcomeText(en, { status: "error", error })).toEqual({
      status: "Failed",
      note: "It could not be reached, or it answered with an error.",
      detail: `The server's detail: ${error}`,
    });
    // A breaker's skip says nothing the note does not: no English line under the Chinese one.
    const breaker = providerOutcomeText(zh, {
      status: "skipped-by-breaker",
      error: "skipped: circuit breaker open after repeated failures",
    });
    expect(breaker.note).toMatch(/连续多次失败/);
    expect(breaker.detail).toBeUndefined();
    // An engine that answered with nothing: what a typo in a custom engine's results path gives.
    expect(providerOutcomeText(en, { status: "ok", results: 0 })).toEqual({
      status: "OK",
      warning:
        "Answered, but with no results. If this query should find some, check the engine's settings: for a custom engine, the results path under response.",
    });
    expect(providerOutcomeText(zh, { status: "ok", results: 0 }).warning).toMatch(/^有应答，但没有结果。/);
    expect(providerOutcomeText(zh, { status: "ok", results: 3 })).toEqual({ status: "正常" });
    // A SearXNG some of whose own engines did not answer: said, with the service's words of which.
    const partly = "SearXNG's engines did not answer: google (CAPTCHA)";
    expect(providerOutcomeText(zh, { status: "ok", results: 2, warning: partly })).toEqual({
      status: "正常",
      warning:
        "有应答，但它转而调用的部分引擎没有应答（例如 SearXNG 的引擎被拦截或超时），结果可能少于应有的数量。",
      detail: `服务器原文：${partly}`,
    });
    // A status this page does not know yet is shown as the service wrote it.
    expect(providerOutcomeText(zh, { status: "new-status", error: "x" })).toEqual({
      status: "new-status",
      detail: "服务器原文：x",
    });
  });
});

describe("numbers in the reader's language", () => {
  it("groups thousands as the reader's language writes them", () => {
    expect(numberText(zh, 2363)).toBe("2,363");
    expect(numberText(en, 1234567)).toBe("1,234,567");
  });
});

describe("a document's status in the reader's language", () => {
  it("reads a document whose import was cancelled as Cancelled, not as a failure, saying to upload it again", () => {
    // As the knowledge service lists it: failed, with the stable code of a cancel.
    const cancelled = {
      status: "failed" as const,
      error: { code: "JOB_CANCELLED", message: "The job was cancelled" },
    };
    expect(documentStatusText(en, cancelled)).toEqual({
      stage: "Cancelled",
      note: "The import was cancelled before the document was indexed; upload it again.",
      failed: false,
    });
    expect(documentStatusText(zh, cancelled)).toMatchObject({ stage: "已取消", failed: false });
    expect(documentStatusText(zh, cancelled).note).toMatch(/请重新上传/);
  });

  it("reads any other failure as Failed, and chunks being written as Indexing", () => {
    const refused = {
      status: "failed" as const,
      error: { code: "DOCUMENT_UNSUPPORTED_FORMAT", message: "no parser" },
    };
    expect(documentStatusText(en, refused)).toMatchObject({ stage: "Failed", failed: true });
    expect(documentStatusText(zh, refused)).toMatchObject({ stage: "失败", failed: true });
    const writing = {
      status: "parsing" as const,
      progress: { phase: "indexing" as const, done: 1, total: 4 },
    };
    expect(documentStatusText(en, writing)).toEqual({ stage: "Indexing", note: undefined, failed: false });
  });
});

describe("the config file's word lists in Settings", () => {
  const list = {
    id: "leaks",
    file: "/etc/hearth/leaks.txt",
    action: "mask" as const,
    words: 1200,
    input: false,
    output: true,
  };

  it("says a list's action in the reader's language, its keyword kept apart to be shown as code", () => {
    expect(wordListText(zh, list)).toEqual({
      before: "leaks（/etc/hearth/leaks.txt）— 屏蔽（",
      after: "）：在回答中屏蔽；词数：1,200",
    });
    expect(wordListText(en, { ...list, action: "block", input: true })).toEqual({
      before: "leaks (/etc/hearth/leaks.txt) — Refuse (",
      after: "): refuses messages that hold them and masks them in answers; words: 1,200",
    });
  });

  it("has every action in both languages, none as its bare keyword in Chinese", () => {
    const actions = ["block", "drop", "mask", "flag", "allow"] as const;
    for (const t of [en, zh]) expect(actions.filter((action) => !t.wordListActions[action])).toEqual([]);
    expect(actions.filter((action) => zh.wordListActions[action] === action)).toEqual([]);
    expect(Object.keys(zh.wordListActions).sort()).toEqual(Object.keys(en.wordListActions).sort());
  });
});

describe("knowledge page wording", () => {
  it("names a one-passage document's button in the singular, and the column Passages as everything else says", () => {
    expect(viewPassagesText(en, 1, "a.md")).toBe("Show the 1 passage of a.md");
    expect(viewPassagesText(en, 2, "a.md")).toBe("Show the 2 passages of a.md");
    expect(viewPassagesText(zh, 1, "a.md")).toBe("查看 a.md 的 1 个分块");
    expect(en.chunks).toBe("Passages");
    // A document's progress says passages too.
    expect(en.documentProgress.indexing).toBe("{done} of {total} passages indexed");
  });

  it("names another user's knowledge base with its owner, one's own by its name alone", () => {
    expect(knowledgeBaseLabel(zh, { name: "中文资料库", ownerName: "bob" })).toBe("中文资料库 · bob");
    expect(knowledgeBaseLabel(en, { name: "Docs EN" })).toBe("Docs EN");
  });
});

describe("a search engine's standing state in the reader's language", () => {
  const now = new Date(2026, 2, 3, 14, 0, 0);
  const at = (minutes: number) => new Date(now.getTime() + minutes * 60_000).toISOString();
  const closed = {
    breaker: "closed" as const,
    consecutiveFailures: 0,
    breakerRetryAt: null,
    coolDownUntil: null,
    lastCall: null,
  };
  it("says an engine not asked yet, and one whose last call answered", () => {
    expect(providerStandingText(en, closed, now)).toEqual({ status: "Not asked yet" });
    expect(providerStandingText(zh, closed, now)).toEqual({ status: "尚未调用" });
    expect(providerStandingText(zh, { ...closed, lastCall: { status: "ok", at: at(-1) } }, now)).toEqual({
      status: "正常",
    });
  });
  it("says a cool-down and an open breaker with the clock time they end, and the last error", () => {
    const cooling = providerStandingText(
      en,
      {
        ...closed,
        coolDownUntil: at(5),
        lastCall: { status: "rate-limited", at: at(-1), error: "HTTP 429" },
      },
      now,
    );
    expect(cooling.status).toMatch(/^Cooling down until 0?2:05/);
    expect(cooling.detail).toMatch(/^Last error \(0?1:59\s?PM\): HTTP 429$/);
    const open = { ...closed, breaker: "open" as const, consecutiveFailures: 5, breakerRetryAt: at(1) };
    expect(providerStandingText(zh, open, now).status).toBe("连续失败 5 次后已暂停，直到 14:01");
    expect(providerStandingText(en, { ...open, breakerRetryAt: at(-1) }, now).status).toBe(
      "Paused after 5 failures in a row; tried again at the next search",
    );
    expect(
      providerStandingText(
        zh,
        {
          ...closed,
          consecutiveFailures: 3,
          lastCall: { status: "timeout", at: at(-2), error: "no answer" },
        },
        now,
      ),
    ).toEqual({ status: "超时（连续 3 次）", detail: "最近一次错误（13:58）：no answer" });
  });
});

describe("a knowledge base's badge in the list", () => {
  it("tells a member of a shared or public base whether they may edit it, in English and Chinese", () => {
    expect(knowledgeBaseBadgeText(en, { visibility: "shared", permission: "read" })).toBe(
      "Shared · read only",
    );
    expect(knowledgeBaseBadgeText(en, { visibility: "shared", permission: "write" })).toBe(
      "Shared · can edit",
    );
    expect(knowledgeBaseBadgeText(zh, { visibility: "shared", permission: "read" })).toBe("共享 · 只读");
    expect(knowledgeBaseBadgeText(zh, { visibility: "public", permission: "write" })).toBe("公开 · 可编辑");
    // Its manager sees its visibility alone; one to adopt says so.
    expect(knowledgeBaseBadgeText(en, { visibility: "shared", permission: "manage" })).toBe("Shared");
    expect(knowledgeBaseBadgeText(en, { visibility: "private", permission: "manage" })).toBe("Private");
    expect(knowledgeBaseBadgeText(en, { unowned: true, permission: "manage" })).toBe(en.unowned);
    expect(knowledgeBaseBadgeText(zh, { permission: "read" })).toBe("可读");
  });
});
