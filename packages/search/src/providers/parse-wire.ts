import { z } from "zod";
import { ProviderCallError, shownUrl } from "./provider-call-error.js";

/** Validates an engine's answer against its wire schema; a mismatch is a provider error, never a crash. */
export function parseWire<T extends z.ZodType>(schema: T, body: unknown, url: string): z.output<T> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const shown = shownUrl(url);
    throw new ProviderCallError({
      url: shown,
      status: 200,
      message: `${shown} answered an unexpected shape (${issue.path.join(".") || "top level"}: ${issue.message})`,
    });
  }
  return parsed.data;
}

const nullableText = () => z.string().nullish();

/** A result object whose named fields are strings an engine may leave out or send as null. */
export function textFields<const Name extends string>(...names: Name[]) {
  return z.object(
    Object.fromEntries(names.map((name) => [name, nullableText()])) as {
      [Key in Name]: ReturnType<typeof nullableText>;
    },
  );
}
