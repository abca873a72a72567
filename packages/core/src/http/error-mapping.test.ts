import { describe, expect, it } from "vitest";
import { z } from "zod";
import { toHearthError } from "./error-mapping.js";

/** An error as node-postgres gives a server's answer: the SQLSTATE in `code`, beside its severity. */
function serverError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code, severity: "FATAL" });
}

describe("toHearthError and database failures", () => {
  it.each([
    [
      "a refused connection",
      Object.assign(new Error("connect ECONNREFUSED 10.0.0.5:5432"), { code: "ECONNREFUSED" }),
    ],
    ["a link cut under a query", new Error("Connection terminated unexpectedly")],
    ["a pool that cannot connect in time", new Error("timeout exceeded when trying to connect")],
    ["a server shutting down", serverError("57P01", "terminating connection due to administrator command")],
    ["a server still starting", serverError("57P03", "the database system is starting up")],
    ["a connection failure class 08", serverError("08006", "connection failure")],
    [
      "a SQLite file locked past its busy timeout",
      Object.assign(new Error("database is locked"), { code: "SQLITE_BUSY" }),
    ],
  ])("answers %s with 503 DATABASE_UNAVAILABLE and Retry-After", (_case, error) => {
    const mapped = toHearthError(error);
    expect(mapped).toMatchObject({ code: "DATABASE_UNAVAILABLE", status: 503 });
    expect(mapped.retryAfterSeconds).toBeGreaterThan(0);
    expect(mapped.cause).toBe(error);
  });

  it("leaves a request body cut off by its connection closing the request's failure, though its code is ECONNRESET", () => {
    const aborted = Object.assign(new Error("aborted"), { code: "ECONNRESET", statusCode: 400 });
    expect(toHearthError(aborted)).toMatchObject({ code: "INVALID_REQUEST", status: 400 });
  });

  it.each([
    ["a unique violation", serverError("23505", "duplicate key value violates unique constraint")],
    ["a syntax error in a statement", serverError("42601", "syntax error at or near")],
    ["a SQLSTATE-like code that no server sent", Object.assign(new Error("odd"), { code: "08006" })],
  ])("leaves %s an INTERNAL_ERROR", (_case, error) => {
    expect(toHearthError(error)).toMatchObject({ code: "INTERNAL_ERROR", status: 500 });
  });
});

describe("toHearthError and a refused request", () => {
  it("lists each issue with its kind and limit, so a page can say it in its reader's language", () => {
    const schema = z.strictObject({
      name: z.string().trim().min(1).max(200),
      chunking: z.strictObject({ maxTokens: z.number().int().min(32) }),
      tags: z.array(z.string()).max(2),
    });
    const parsed = schema.safeParse({
      name: "合".repeat(300),
      chunking: { maxTokens: 8 },
      tags: ["a", "b", "c"],
    });
    const mapped = toHearthError(parsed.error);
    expect(mapped.code).toBe("INVALID_REQUEST");
    expect(mapped.message).toMatch(/^name: /);
    expect(mapped.details).toEqual({
      issues: [
        { path: "name", message: expect.any(String), code: "too_big", origin: "string", maximum: 200 },
        {
          path: "chunking.maxTokens",
          message: expect.any(String),
          code: "too_small",
          origin: "number",
          minimum: 32,
        },
        { path: "tags", message: expect.any(String), code: "too_big", origin: "array", maximum: 2 },
      ],
    });
    const blank = toHearthError(
      schema.safeParse({ name: "  ", chunking: { maxTokens: 32 }, tags: [] }).error,
    );
    expect(blank.details?.issues).toEqual([
      { path: "name", message: expect.any(String), code: "too_small", origin: "string", minimum: 1 },
    ]);
  });
  it("gives one issue for a field of the wrong type, not also the limits zod measured on it", () => {
    const schema = z.object({ ids: z.array(z.string().min(1)).max(20), names: z.array(z.string()).min(1) });
    // A string has a length: zod measures it against the array's limits as characters.
    const mapped = toHearthError(schema.safeParse({ ids: "kb_06679017536642a99452", names: "" }).error);
    expect(mapped.message).toBe("ids: Invalid input: expected array, received string");
    expect(mapped.details?.issues).toEqual([
      { path: "ids", message: "Invalid input: expected array, received string", code: "invalid_type" },
      { path: "names", message: "Invalid input: expected array, received string", code: "invalid_type" },
    ]);
    // The limits of a field of the right type are still said.
    expect(toHearthError(schema.safeParse({ ids: [], names: [] }).error).details?.issues).toEqual([
      { path: "names", message: expect.any(String), code: "too_small", origin: "array", minimum: 1 },
    ]);
  });
});
