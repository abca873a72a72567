import type { StreamPart } from "../runtime/language-model.js";

const OPEN = "<think>";
const CLOSE = "</think>";

/**
 * Splits DeepSeek-R1 style `<think>…</think>` reasoning out of streamed text, also when a tag is split
 * across chunks, and when the chat template already opened the tag (`impliedOpen`: the model's output
 * starts inside the reasoning; older R1 templates do not open it, and an Ollama asked without `think`
 * passes the tag on, so a leading `<think>` is dropped there too). Text outside the tags passes
 * through unchanged; whitespace around the reasoning belongs to neither part.
 */
export class ThinkSplitter {
  #state: "start" | "thinking-start" | "thinking" | "answer-start" | "answer";
  #pending = "";

  constructor(options: { impliedOpen?: boolean } = {}) {
    this.#state = options.impliedOpen ? "thinking-start" : "start";
  }

  /** Feeds one text chunk; returns the parts it completes. */
  push(text: string): StreamPart[] {
    this.#pending += text;
    const parts: StreamPart[] = [];
    for (;;) {
      if (this.#state === "answer") {
        if (this.#pending) parts.push({ type: "text-delta", text: this.#pending });
        this.#pending = "";
        return parts;
      }
      if (this.#state === "answer-start") {
        // The blank lines DeepSeek puts after </think> belong to neither part.
        this.#pending = this.#pending.replace(/^\s+/, "");
        if (this.#pending.length === 0) return parts;
        this.#state = "answer";
        continue;
      }
      if (this.#state === "start" || this.#state === "thinking-start") {
        // Before the answer (or the reasoning) begins: a "<think>" opens the reasoning, or is the
        // tag the template opened written again by the model; whitespace before reasoning is dropped.
        const reasoning = this.#state === "thinking-start";
        const trimmed = this.#pending.trimStart();
        if (reasoning) this.#pending = trimmed;
        if (trimmed.length === 0) return parts;
        if (trimmed.startsWith(OPEN)) {
          this.#pending = trimmed.slice(OPEN.length);
          this.#state = "thinking-start";
          continue;
        }
        if (OPEN.startsWith(trimmed)) return parts; // maybe the start of "<think>": wait for more
        this.#state = reasoning ? "thinking" : "answer";
        continue;
      }
      // thinking
      const close = this.#pending.indexOf(CLOSE);
      if (close >= 0) {
        const reasoning = this.#pending.slice(0, close);
        if (reasoning) parts.push({ type: "reasoning-delta", text: reasoning });
        this.#pending = this.#pending.slice(close + CLOSE.length);
        this.#state = "answer-start";
        continue;
      }
      // Hold back a suffix that could be the start of "</think>".
      let keep = 0;
      for (let length = Math.min(CLOSE.length - 1, this.#pending.length); length > 0; length--) {
        if (CLOSE.startsWith(this.#pending.slice(-length))) {
          keep = length;
          break;
        }
      }
      const emit = this.#pending.slice(0, this.#pending.length - keep);
      if (emit) parts.push({ type: "reasoning-delta", text: emit });
      this.#pending = this.#pending.slice(this.#pending.length - keep);
      return parts;
    }
  }

  /** Flushes what was held back at the end of the stream. */
  flush(): StreamPart[] {
    const rest = this.#pending;
    this.#pending = "";
    if (!rest || this.#state === "answer-start") return [];
    const reasoning = this.#state === "thinking" || this.#state === "thinking-start";
    return [{ type: reasoning ? "reasoning-delta" : "text-delta", text: rest }];
  }
}

/** Applies a ThinkSplitter to a stream's text deltas. */
export async function* splitThinking(
  parts: AsyncIterable<StreamPart>,
  impliedOpen: boolean,
): AsyncGenerator<StreamPart> {
  const splitter = new ThinkSplitter({ impliedOpen });
  // A runtime that separates reasoning itself (node-llama-cpp's thought segments, Ollama `thinking`,
  // `reasoning_content`) needs no splitting: its text is all answer.
  let runtimeSplits = false;
  for await (const part of parts) {
    if (part.type === "reasoning-delta" && !runtimeSplits) {
      runtimeSplits = true;
      yield* splitter.flush();
    }
    if (part.type === "text-delta" && !runtimeSplits) {
      yield* splitter.push(part.text);
      continue;
    }
    if (part.type === "finish" || part.type === "error") yield* splitter.flush();
    yield part;
  }
}
