/**
 * A prompt of the prompt library as the web service gives it and the web UI shows it, and its
 * limits, shared by the web service (which refuses another) and the web UI (whose form holds no more). Free of other imports, so the UI bundles it alone
 * (`@hearth/contracts/prompt-command`).
 */

/** The longest command, in characters (without its "/"). */
export const PROMPT_COMMAND_MAX_CHARS = 50;
/** The longest title, in characters. */
export const PROMPT_TITLE_MAX_CHARS = 100;
/**
 * What a command is made of: letters (Chinese, Japanese and Korean ones too), digits, "-" and "_",
 * with the marks some scripts write letters with. No space: the command ends where a space does.
 */
export const PROMPT_COMMAND_PATTERN = /^[\p{L}\p{M}\p{N}_-]+$/u;

/** A prompt as `GET /api/prompts` gives it: the caller's own, or shared with everyone. */
export interface Prompt {
  id: string;
  /** Without the "/" typed before it. */
  command: string;
  title: string;
  content: string;
  /** Shared with everyone by an administrator (else the caller's own). */
  shared: boolean;
  /** Whether the caller may change and delete it: their own, or a shared one for an administrator. */
  editable: boolean;
  /**
   * A shared prompt whose command one of the caller's own has too: theirs is the one "/" offers
   * (`shadowedBy` is its id). Absent on the caller's own prompts.
   */
  shadowedBy?: string;
  createdAt: string;
  updatedAt: string;
}
