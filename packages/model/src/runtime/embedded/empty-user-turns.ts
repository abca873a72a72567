import { randomUUID } from "node:crypto";
import { type ChatHistoryItem, type ChatWrapper, LlamaText, SpecialTokensText } from "node-llama-cpp";

/**
 * Stands in for an empty user message while a chat wrapper renders the prompt, and is taken out of
 * what it rendered. Random, so that no message holds it.
 */
const EMPTY_USER_TEXT = `hearth-empty-user-message-${randomUUID()}`;

const isEmptyUserMessage = (item: ChatHistoryItem) => item.type === "user" && item.text === "";

/**
 * Has `wrapper` render an empty user message as a user turn with no text, as a model's own template
 * renders it (and so Ollama): node-llama-cpp's wrappers (Llama 2's, ChatML's, the general one, …)
 * leave a turn with no text out, markers and all, so that a chat of one empty user message was the
 * BOS token alone and the model ran on from nothing. The wrapper is changed in place and returned.
 */
export function templateEmptyUserTurns(wrapper: ChatWrapper): ChatWrapper {
  const render = wrapper.generateContextState.bind(wrapper);
  wrapper.generateContextState = (options) => {
    if (!options.chatHistory.some(isEmptyUserMessage)) return render(options);
    const state = render({
      ...options,
      chatHistory: options.chatHistory.map((item) =>
        isEmptyUserMessage(item) ? { ...item, text: EMPTY_USER_TEXT } : item,
      ),
    });
    const values = state.contextText.values.map((value) =>
      typeof value === "string"
        ? value.replaceAll(EMPTY_USER_TEXT, "")
        : value instanceof SpecialTokensText
          ? new SpecialTokensText(value.value.replaceAll(EMPTY_USER_TEXT, ""))
          : value,
    );
    return { ...state, contextText: LlamaText(values) };
  };
  return wrapper;
}
