import { z } from "zod";
import { labelId } from "./fields.js";

/** A word list file and what a hit on it does (the `@hearth/sensitive-words` list shape). */
export const wordListSchema = z.strictObject({
  /** Names the list in metrics labels, logs and error details (never the words). */
  id: labelId,
  /** A UTF-8 text file, one word or phrase a line; `#` starts a comment. Reloaded when it changes. */
  file: z.string().min(1),
  /**
   * block: refuse; drop: remove the item; mask: replace the words with *; flag: count only;
   * allow: longer words that hold a listed word and are let through (手机密码 with 机密 listed).
   */
  action: z.enum(["block", "drop", "mask", "flag", "allow"]),
});

/**
 * The sensitive-word filter's configuration, one shape read by every service that filters:
 * `search.filter` (queries, results, fetched pages) and `web.filter` (chat input, model output).
 * What each action means on each side is in docs/sensitive-words.md.
 */
export const sensitiveWordsSection = z
  .strictObject({
    lists: z.array(wordListSchema).default([]),
    /** How often word list files are checked for changes. */
    reloadIntervalMs: z.number().int().min(20).max(3_600_000).default(2000),
  })
  .superRefine((section, context) => {
    const seen = new Set<string>();
    section.lists.forEach((list, index) => {
      if (seen.has(list.id))
        context.addIssue({
          code: "custom",
          path: ["lists", index, "id"],
          message: `duplicate list id "${list.id}"`,
        });
      seen.add(list.id);
    });
  });

export type SensitiveWordsConfig = z.output<typeof sensitiveWordsSection>;
