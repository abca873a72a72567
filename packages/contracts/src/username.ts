/**
 * The one rule for a user name, shared by the web service (which refuses others at sign-up) and the
 * web UI (which says so before sending): 2 to 64 letters of any script, digits, or _ . @ -; no
 * spaces; and letters of one script, so that no name passes for another (below).
 * Free of other imports, so the UI bundles it alone (`@hearth/contracts/username`).
 */
const USERNAME = /^[\p{L}\p{N}_.@-]{2,64}$/u;

/** The rule as the web service's INVALID_REQUEST message states it (after `username: `). */
export const USERNAME_RULE = "2 to 64 letters, digits or _ . @ -";

/** The script rule as the web service's INVALID_REQUEST message states it (after `username: `). */
export const USERNAME_SCRIPTS_RULE =
  "letters of one script only (Latin may go with Chinese, Japanese or Korean letters)";

/**
 * The scripts a name's letters and digits are told apart by (a character of a script not listed
 * counts as "Other"; digits, `_ . @ -` and other characters common to all scripts count as none).
 * Those whose letters look like Latin ones (Cyrillic а, Greek ο, Armenian օ, Cherokee Ꭺ) are the
 * point; the others keep a name from mixing them too.
 */
const SCRIPTS = [
  "Latin",
  "Greek",
  "Cyrillic",
  "Armenian",
  "Georgian",
  "Cherokee",
  "Coptic",
  "Hebrew",
  "Arabic",
  "Syriac",
  "Thaana",
  "Devanagari",
  "Bengali",
  "Gurmukhi",
  "Gujarati",
  "Oriya",
  "Tamil",
  "Telugu",
  "Kannada",
  "Malayalam",
  "Sinhala",
  "Thai",
  "Lao",
  "Tibetan",
  "Myanmar",
  "Khmer",
  "Mongolian",
  "Ethiopic",
  "Canadian_Aboriginal",
  "Tifinagh",
  "Yi",
  "Han",
  "Hiragana",
  "Katakana",
  "Bopomofo",
  "Hangul",
] as const;

/** One character's script, as a named group of the one that matched. */
const SCRIPT = new RegExp(
  `${SCRIPTS.map((script) => `(?<${script}>\\p{Script=${script}})`).join("|")}|(?<Other>[^\\p{Script=Common}\\p{Script=Inherited}])`,
  "gu",
);

/**
 * The scripts that may share a name, as Unicode's "highly restrictive" level has it (UTS #39):
 * Latin with the scripts written beside it in Japan, China and Korea ("张wei", "kim민준").
 */
const MIXES: ReadonlyArray<ReadonlySet<string>> = [
  new Set(["Latin", "Han", "Hiragana", "Katakana"]),
  new Set(["Latin", "Han", "Bopomofo"]),
  new Set(["Latin", "Han", "Hangul"]),
];

/**
 * What is wrong with a new user name, or undefined when nothing is: `shape` (length or a character
 * outside the rule), `mixed-scripts` (letters of scripts that do not go together, as the Cyrillic
 * а of "аlice" beside Latin letters: it would pass for "alice").
 */
export function usernameProblem(username: string): "shape" | "mixed-scripts" | undefined {
  if (!USERNAME.test(username)) return "shape";
  const scripts = new Set<string>();
  for (const match of username.matchAll(SCRIPT))
    for (const [script, character] of Object.entries(match.groups ?? {})) if (character) scripts.add(script);
  if (scripts.size <= 1 || MIXES.some((mix) => [...scripts].every((script) => mix.has(script))))
    return undefined;
  return "mixed-scripts";
}

export function isValidUsername(username: string): boolean {
  return usernameProblem(username) === undefined;
}

/**
 * A name as Hearth compares it for uniqueness: without regard to case or Unicode width, so "Alice",
 * "ALICE" and the full-width "ＡＬＩＣＥ" are one. User names (sign-in and its throttle compare this
 * too), folder names and prompt commands; what was typed is kept for display. NFKC, then lower
 * case, then NFKC again (lowering can leave a sequence NFKC would compose).
 */
export function foldName(name: string): string {
  return name.normalize("NFKC").toLowerCase().normalize("NFKC");
}
