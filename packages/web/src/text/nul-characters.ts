import { HearthError } from "@hearth/core";
import type { FastifyInstance } from "fastify";

declare module "fastify" {
  interface FastifyContextConfig {
    /**
     * A route whose body is another system's data (an import): NUL characters are taken out of its
     * texts, and lone surrogates replaced with U+FFFD, rather than refused.
     */
    nulCharacters?: "strip";
  }
}

/**
 * A NUL character (U+0000) in a text a client sends. PostgreSQL stores no text holding one (SQLite
 * does), so the web service takes none on either database: every route refuses it, wherever it is
 * in the path's parameters, the query or the JSON body, with 400 INVALID_REQUEST naming the field
 * (`details.issues[].code` "nul_character"), before the route reads anything; a route marked
 * `nulCharacters: "strip"` has them taken out instead. Registered after sign-in is checked (a
 * caller who may not call the route learns nothing of its rules).
 *
 * So is a lone UTF-16 surrogate (U+D800 to U+DFFF not in a pair), which JSON's escapes can spell
 * ("\ud800") and JSON.parse keeps as is: it is no Unicode character and has no UTF-8 form (SQLite
 * would store the bytes ED A0 80, invalid UTF-8; on the way to PostgreSQL, Node's UTF-8 encoding
 * makes it U+FFFD unasked). Refused the same way, `details.issues[].code` "lone_surrogate"; a stripping
 * route has it replaced with U+FFFD, as a UTF-8 decoder does with bytes it cannot read.
 */
export function registerNulCharacterCheck(app: FastifyInstance): void {
  app.addHook("preHandler", async (request) => {
    if (request.routeOptions.config?.nulCharacters === "strip") {
      request.body = withoutNul(request.body);
      return;
    }
    for (const value of [request.params, request.query, request.body]) {
      const found = unstorablePath(value);
      if (found) {
        const where = found.path.join(".");
        const { message, code } = UNSTORABLE[found.kind];
        throw new HearthError("INVALID_REQUEST", where ? `${where}: ${message}` : message, {
          details: { issues: [{ path: where, message, code }] },
        });
      }
    }
  });
}

/** What a text may hold that Hearth does not store, and how a refusal of it says so. */
const UNSTORABLE = {
  nul: {
    message: "the text holds a NUL character (U+0000), which Hearth does not store",
    code: "nul_character",
  },
  surrogate: {
    message:
      "the text holds a lone UTF-16 surrogate (a \\uD800-\\uDFFF escape not in a pair), which is not a Unicode character and Hearth does not store",
    code: "lone_surrogate",
  },
} as const;

/** Which of UNSTORABLE a text holds, if any. */
function unstorableIn(text: string): keyof typeof UNSTORABLE | undefined {
  if (text.includes("\u0000")) return "nul";
  if (!text.isWellFormed()) return "surrogate";
  return undefined;
}

/** A place in a JSON value: its key, under its parent's place (a path built only when needed). */
interface Place {
  key: string | number;
  parent: Place | undefined;
}

/**
 * Where a text (or key) holding a NUL character or a lone surrogate is in a JSON value, and which,
 * or undefined. Walked without recursion, keeping no path per value: JSON may nest deep.
 */
function unstorablePath(
  value: unknown,
): { path: Array<string | number>; kind: keyof typeof UNSTORABLE } | undefined {
  const stack: Array<{ value: unknown; place: Place | undefined }> = [{ value, place: undefined }];
  while (stack.length > 0) {
    const { value, place } = stack.pop() as (typeof stack)[number];
    const kind = typeof value === "string" ? unstorableIn(value) : undefined;
    if (kind) return { path: pathOf(place), kind };
    for (const [key, item] of entriesOf(value)) {
      const at = { key, parent: place };
      const inKey = typeof key === "string" ? unstorableIn(key) : undefined;
      if (inKey) return { path: pathOf(at), kind: inKey };
      stack.push({ value: item, place: at });
    }
  }
  return undefined;
}

function pathOf(place: Place | undefined): Array<string | number> {
  const path: Array<string | number> = [];
  for (let at = place; at; at = at.parent) path.unshift(at.key);
  return path;
}

/** An array's or an object's entries; none for anything else. */
function entriesOf(value: unknown): Iterable<[string | number, unknown]> {
  return Array.isArray(value) ? value.entries() : isPlainObject(value) ? Object.entries(value) : [];
}

/**
 * A JSON value with the NUL characters taken out of its texts and keys, and their lone surrogates
 * replaced with U+FFFD (its arrays and objects changed in place).
 */
export function withoutNul(value: unknown): unknown {
  if (typeof value === "string") return storable(value);
  const stack = [value];
  while (stack.length > 0) {
    const next = stack.pop();
    for (const [key, item] of entriesOf(next)) {
      const container = next as Record<string | number, unknown>;
      if (typeof item === "string") {
        if (unstorableIn(item)) setOwn(container, key, storable(item));
      } else stack.push(item);
      if (typeof key === "string" && unstorableIn(key)) {
        const kept = container[key];
        delete container[key];
        setOwn(container, storable(key), kept);
      }
    }
  }
  return value;
}

/** A text without NUL characters, its lone surrogates U+FFFD. */
function storable(text: string): string {
  return text.replaceAll("\u0000", "").toWellFormed();
}

/** Sets an own property, as JSON.parse does (a key "__proto__" too, which `=` would not). */
function setOwn(target: Record<string | number, unknown>, key: string | number, value: unknown): void {
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
}

/**
 * An object as JSON.parse or the query string's parser makes one (the latter's has no Object
 * prototype), not a Buffer or a stream some routes read as their body.
 */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const made = (value as { constructor?: unknown }).constructor;
  return made === undefined || made === Object;
}
