import type { Logger } from "@hearth/core";
import type { AnswerText } from "../conversations/conversation-store.js";

/** How often a streaming answer's text so far is stored (when it changed since it last was). */
export const PROGRESS_INTERVAL_MS = 1000;
/**
 * How often it is stored when it did not change (waiting in the model's queue, a long first token):
 * the store's heartbeat, well inside ANSWER_SILENCE_MS, after which an answer is taken for abandoned.
 */
export const HEARTBEAT_MS = 5000;

/**
 * Stores a streaming answer as it stands every second, when it changed (else every HEARTBEAT_MS),
 * so that other processes read it as it grows (another device's page, another replica), know its
 * writer is alive, and a crash leaves what was sent (it is kept, marked interrupted). Nothing is
 * done per token: a timer reads the answer. A write that fails is logged (the first only) and the answer goes on;
 * none starts while one is in flight. `stop` resolves once the last write has landed, so the
 * answer's final write comes after it.
 */
export function storeProgressPeriodically(
  read: () => AnswerText,
  store: (soFar: AnswerText) => Promise<void>,
  logger: Logger,
): { stop(): Promise<void> } {
  /** The sizes last stored: an answer only grows, so a change of size is a change. */
  let stored = sizes({ content: "", reasoning: null });
  /** When the answer was last stored: appended as streaming just before this starts. */
  let storedAt = Date.now();
  let writing: Promise<void> | undefined;
  /** Whether a failed write was logged. */
  let warned = false;
  const timer = setInterval(() => {
    if (writing) return;
    const soFar = read();
    const now = sizes(soFar);
    if (now === stored && Date.now() - storedAt < HEARTBEAT_MS) return;
    writing = store(soFar)
      .then(
        () => {
          stored = now;
          storedAt = Date.now();
        },
        (error: unknown) => {
          // Once per answer: the next writes of an answer meet the same outage, a second a time.
          if (warned) return;
          warned = true;
          logger.warn(
            { reason: (error as { code?: string }).code ?? (error as Error).message },
            "could not store the answer so far; it is stored when it ends",
          );
        },
      )
      .finally(() => {
        writing = undefined;
      });
  }, PROGRESS_INTERVAL_MS);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await writing;
    },
  };
}

function sizes(answer: AnswerText): string {
  return `${answer.content.length}/${answer.reasoning?.length ?? 0}/${answer.citations?.length ?? 0}`;
}
