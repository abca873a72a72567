import { isTooLong } from "@hearth/contracts";
import { z } from "zod";

/**
 * A text of at most `limit` characters, counted as every Hearth text limit is (isTooLong: UTF-16
 * code units, as a form's maxlength counts), refused with the `too_big` issue zod's own `.max`
 * gives: `.max` counts code points once a text is over the limit, so an emoji would count one.
 * `schema`: the string schema it adds the check to (its own checks first).
 */
export function limitedText(limit: number, schema: z.ZodString = z.string()) {
  return schema.superRefine((text, context) => {
    if (isTooLong(text, limit))
      context.addIssue({ code: "too_big", origin: "string", maximum: limit, inclusive: true, input: text });
  });
}
