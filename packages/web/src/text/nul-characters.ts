import { HearthError } from "@hearth/core";
import type { FastifyInstance } from "fastify";

declare module "fastify" {
  interface FastifyContextConfig {
    /**
     * A route whose body is another system's data (an import): NUL characters are taken out of its
     * texts rather than refused.
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
 */
export function registerNulCharacterCheck(app: FastifyInstance): void {
  app.addHook("preHandler", async (request) => {
    if (request.routeOptions.config?.nulCharacters === "strip") {
      request.body = withoutNul(request.body);
      return;
    }
    for (const value of [request.params, request.query, request.body]) {
      const path = nulPath(value);
      if (path) {
        const where = path.join(".");
        const message = "the text holds a NUL character (U+0000), which Hearth does not store";
        throw new HearthError("INVALID_REQUEST", where ? `${where}: ${message}` : message, {
          details: { issues: [{ path: where, message, code: "nul_character" }] },
        });
      }
    }
  });
}

/** A place in a JSON value: its key, under its parent's place (a path built only when needed). */
interface Place {
  key: string | number;
  parent: Place | undefined;
}

/**
 * Where a text (or key) holding a NUL character is in a JSON value, or undefined. Walked
 * without recursion, keeping no path per value: JSON may nest deep.
 */
function nulPath(value: unknown): Array<string | number> | undefined {
  const stack: Array<{ value: unknown; place: Place | undefined }> = [{ value, place: undefined }];
  while (stack.length > 0) {
    const { value, place } = stack.pop() as (typeof stack)[number];
    if (typeof value === "string" && value.includes("\u0000")) return pathOf(place);
    for (const [key, item] of entriesOf(value)) {
      const at = { key, parent: place };
      if (typeof key === "string" && key.includes("\u0000")) return pathOf(at);
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

/** A JSON value with the NUL characters taken out of its texts and keys (its arrays and objects changed in place). */
export function withoutNul(value: unknown): unknown {
  if (typeof value === "string") return value.replaceAll("\u0000", "");
  const stack = [value];
  while (stack.length > 0) {
    const next = stack.pop();
    for (const [key, item] of entriesOf(next)) {
      const container = next as Record<string | number, unknown>;
      if (typeof item === "string") {
        if (item.includes("\u0000")) setOwn(container, key, item.replaceAll("\u0000", ""));
      } else stack.push(item);
      if (typeof key === "string" && key.includes("\u0000")) {
        const kept = container[key];
        delete container[key];
        setOwn(container, key.replaceAll("\u0000", ""), kept);
      }
    }
  }
  return value;
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
