import { type KeyboardEvent, useEffect, useRef, useState } from "react";
import { type ModelsAnswer, type StreamPart, streamParts } from "./api.js";
import { useI18n } from "./i18n.js";
import { Markdown } from "./markdown.js";
import { ModelGuidance } from "./model-guidance.js";

export interface ChatMessage {
  role: "user" | "assistant";
  content: string;
  reasoning?: string;
  status?: "streaming" | "done" | "stopped" | "interrupted" | "error";
  queuePosition?: number;
  cached?: boolean;
  error?: string;
}

/** Applies one streamed part to the answer being written. */
export function applyPart(message: ChatMessage, part: StreamPart): ChatMessage {
  switch (part.type) {
    case "queue-position":
      return { ...message, queuePosition: part.position };
    case "text-delta":
      return { ...message, content: message.content + part.text, queuePosition: undefined };
    case "reasoning-delta":
      return { ...message, reasoning: (message.reasoning ?? "") + part.text, queuePosition: undefined };
    case "finish":
      return { ...message, status: "done", cached: part.cached, queuePosition: undefined };
    case "error":
      return { ...message, status: "error", error: part.message, queuePosition: undefined };
    default:
      return message;
  }
}

export function MessageView({ message }: { message: ChatMessage }) {
  const { t } = useI18n();
  const streaming = message.status === "streaming";
  return (
    <article
      className={`message ${message.role}`}
      aria-label={message.role === "user" ? t.you : t.assistant}
      data-status={message.status}
    >
      <div className="role">{message.role === "user" ? t.you : t.assistant}</div>
      {message.queuePosition !== undefined && (
        <div className="queue" role="status">
          {t.queuePosition.replace("{n}", String(message.queuePosition))}
        </div>
      )}
      {message.reasoning && (
        <details className="reasoning" open={streaming && !message.content}>
          <summary>{streaming && !message.content ? `${t.thinking}…` : t.reasoning}</summary>
          <div className="reasoning-text">{message.reasoning}</div>
        </details>
      )}
      {message.role === "assistant" ? (
        <Markdown text={message.content} />
      ) : (
        <div className="user-text">{message.content}</div>
      )}
      {streaming && !message.content && !message.reasoning && message.queuePosition === undefined && (
        <span className="typing" aria-hidden="true">
          …
        </span>
      )}
      <div className="badges">
        {message.cached && <span className="badge">{t.cached}</span>}
        {message.status === "stopped" && <span className="badge">{t.stopped}</span>}
        {message.status === "interrupted" && <span className="badge">{t.interrupted}</span>}
        {message.status === "error" && (
          <span className="badge error" role="alert">
            {t.error}: {message.error}
          </span>
        )}
      </div>
    </article>
  );
}

export function Composer(props: {
  busy: boolean;
  disabled?: boolean;
  onSend(text: string): void;
  onStop(): void;
}) {
  const { t } = useI18n();
  const [text, setText] = useState("");
  const send = () => {
    const value = text.trim();
    if (!value || props.busy) return;
    props.onSend(value);
    setText("");
  };
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      send();
    }
  };
  return (
    <form
      className="composer"
      onSubmit={(event) => {
        event.preventDefault();
        send();
      }}
    >
      <label className="visually-hidden" htmlFor="message-input">
        {t.messagePlaceholder}
      </label>
      <textarea
        id="message-input"
        value={text}
        rows={2}
        placeholder={t.messagePlaceholder}
        disabled={props.disabled}
        onChange={(event) => setText(event.target.value)}
        onKeyDown={onKeyDown}
      />
      {props.busy ? (
        <button type="button" className="stop" onClick={props.onStop}>
          {t.stop}
        </button>
      ) : (
        <button type="submit" disabled={props.disabled || !text.trim()}>
          {t.send}
        </button>
      )}
    </form>
  );
}

/** The chat of the first slice: one model, one running conversation kept in the page. */
export function ChatView({ models, model }: { models: ModelsAnswer; model: string }) {
  const { t } = useI18n();
  const [messages, setMessages] = useState<ChatMessage[]>([]);
  const [busy, setBusy] = useState(false);
  const controller = useRef<AbortController | undefined>(undefined);
  const end = useRef<HTMLDivElement>(null);

  // biome-ignore lint/correctness/useExhaustiveDependencies: scroll to the end whenever a message changes
  useEffect(() => {
    // A block body: newer Chromium returns a Promise from scrollIntoView, which React would call on unmount.
    end.current?.scrollIntoView({ block: "end" });
  }, [messages]);

  const send = async (text: string) => {
    const history: ChatMessage[] = [...messages, { role: "user", content: text }];
    setMessages([...history, { role: "assistant", content: "", status: "streaming" }]);
    setBusy(true);
    const abort = new AbortController();
    controller.current = abort;
    const update = (change: (message: ChatMessage) => ChatMessage) =>
      setMessages((current) => [...current.slice(0, -1), change(current[current.length - 1]!)]);
    try {
      const body = {
        model,
        messages: history
          .filter((m) => m.status !== "error")
          .map((m) => ({ role: m.role, content: m.content })),
      };
      for await (const part of streamParts("/api/chat", body, abort.signal))
        update((message) => applyPart(message, part));
      update((message) => (message.status === "streaming" ? { ...message, status: "interrupted" } : message));
    } catch (error) {
      if (abort.signal.aborted) update((message) => ({ ...message, status: "stopped" }));
      else update((message) => ({ ...message, status: "error", error: (error as Error).message }));
    } finally {
      setBusy(false);
      controller.current = undefined;
    }
  };

  if (models.models.length === 0) return <ModelGuidance answer={models} />;
  return (
    <div className="chat">
      <div className="messages" aria-live="polite" aria-busy={busy}>
        {messages.length === 0 && <p className="empty">{t.emptyChat}</p>}
        {messages.map((message, index) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: messages are only appended
          <MessageView key={index} message={message} />
        ))}
        <div ref={end} />
      </div>
      <Composer busy={busy} onSend={(text) => void send(text)} onStop={() => controller.current?.abort()} />
    </div>
  );
}
