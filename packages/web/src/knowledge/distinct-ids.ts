import { z } from "zod";

/**
 * A request's list of knowledge base ids, each counted once: a repeated id is dropped (the first
 * kept, in the order given) before `list`'s checks, so that its length limit counts different ids
 * ("at most 20": 21 times the same id is one). Anything but an array goes to `list` as it came, to
 * be refused by it.
 */
export function distinctIds<T extends z.ZodType>(list: T) {
  return z.preprocess((value) => (Array.isArray(value) ? [...new Set(value)] : value), list);
}
