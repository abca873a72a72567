/**
 * The shape of a prompt in the prompt library, shared by the web service (which refuses another)
 * and the web UI (whose form holds no more). Free of other imports, so the UI bundles it alone
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
