import { HearthError } from "@hearth/core";
import {
  type ChatWrapper,
  LlamaChat,
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaEmbeddingContext,
  type LlamaModel,
  type LlamaRankingContext,
} from "node-llama-cpp";
import type { ModelPurpose } from "../../discovery/model-purpose.js";
import { templateEmptyUserTurns } from "./empty-user-turns.js";

/**
 * The most tokens an embedding or a ranking context holds: a text to embed, or a query and a passage
 * as knowledge bases cut them, fits many times over; a longer document is scored in pieces (see
 * rerank).
 */
export const SCORING_CONTEXT_MAX = 2048;

/** The refusal of a chat or a text completion by a model that only embeds or reranks (MODEL_CANNOT_CHAT). */
export function cannotChat(model: string, purpose: ModelPurpose): HearthError {
  const what =
    purpose === "rerank"
      ? "a reranker (its GGUF has a classification head): it scores documents against a query at /v1/rerank"
      : "an embedding model (its GGUF names a pooling type): it embeds text at /api/embed and /v1/embeddings";
  return new HearthError("MODEL_CANNOT_CHAT", `"${model}" does not chat or complete text: it is ${what}`, {
    details: { model },
  });
}

/** What a model is loaded with, beside its weights. */
export interface LoadedModelParts {
  /** What its GGUF says it is for (modelPurpose). */
  purpose: ModelPurpose;
  /**
   * Its chat context, with one sequence per parallel slot: only a model that completes has one. A
   * model that only embeds or reranks refuses a chat, and has only the context it embeds or ranks in,
   * made on first use.
   */
  chatContext: LlamaContext | undefined;
  /** The tokens its context holds: the chat context's, else the one it embeds or ranks in. */
  contextSize: number;
  /** The memory it was estimated to need (weights and the context above), which /api/ps reports. */
  sizeBytes: number;
  threads: number;
  /** The keep-alive it is kept with until a request asks for another (the service's default). */
  keepAliveSeconds: number;
}

/**
 * A model in memory: its chat context's sequences, handed out one request at a time; the contexts it
 * embeds and ranks in, made on first use; and the keep-alive timer that unloads it when idle.
 *
 * Its keep-alive is the one the latest request asked for, as Ollama's scheduler keeps a runner's
 * session duration: each request sets it when it starts, a `keep_alive` without a prompt sets it
 * while others run, and it applies when the last call using the model ends. So a `keep_alive: 0`
 * sent while a long answer runs unloads the model once that answer is done, and a request that
 * started before it cannot put its own keep-alive back by finishing last.
 */
export class LoadedModel {
  readonly purpose: ModelPurpose;
  readonly contextSize: number;
  readonly sizeBytes: number;
  readonly threads: number;
  readonly #chatContext: LlamaContext | undefined;
  readonly #free: LlamaContextSequence[];
  readonly #waiters: Array<(sequence: LlamaContextSequence) => void> = [];
  /** Calls using the model now: chats holding a sequence, embeddings and reranks. */
  #active = 0;
  /** Told when the last call using it ends (see idle). */
  #idleWaiters: Array<() => void> = [];
  #timer: NodeJS.Timeout | undefined;
  /** Seconds it stays loaded once idle (0: unload at once, negative: for good): the latest request's. */
  #keepAliveSeconds: number;
  #embedding: Promise<LlamaEmbeddingContext> | undefined;
  #ranking: Promise<LlamaRankingContext> | undefined;
  readonly #chats = new Map<LlamaContextSequence, LlamaChat>();
  /** The chat template node-llama-cpp resolved for this model on first use. */
  #chatWrapper: ChatWrapper | undefined;
  expiresAt: Date | undefined;
  /** Its name was removed: it unloads once the requests it is answering finish, whatever their keep_alive. */
  #retired = false;

  constructor(
    readonly id: string,
    readonly model: LlamaModel,
    parts: LoadedModelParts,
    private readonly unload: () => void,
  ) {
    this.purpose = parts.purpose;
    this.contextSize = parts.contextSize;
    this.sizeBytes = parts.sizeBytes;
    this.threads = parts.threads;
    this.#keepAliveSeconds = parts.keepAliveSeconds;
    const { chatContext } = parts;
    this.#chatContext = chatContext;
    this.#free = chatContext
      ? Array.from({ length: chatContext.totalSequences }, () => chatContext.getSequence())
      : [];
  }

  /** The tokens its embedding and ranking contexts hold. */
  get scoringContextSize(): number {
    return Math.min(this.contextSize, SCORING_CONTEXT_MAX);
  }

  get busy(): boolean {
    return this.#active > 0;
  }

