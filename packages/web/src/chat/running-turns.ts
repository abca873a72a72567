import cluster from "node:cluster";

/** The message workers exchange (through the primary) when a conversation was deleted or its answer stopped. */
export const CONVERSATION_DELETED = "hearth:conversation-deleted";

/** Why a turn is stopped: its conversation was deleted, or its user pressed Stop. */
export type StopReason = "deleted" | "stopped";

/**
 * The chat turns answering right now, by conversation, so that deleting a conversation stops its
 * answer (the model's generation with it) rather than letting it run on into a conversation that
 * is gone. In a cluster the deleting worker tells the others through the primary, as the auth
 * cache does; separate web service replicas (several hosts) do not hear of it, and their turn ends
 * as it would have.
 */
export class RunningTurns {
  readonly #stops = new Map<string, Set<(reason: StopReason) => void>>();

  constructor() {
    if (cluster.isWorker) {
      process.on("message", (message: { type?: string; conversationId?: unknown; reason?: unknown }) => {
        if (message?.type === CONVERSATION_DELETED && typeof message.conversationId === "string")
          this.stop(message.conversationId, message.reason === "stopped" ? "stopped" : "deleted", true);
      });
    }
  }

  /** Registers a turn of `conversationId`; `stop` ends it. Returns the call that forgets it. */
  track(conversationId: string, stop: (reason: StopReason) => void): () => void {
    let stops = this.#stops.get(conversationId);
    if (!stops) {
      stops = new Set();
      this.#stops.set(conversationId, stops);
    }
    const own = stops;
    own.add(stop);
    return () => {
      own.delete(stop);
      if (own.size === 0 && this.#stops.get(conversationId) === own) this.#stops.delete(conversationId);
    };
  }

  /**
   * Stops the conversation's turns in this process and, unless told by a peer, in the other workers.
   * Returns whether one was running in this process.
   */
  stop(conversationId: string, reason: StopReason = "deleted", fromPeer = false): boolean {
    const stops = [...(this.#stops.get(conversationId) ?? [])];
    for (const stop of stops) stop(reason);
    if (!fromPeer && cluster.isWorker) process.send?.({ type: CONVERSATION_DELETED, conversationId, reason });
    return stops.length > 0;
  }
}
