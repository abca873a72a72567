import { HearthError } from "../errors/hearth-error.js";

/**
 * An id as one segment of another service's URL: encoded, and never `.` or `..` (nor empty), which
 * URL parsing resolves even when encoded (`/documents/%2E%2E` addresses the base itself), so a
 * request would reach another route than the one checked.
 */
export function pathSegment(id: string): string {
  if (id === "" || id === "." || id === "..")
    throw new HearthError("INVALID_REQUEST", `"${id}" is not a valid id`);
  return encodeURIComponent(id);
}
