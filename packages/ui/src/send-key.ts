/** What a key press in a message box says of itself (a React or a DOM keyboard event's fields). */
export interface KeyPress {
  key: string;
  shiftKey: boolean;
  keyCode: number;
  /** Whether an input method is composing (the native event's isComposing). */
  isComposing: boolean;
}

/**
 * Whether a key press in a message box sends it, as the composer and an edit box take it: Enter
 * sends, Shift+Enter is a new line, and an Enter that commits an input method's candidate (Chinese,
 * Japanese) is neither; Safari reports that one with keyCode 229 rather than isComposing.
 */
export function sendsMessage(press: KeyPress): boolean {
  const composing = press.isComposing || press.keyCode === 229;
  return press.key === "Enter" && !press.shiftKey && !composing;
}

/** A React keyboard event as a KeyPress. */
export const keyPressOf = (event: {
  key: string;
  shiftKey: boolean;
  keyCode: number;
  nativeEvent: { isComposing: boolean };
}): KeyPress => ({
  key: event.key,
  shiftKey: event.shiftKey,
  keyCode: event.keyCode,
  isComposing: event.nativeEvent.isComposing,
});
