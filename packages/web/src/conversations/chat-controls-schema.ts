import {
  CHAT_CONTROL_LIMITS,
  CHAT_CONTROL_NAMES,
  type ChatControlName,
  type ChatControls,
  chatControlRule,
  isChatControlValue,
} from "@hearth/contracts";
import { z } from "zod";

/** One control as a request gives it: a number in its range, null (the model's own), or absent (unchanged). */
function controlSchema(name: ChatControlName) {
  const limit = CHAT_CONTROL_LIMITS[name];
  const error = chatControlRule(name);
  const number = z.number({ error });
  const fromMin = limit.aboveMin ? number.gt(limit.min, { error }) : number.min(limit.min, { error });
  const inRange = fromMin.max(limit.max, { error });
  return (limit.integer ? inRange.int({ error }) : inRange).nullable().optional();
}

/** The Chat controls' fields of a conversation's POST and PATCH bodies. */
export const chatControlsFields = Object.fromEntries(
  CHAT_CONTROL_NAMES.map((name) => [name, controlSchema(name)]),
) as Record<ChatControlName, ReturnType<typeof controlSchema>>;

/** The controls a validated body gives (null included: back to the model's own), without those it leaves out. */
export function controlsGiven(body: Partial<Record<ChatControlName, number | null | undefined>>) {
  const given: Partial<ChatControls> = {};
  for (const name of CHAT_CONTROL_NAMES) if (body[name] !== undefined) given[name] = body[name];
  return given;
}

/** A validated body's Chat controls (controlsGiven) apart from its other fields. */
export function separateControls<Body extends Partial<Record<ChatControlName, number | null | undefined>>>(
  body: Body,
): { controls: Partial<ChatControls>; rest: Omit<Body, ChatControlName> } {
  const rest: Partial<Body> = { ...body };
  for (const name of CHAT_CONTROL_NAMES) delete rest[name];
  return { controls: controlsGiven(body), rest: rest as Omit<Body, ChatControlName> };
}

/**
 * The controls another system's file gives by their names (CHAT_CONTROL_NAMES), among its other
 * fields, read tolerantly (an import): each one in range is kept; one out of range or of another
 * type is left to the model's own, as the file's other settings are.
 */
export function controlsReadFrom(values: Readonly<Record<string, unknown>>): Partial<ChatControls> {
  const read: Partial<ChatControls> = {};
  for (const name of CHAT_CONTROL_NAMES) {
    const value = values[name];
    if (isChatControlValue(name, value)) read[name] = value;
  }
  return read;
}
