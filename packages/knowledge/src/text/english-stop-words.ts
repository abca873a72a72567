/**
 * English function words dropped from the full-text index and from queries: they carry no topic,
 * and dropping them shortens posting-list scans. Kept short on purpose (negations stay).
 */
export const ENGLISH_STOP_WORDS: ReadonlySet<string> = new Set(
  (
    "a an and are as at be been but by did do does for from had has have he her his i if in into is it its " +
    "me my of on or our she so than that the their them then there these they this those to was we were " +
    "what when where which while who whom why will with would you your"
  ).split(" "),
);
