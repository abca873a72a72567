import { useEffect, useState } from "react";
import { fill, useI18n } from "./i18n.js";
import { RATE_MAX, RATE_MIN } from "./read-aloud.js";
import {
  readChoices,
  saveChoices,
  stopReading,
  tryVoice,
  useLocalVoices,
  useReading,
} from "./read-aloud-button.js";

const SAMPLE = "settings-sample";

/**
 * Settings → Read aloud: the voice answers are read with (this device's local voices only, or the
 * one that fits each answer's language) and the speed. Kept in this browser's localStorage, not
 * with the account: the voices are the device's own (a laptop's voice is not on the phone).
 */
export function ReadAloudSettings() {
  const { t, locale } = useI18n();
  const voices = useLocalVoices();
  const [choices, setChoices] = useState(readChoices);
  const reading = useReading(SAMPLE);
  // The sample stops when the page is left.
  useEffect(() => stopReading, []);
  const choose = (change: Partial<typeof choices>) => {
    const next = { ...choices, ...change };
    setChoices(next);
    saveChoices(next);
  };
  return (
    <section aria-labelledby="read-aloud-title">
      <h3 id="read-aloud-title">{t.readAloudSettings}</h3>
      <p id="read-aloud-hint" className="muted">
        {t.readAloudHint}
      </p>
      {voices.length === 0 ? (
        <p>{t.readAloudNoVoice}</p>
      ) : (
        <div className="page-form">
          {/* Each field named by its label alone (a label around it would add its options to its name). */}
          <label htmlFor="read-aloud-voice">{t.readAloudVoice}</label>
          <select
            id="read-aloud-voice"
            value={voices.some((voice) => voice.voiceURI === choices.voiceURI) ? choices.voiceURI! : ""}
            aria-describedby="read-aloud-hint"
            onChange={(e) => choose({ voiceURI: e.target.value || null })}
          >
            <option value="">{t.readAloudVoiceAuto}</option>
            {voices.map((voice) => (
              <option key={voice.voiceURI} value={voice.voiceURI}>
                {fill(t.withNote, { text: voice.name, note: voice.lang })}
              </option>
            ))}
          </select>
          <label htmlFor="read-aloud-rate">{t.readAloudRate}</label>
          <span className="range-with-value">
            <input
              id="read-aloud-rate"
              type="range"
              min={RATE_MIN}
              max={RATE_MAX}
              step={0.1}
              value={choices.rate}
              aria-valuetext={fill(t.readAloudRateValue, { rate: choices.rate.toFixed(1) })}
              onChange={(e) => choose({ rate: Number(e.target.value) })}
            />
            <output htmlFor="read-aloud-rate">
              {fill(t.readAloudRateValue, { rate: choices.rate.toFixed(1) })}
            </output>
          </span>
          <div className="form-buttons">
            <button
              type="button"
              onClick={() => (reading ? stopReading() : tryVoice(SAMPLE, t.readAloudSample, choices, locale))}
            >
              {reading ? t.stopReading : t.readAloudTry}
            </button>
          </div>
        </div>
      )}
    </section>
  );
}
