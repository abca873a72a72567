/**
 * The languages the UI offers, each named in itself and marked with its language, so a screen
 * reader says "简体中文" in Chinese on an English page (and "English" in English on a Chinese one).
 */
export function LanguageOptions() {
  return (
    <>
      <option value="en" lang="en">
        English
      </option>
      <option value="zh-CN" lang="zh-CN">
        简体中文
      </option>
    </>
  );
}
