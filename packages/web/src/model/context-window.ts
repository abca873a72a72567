import { HearthError } from "@hearth/core";
import { z } from "zod";

/**
 * What the model service's /api/show says of a model's context, as far as prompt sizing needs it:
 * `parameters` may hold `num_ctx N` (the context the model is served with; Hearth's embedded
 * models always say it) and `model_info` a `<family>.context_length` (the one it was trained on).
 */
const showAnswer = z.object({
  parameters: z.string().nullish(),
  model_info: z.record(z.string(), z.unknown()).nullish(),
});

/** The context a model is served with, from its /api/show answer; undefined when it says nothing. */
export function contextFromShow(answer: unknown): number | undefined {
  const parsed = showAnswer.safeParse(answer);
  if (!parsed.success) return undefined;
  const served = /(?:^|\n)\s*num_ctx\s+(\d+)/.exec(parsed.data.parameters ?? "");
  const trained = Object.entries(parsed.data.model_info ?? {}).find(
    ([key, value]) => key.endsWith(".context_length") && typeof value === "number" && value > 0,
  )?.[1] as number | undefined;
  const candidates = [served ? Number(served[1]) : undefined, trained].filter(
    (n): n is number => n !== undefined && Number.isFinite(n) && n > 0,
  );
  return candidates.length > 0 ? Math.min(...candidates) : undefined;
}

/** How long a learned context is trusted (a model file replaced, the service restarted with another size). */
const KNOWN_TTL_MS = 5 * 60_000;
/** How long "not known" is kept (the model service down, a model it cannot describe). */
const UNKNOWN_TTL_MS = 30_000;
/** The most the token estimate is scaled up by what a model reported (a tokenizer that splits text finely). */
const MAX_SCALE = 4;

interface Entry {
  tokens: Promise<number | undefined>;
  expiresAt: number;
  /** The last context learned (answered while it is asked again); undefined while none is known. */
  known: number | undefined;
}

/**
 * Per model: the context window (asked of the model service once, then cached) and how far the
 * web service's token estimate falls short of the model's own count (learned from the prompt
 * tokens it reports after each answer; 1 until it reports more than estimated).
 */
export class ContextWindows {
  readonly #show: (model: string) => Promise<unknown>;
  readonly #now: () => number;
  readonly #windows = new Map<string, Entry>();
  readonly #scales = new Map<string, number>();

  constructor(show: (model: string) => Promise<unknown>, now: () => number = Date.now) {
    this.#show = show;
    this.#now = now;
  }

  /**
   * The model's context in tokens, or undefined when the model service does not say. A context
   * once learned is answered at once, also while it is asked again after KNOWN_TTL_MS: only a
   * model's first request (or one while none is known) waits for the model service.
   */
  async contextTokens(model: string): Promise<number | undefined> {
    const now = this.#now();
    let entry = this.#windows.get(model);
    if (!entry || entry.expiresAt <= now) entry = this.#ask(model, now, entry?.known);
    return entry.known ?? entry.tokens;
  }

  #ask(model: string, now: number, known: number | undefined): Entry {
    const entry: Entry = {
      tokens: this.#show(model).then(contextFromShow, () => undefined),
      // One question at a time per model: callers meanwhile share it.
      expiresAt: now + UNKNOWN_TTL_MS,
      known,
    };
    void entry.tokens.then((tokens) => {
      if (tokens === undefined) return;
      entry.known = tokens;
      entry.expiresAt = this.#now() + KNOWN_TTL_MS;
    });
    this.#windows.set(model, entry);
    // Bounded: one entry per model name a user has tried.
    if (this.#windows.size > 1000) this.#windows.delete(this.#windows.keys().next().value as string);
    return entry;
  }

  /** By how much to scale the estimate for this model (at least 1). */
  scale(model: string): number {
    return this.#scales.get(model) ?? 1;
  }

  /**
   * Learns from one answer: the model counted `reported` prompt tokens where `estimated` were
   * expected. Only a shortfall raises the scale; it never drops below 1 (the estimate is already
   * conservative for common tokenizers), and the latest count replaces an older one.
   */
  noteUsage(model: string, estimated: number, reported: number | undefined): void {
    if (!reported || estimated <= 0) return;
    const ratio = Math.min(MAX_SCALE, reported / estimated);
    if (ratio > 1) this.#scales.set(model, ratio);
    else this.#scales.delete(model);
    if (this.#scales.size > 1000) this.#scales.delete(this.#scales.keys().next().value as string);
  }

  /**
   * Learns from a prompt the model refused as too long for its context (CONTEXT_OVERFLOW with the
   * prompt's token count in its details) where `estimated` tokens were expected: true when the
   * scale rose, so that the prompt fitted again comes out smaller.
   */
  learnFromOverflow(model: string, estimated: number, error: unknown): boolean {
    if (!(error instanceof HearthError) || error.code !== "CONTEXT_OVERFLOW") return false;
    const reported = error.details?.promptTokens;
    if (typeof reported !== "number") return false;
    const before = this.scale(model);
    this.noteUsage(model, estimated, reported);
    return this.scale(model) > before;
  }
}

/**
 * Asks the model with a prompt fitted to its context (`fit` reads the model's current scale); when
 * the model still finds it too long (its tokenizer splits this text more finely than estimated: a
 * Llama 2 vocabulary spends about three tokens on a Han character), learns by how much from the
 * count it reports, fits the prompt again and asks once more.
 */
export async function askFitted<P extends { estimatedTokens: number }, T>(
  windows: ContextWindows,
  model: string,
  fit: () => P,
  ask: (prompt: P) => Promise<T>,
): Promise<{ prompt: P; answer: T }> {
  const prompt = fit();
  try {
    return { prompt, answer: await ask(prompt) };
  } catch (error) {
    if (!windows.learnFromOverflow(model, prompt.estimatedTokens, error)) throw error;
    const refitted = fit();
    return { prompt: refitted, answer: await ask(refitted) };
  }
}
