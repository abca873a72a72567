import { useEffect, useState, useSyncExternalStore } from "react";
import { useI18n } from "./i18n.js";
import {
  answerLanguage,
  chooseVoice,
  localVoices,
  parseChoices,
  READ_ALOUD_KEY,
  type ReadAloudChoices,
  speakableText,
} from "./read-aloud.js";

/** The browser's speech synthesis, where it has one. */
function synthesis(): SpeechSynthesis | undefined {
  return typeof window !== "undefined" && "speechSynthesis" in window ? window.speechSynthesis : undefined;
}

/** This machine's local voices, kept as one array until the browser says they changed. */
let voices: SpeechSynthesisVoice[] | undefined;
function readVoices(): SpeechSynthesisVoice[] {
  return localVoices(synthesis()?.getVoices() ?? []);
}
function voicesSnapshot(): SpeechSynthesisVoice[] {
  if (voices === undefined) voices = readVoices();
  return voices;
}
function subscribeVoices(changed: () => void): () => void {
  const speech = synthesis();
  if (!speech) return () => {};
  const update = () => {
    const next = readVoices();
    const same =
      voices !== undefined &&
      next.length === voices.length &&
      next.every((voice, index) => voice.voiceURI === voices![index]!.voiceURI);
    if (same) return;
    voices = next;
    changed();
  };
  // Chromium lists its voices only after a first getVoices(), then says so with voiceschanged.
  speech.addEventListener("voiceschanged", update);
  update();
  return () => speech.removeEventListener("voiceschanged", update);
}

/** The voices that run on this machine (none where the browser has no speech synthesis). */
export function useLocalVoices(): SpeechSynthesisVoice[] {
  return useSyncExternalStore(subscribeVoices, voicesSnapshot, () => []);
}

/** The reader's voice and rate on this browser (Settings → Read aloud). */
export function readChoices(): ReadAloudChoices {
  return parseChoices(localStorage.getItem(READ_ALOUD_KEY));
}
export function saveChoices(choices: ReadAloudChoices): void {
  localStorage.setItem(READ_ALOUD_KEY, JSON.stringify(choices));
}

/** Which answer is being read (its key), for every button to show Stop on that one alone. */
let speaking: string | undefined;
/** The utterance being spoken, held so that it is not collected before it ends (Chromium's onend then never fires). */
let current: SpeechSynthesisUtterance | undefined;
const listeners = new Set<() => void>();
function setSpeaking(key: string | undefined) {
  speaking = key;
  for (const listener of listeners) listener();
}
function subscribeSpeaking(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Stops reading (another answer started, the chat was left, Stop pressed). */
export function stopReading(): void {
  if (speaking === undefined && current === undefined) return;
  current = undefined;
  setSpeaking(undefined);
  synthesis()?.cancel();
}

/**
 * Reads `text` aloud with a local voice for its language (the reader's preferred one where it
 * fits); whatever was being read stops first. False when there is no local voice or nothing to say.
 */
export function readAloud(key: string, text: string, pageLanguage: string): boolean {
  const words = speakableText(text);
  const choices = readChoices();
  const voice = chooseVoice(readVoices(), answerLanguage(words, pageLanguage), choices.voiceURI);
  return speak(key, words, voice, choices.rate);
}

/** Says `text` with the voice and rate chosen in Settings, before they are used on an answer. */
export function tryVoice(
  key: string,
  text: string,
  choices: ReadAloudChoices,
  pageLanguage: string,
): boolean {
  const local = readVoices();
  const chosen = local.find((voice) => voice.voiceURI === choices.voiceURI);
  const voice = chooseVoice(local, chosen?.lang ?? answerLanguage(text, pageLanguage), choices.voiceURI);
  return speak(key, text, voice, choices.rate);
}

function speak(key: string, words: string, voice: SpeechSynthesisVoice | undefined, rate: number): boolean {
  const speech = synthesis();
  stopReading();
  // Only a local voice is ever set: without one, nothing is spoken (the browser's default voice
  // may be a network one).
  if (!speech || !voice?.localService || !words) return false;
  const utterance = new SpeechSynthesisUtterance(words);
  utterance.voice = voice;
  utterance.lang = voice.lang;
  utterance.rate = rate;
  const ended = () => {
    if (current !== utterance) return;
    current = undefined;
    setSpeaking(undefined);
  };
  utterance.onend = ended;
  utterance.onerror = ended;
  current = utterance;
  setSpeaking(key);
  speech.speak(utterance);
  return true;
}

/** Whether the answer (or sample) of that key is being read now. */
export function useReading(key: string): boolean {
  return useSyncExternalStore(subscribeSpeaking, () => speaking === key);
}

/**
 * An answer's "Read aloud" button, Stop while it is read. Not shown where the browser has no
 * speech synthesis or no local voice (a network voice would send the answer away).
 */
export function ReadAloudButton({ id, text }: { id: string; text: string }) {
  const { t, locale } = useI18n();
  const local = useLocalVoices();
  const reading = useReading(id);
  const [unreadable, setUnreadable] = useState(false);
  // An answer whose text changes (another version shown) is not the one being read.
  // biome-ignore lint/correctness/useExhaustiveDependencies: the text is what it resets on
  useEffect(() => setUnreadable(false), [text]);
  if (local.length === 0) return null;
  return (
    <button
      type="button"
      className="small"
      disabled={unreadable}
      onClick={() => {
        if (reading) stopReading();
        else if (!readAloud(id, text, locale)) setUnreadable(true);
      }}
    >
      {reading ? t.stopReading : t.readAloud}
    </button>
  );
}
