/**
 * What a link to a new chat asks for, as Open WebUI's links do: `/?q=…` a question, sent at once (a
 * browser's search-engine entry `http://HOST:8080/?q=%s` asks Hearth from the address bar);
 * `models=` (or `model=`) the model to answer with, the first of those named that is offered;
 * `temporary-chat=true` a temporary chat. Undefined when the address asks for none of these.
 */
export interface NewChatLink {
  query?: string;
  model?: string;
  temporary: boolean;
}

export function readNewChatLink(search: string, offered: readonly string[]): NewChatLink | undefined {
  const params = new URLSearchParams(search);
  const query = params.get("q")?.trim() || undefined;
  const named = [...params.getAll("models"), ...params.getAll("model")].flatMap((value) => value.split(","));
  const model = named.map((name) => name.trim()).find((name) => offered.includes(name));
  const temporary = params.get("temporary-chat") === "true";
  if (!query && !model && !temporary) return undefined;
  return { ...(query ? { query } : {}), ...(model ? { model } : {}), temporary };
}
