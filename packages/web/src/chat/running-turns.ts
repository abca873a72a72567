import { CONVERSATION_DELETED, type PeerBus, type StopReason } from "../cluster/peer-bus.js";

/**
 * The chat turns answering right now, by conversation, so that deleting a conversation stops its
 * answer (the model's generation with it) rather than letting it run on into a conversation that
 * is gone. The process that deletes or stops it tells the others through the peer bus (the
 * workers of its cluster; on PostgreSQL, the replicas on other hosts too), as the auth cache does.
 */
export class RunningTurns {
  readonly #stops = new Map<string, Set<(reason: StopReason) => void>>();

  readonly #peers: PeerBus;

  constructor(peers: PeerBus) {
    this.#peers = peers;
    peers.subscribe((message) => {
      if (message.type === CONVERSATION_DELETED) this.stop(message.conversationId, message.reason, true);
    });
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
   * Stops the conversation's turns in this process and, unless `thisProcessOnly` (told by a peer, or
   * by the database), in the other processes. Returns whether one was running in this process.
   */
  stop(conversationId: string, reason: StopReason = "deleted", thisProcessOnly = false): boolean {
    const stops = [...(this.#stops.get(conversationId) ?? [])];
    for (const stop of stops) stop(reason);
    if (!thisProcessOnly) this.#peers.publish({ type: CONVERSATION_DELETED, conversationId, reason });
    return stops.length > 0;
  }
}
