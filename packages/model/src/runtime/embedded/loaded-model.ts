import {
  type ChatWrapper,
  LlamaChat,
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaEmbeddingContext,
  type LlamaModel,
  type LlamaRankingContext,
} from "node-llama-cpp";

/**
 * The most tokens a query and a document are scored in at once: a passage as knowledge bases cut
 * them, with its query, fits many times over; a longer document is scored in pieces (see rerank).
 */
export const RANKING_CONTEXT_MAX = 2048;

/**
 * A model in memory: its context with one sequence per parallel slot, handed out one request at a
 * time, and the keep-alive timer that unloads it when idle.
 */
export class LoadedModel {
  readonly #free: LlamaContextSequence[];
  readonly #waiters: Array<(sequence: LlamaContextSequence) => void> = [];
  #active = 0;
  /** Told when the last sequence in use is released (see idle). */
  #idleWaiters: Array<() => void> = [];
  #timer: NodeJS.Timeout | undefined;
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
    readonly context: LlamaContext,
    readonly sizeBytes: number,
    readonly threads: number,
    private readonly unload: () => void,
  ) {
    this.#free = Array.from({ length: context.totalSequences }, () => context.getSequence());
  }

  get contextSize(): number {
    return this.context.contextSize;
  }

  get busy(): boolean {
    return this.#active > 0;
  }

  /** Waits for a free sequence (the admission queue keeps waits here rare). */
  async acquire(): Promise<LlamaContextSequence> {
    this.#active++;
    this.#cancelTimer();
    const free = this.#free.pop();
    if (free) return free;
    return new Promise((resolve) => this.#waiters.push(resolve));
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
      this.#chatWrapper ??= chat.chatWrapper;
      this.#chats.set(sequence, chat);
    }
    return chat;
  }

  release(sequence: LlamaContextSequence, keepAliveSeconds: number): void {
    this.#active--;
    const waiter = this.#waiters.shift();
    if (waiter) waiter(sequence);
    else this.#free.push(sequence);
    if (this.#active === 0) {
      if (this.#retired) this.unload();
      else this.touch(keepAliveSeconds);
      for (const resolve of this.#idleWaiters.splice(0)) resolve();
    }
  }

  /**
   * Resolves when no request holds a sequence: disposing the model under a call still in native
   * code fails that call (DisposedError) or crashes the process.
   */
  idle(): Promise<void> {
    if (this.#active === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Unloads it now when idle, else when its last request releases its sequence (its model was removed). */
  retire(): void {
    this.#retired = true;
    this.#cancelTimer();
    if (this.#active === 0) this.unload();
  }

  /** Starts the idle timer: 0 unloads now, negative keeps the model loaded. */
  touch(keepAliveSeconds: number): void {
    this.#cancelTimer();
    if (this.#active > 0) return;
    if (keepAliveSeconds < 0) {
      this.expiresAt = undefined;
      return;
    }
    this.expiresAt = new Date(Date.now() + keepAliveSeconds * 1000);
    this.#timer = setTimeout(() => this.unload(), keepAliveSeconds * 1000);
    this.#timer.unref();
  }

  embeddingContext(): Promise<LlamaEmbeddingContext> {
    this.#embedding ??= this.model.createEmbeddingContext({
      threads: this.threads,
      contextSize: Math.min(this.contextSize, 2048),
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
      contextSize: Math.min(this.contextSize, RANKING_CONTEXT_MAX),
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
    await this.context.dispose();
    await this.model.dispose();
  }
}
