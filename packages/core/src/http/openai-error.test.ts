import { describe, expect, it } from "vitest";
import { z } from "zod";
import { HearthError } from "../errors/hearth-error.js";
import { toHearthError } from "./error-mapping.js";
import { openAiErrorBody } from "./openai-error.js";

const refused = (schema: z.ZodType, body: unknown) =>
  openAiErrorBody(toHearthError(schema.safeParse(body).error));

describe("openAiErrorBody", () => {
  it("names the refused field in `param`, as OpenAI writes it, keeping type and code", () => {
    const schema = z.object({
      messages: z.array(z.object({ role: z.string(), content: z.string() })).min(1),
      temperature: z.number().min(0).max(2).optional(),
    });
    expect(refused(schema, { messages: [], temperature: 1 }).error).toMatchObject({
      type: "invalid_request_error",
      code: "INVALID_REQUEST",
      param: "messages",
    });
    expect(refused(schema, { messages: [{ role: "user" }] }).error.param).toBe("messages[0].content");
    expect(refused(schema, { messages: [{ role: "user", content: "hi" }], temperature: 3 }).error.param).toBe(
      "temperature",
    );
  });

  it("names the field in the message as `param` does (messages[0].role, not messages.0.role)", () => {
    const schema = z.object({ messages: z.array(z.object({ role: z.enum(["user", "assistant"]) })) });
    const body = refused(schema, { messages: [{ role: "wizard" }] }).error;
    expect(body.param).toBe("messages[0].role");
    expect(body.message).toMatch(/^messages\[0\]\.role: Invalid option/);
    // A message that does not begin with the field is left as it is.
    const named = new HearthError("MESSAGE_TOO_LONG", "A message may have at most 5 characters", {
      details: { field: "messages.2.content" },
    });
    expect(openAiErrorBody(named).error).toMatchObject({
      message: "A message may have at most 5 characters",
      param: "messages[2].content",
    });
  });

  it("takes `param` from the field a Hearth error names (`details.field`)", () => {
    const error = new HearthError("INVALID_REQUEST", "tz: unknown", { details: { field: "tz" } });
    expect(openAiErrorBody(error).error).toMatchObject({ param: "tz", details: { field: "tz" } });
  });

  it("leaves `param` null for an error of no one field", () => {
    expect(refused(z.object({ model: z.string() }), undefined).error.param).toBeNull();
    expect(openAiErrorBody(new HearthError("RATE_LIMITED", "slow down")).error).toEqual({
      message: "slow down",
      type: "requests",
      param: null,
      code: "RATE_LIMITED",
    });
  });

  it("types an error as OpenAI does: invalid_request_error for a refusal, requests for a rate limit, server_error for a failure", () => {
    const typeOf = (error: HearthError) => openAiErrorBody(error).error.type;
    expect(typeOf(new HearthError("MODEL_NOT_FOUND", 'model "nope" not found'))).toBe(
      "invalid_request_error",
    );
    expect(typeOf(new HearthError("API_KEY_INVALID", "unknown key"))).toBe("invalid_request_error");
    expect(typeOf(new HearthError("MODEL_NOT_ALLOWED", "not for you"))).toBe("invalid_request_error");
    expect(typeOf(new HearthError("PAYLOAD_TOO_LARGE", "too big"))).toBe("invalid_request_error");
    expect(typeOf(new HearthError("MODEL_QUEUE_FULL", "busy"))).toBe("requests");
    expect(typeOf(new HearthError("QUOTA_EXCEEDED", "used up"))).toBe("requests");
    expect(typeOf(new HearthError("MODEL_QUEUE_TIMEOUT", "waited too long"))).toBe("server_error");
    expect(typeOf(new HearthError("UPSTREAM_UNAVAILABLE", "down"))).toBe("server_error");
  });
});
