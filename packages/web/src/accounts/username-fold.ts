/**
 * User names are unique without regard to case or Unicode width: "Alice", "ALICE" and the
 * full-width "ＡＬＩＣＥ" are one name. The account keeps the spelling it was created with (shown
 * everywhere); the folded form is what uniqueness, sign-in and the sign-in throttle compare.
 * NFKC, then lower case, then NFKC again (lowering can leave a sequence NFKC would compose).
 */
export function foldUsername(name: string): string {
  return name.normalize("NFKC").toLowerCase().normalize("NFKC");
}
