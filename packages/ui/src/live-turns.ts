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

/**
 * The knowledge bases chosen for each conversation, in this tab's sessionStorage (the service
 * keeps none with a conversation): a conversation opens with its own, a new chat with none.
 */
const KB_PREFIX = "hearth.kb.";

export function readKnowledgeChoice(conversationId: string | undefined): string[] {
  if (!conversationId) return [];
  try {
    const stored = JSON.parse(sessionStorage.getItem(KB_PREFIX + conversationId) ?? "[]") as unknown;
    return Array.isArray(stored) ? stored.filter((id): id is string => typeof id === "string") : [];
  } catch {
    return [];
  }
}

export function writeKnowledgeChoice(conversationId: string, ids: string[]): void {
  try {
    if (ids.length > 0) sessionStorage.setItem(KB_PREFIX + conversationId, JSON.stringify(ids));
    else sessionStorage.removeItem(KB_PREFIX + conversationId);
  } catch {
    // Storage off or full: the choice lasts while the conversation is open.
  }
}

/** Takes bases the service said are gone (deleted, no longer readable) out of a conversation's choice. */
export function forgetKnowledgeBases(conversationId: string, gone: readonly string[]): void {
  writeKnowledgeChoice(
    conversationId,
    readKnowledgeChoice(conversationId).filter((id) => !gone.includes(id)),
  );
}