  /**
   * Waits for a free sequence of its chat context (the admission queue keeps waits here rare), for a
   * request that keeps the model loaded `keepAliveSeconds` once idle. A model without one (it only
   * embeds or reranks, which the runtime tells from its file before loading it) refuses.
   */
  async acquire(keepAliveSeconds: number): Promise<LlamaContextSequence> {
    if (!this.#chatContext) throw cannotChat(this.id, this.purpose);
    this.#begin(keepAliveSeconds);
    const free = this.#free.pop();
    if (free) return free;
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /**
   * Embeds or ranks with `work`, keeping the model loaded while it runs; its keep-alive starts when the
   * last call using it ends. It takes no chat sequence: the context it embeds or ranks in evaluates one
   * input at a time (node-llama-cpp locks it), and the admission queue bounds the calls per model.
   */
  async serve<T>(keepAliveSeconds: number, work: () => Promise<T>): Promise<T> {
    this.#begin(keepAliveSeconds);
    try {
      return await work();
    } finally {
      this.#end();
    }
  }

  /**
   * The chat over a sequence, made on its first use and kept with it: node-llama-cpp's LlamaChat
   * keeps nothing of one answer for the next (the history comes with each call), and making one per
   * request (resolving the template, registering on the sequence, disposing) is work on the path to
   * the first token.
   */
  chatFor(sequence: LlamaContextSequence): LlamaChat {
    let chat = this.#chats.get(sequence);
    if (!chat) {
      chat = new LlamaChat({
        contextSequence: sequence,
        autoDisposeSequence: false,
        chatWrapper: this.#chatWrapper ?? "auto",
      });
      this.#chatWrapper ??= templateEmptyUserTurns(chat.chatWrapper);
      this.#chats.set(sequence, chat);
    }
    return chat;
  }

  release(sequence: LlamaContextSequence): void {
    const waiter = this.#waiters.shift();
    if (waiter) {
      // Handed on, still counted: the waiter was counted when it asked.
      waiter(sequence);
    } else this.#free.push(sequence);
    this.#end();
  }

  #begin(keepAliveSeconds: number): void {
    this.#active++;
    this.touch(keepAliveSeconds);
  }

  #end(): void {
    this.#active--;
    if (this.#active > 0) return;
    if (this.#retired) this.unload();
    else this.touch(this.#keepAliveSeconds);
    for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }

  /**
   * Resolves when no call uses it: disposing the model under a call still in native
   * code fails that call (DisposedError) or crashes the process.
   */
  idle(): Promise<void> {
    if (this.#active === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Unloads it now when idle, else when its last call ends (its model was removed). */
  retire(): void {
    this.#retired = true;
    this.#cancelTimer();
    if (this.#active === 0) this.unload();
  }

  /**
   * Makes `keepAliveSeconds` its keep-alive (0: unload as soon as it is idle, negative: keep it
   * loaded) and, when idle, starts its timer; in use, the timer starts when the last call ends, and
   * `expiresAt` is the earliest it can unload.
   */
  touch(keepAliveSeconds: number): void {
    this.#cancelTimer();
    this.#keepAliveSeconds = keepAliveSeconds;
    this.expiresAt = keepAliveSeconds < 0 ? undefined : new Date(Date.now() + keepAliveSeconds * 1000);
    if (this.#active > 0 || keepAliveSeconds < 0) return;
    this.#timer = setTimeout(() => this.unload(), keepAliveSeconds * 1000);
    this.#timer.unref();
  }

  /** The context it embeds in, made on first use and kept with the model, with the runtime's threads. */
  embeddingContext(): Promise<LlamaEmbeddingContext> {
    this.#embedding ??= this.model.createEmbeddingContext({
      threads: this.threads,
      contextSize: this.scoringContextSize,
    });
    return this.#embedding;
  }

  /**
   * The context a reranker scores documents in, made on first use and kept with the model. Its
   * threads are the runtime's, as every context's: node-llama-cpp's default (6) over-subscribes a
   * small machine and makes ranking hundreds of times slower on two cores.
   */
  rankingContext(): Promise<LlamaRankingContext> {
    this.#ranking ??= this.model.createRankingContext({
      threads: this.threads,
      contextSize: this.scoringContextSize,
    });
    return this.#ranking;
  }

  #cancelTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  async dispose(): Promise<void> {
    this.#cancelTimer();
    if (this.#embedding) await (await this.#embedding.catch(() => undefined))?.dispose();
    if (this.#ranking) await (await this.#ranking.catch(() => undefined))?.dispose();
    await this.#chatContext?.dispose();
    await this.model.dispose();
  }
}
