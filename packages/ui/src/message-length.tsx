import { numberText } from "./display-text.js";
import { fill, useI18n } from "./i18n.js";

/** The id of the line saying the message's length, which the message box is described by while shown. */
export const MESSAGE_LENGTH_ID = "message-length";

/** Whether the length of a message being typed is said: once a tenth of the limit is left, and over it. */
export function lengthShown(length: number, max: number): boolean {
  return length >= max * 0.9;
}

/**
 * The length of the message being typed against the longest the service takes (web.maxMessageChars),
 * under the message box as it nears the limit; over it, how many characters too many, as an error.
 */
export function MessageLength({ length, max }: { length: number; max: number }) {
  const { t } = useI18n();
  if (!lengthShown(length, max)) return null;
  const over = length > max;
  return (
    <p id={MESSAGE_LENGTH_ID} className={over ? "error-text composer-notice" : "muted composer-notice"}>
      {fill(over ? t.messageOverLimit : t.messageLength, {
        n: numberText(t, length),
        max: numberText(t, max),
        over: numberText(t, length - max),
      })}
    </p>
  );
}
