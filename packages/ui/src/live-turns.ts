import type { ChatMessage } from "./chat-view.js";

/**
 * The answers this tab is streaming, by conversation: the conversation's messages as the stream
 * writes them and how to stop it. They outlive the chat view (the stream goes on when another
 * conversation or page is opened), so that opening the conversation again shows the answer as it
 * is written, with Stop, rather than what the service has stored of it (stored every second or so).
 */
export interface LiveTurn {
  messages: ChatMessage[];
  /** The user's Stop. */
  stop(): void;
}

type Listener = (conversationId: string, turn: LiveTurn | undefined, final?: ChatMessage[]) => void;

const turns = new Map<string, LiveTurn>();
const listeners = new Set<Listener>();

const emit = (id: string, final?: ChatMessage[]) => {
  const turn = turns.get(id);
  for (const listener of listeners) listener(id, turn, final);
};

export const liveTurns = {
  get(conversationId: string): LiveTurn | undefined {
    return turns.get(conversationId);
  },
  start(conversationId: string, turn: LiveTurn): void {
    turns.set(conversationId, turn);
    emit(conversationId);
  },
  /** Changes the live turn's messages (nothing when it has ended). */
  update(conversationId: string, change: (messages: ChatMessage[]) => ChatMessage[]): void {
    const turn = turns.get(conversationId);
    if (!turn) return;
    turns.set(conversationId, { ...turn, messages: change(turn.messages) });
    emit(conversationId);
  },
  /** The turn has ended: `final` is the conversation as it now stands. */
  end(conversationId: string, final: ChatMessage[]): void {
    turns.delete(conversationId);
    emit(conversationId, final);
  },
  subscribe(listener: Listener): () => void {
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  },
};
