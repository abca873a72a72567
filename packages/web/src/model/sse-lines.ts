/**
 * Splits a Server-Sent Events byte stream (a node:http response) into events. Yields each event's
 * joined `data:` payload, and comment lines (`: text`) as `{ comment }`, which the model service
 * uses for queue positions. Leaving the loop early destroys the response, and so the request.
 */
export type SseItem = { data: string } | { comment: string };

export async function* readSse(
  body: AsyncIterable<Uint8Array>,
  signal?: AbortSignal,
): AsyncGenerator<SseItem> {
  const decoder = new TextDecoder();
  let buffer = "";
  let data: string[] = [];
  for await (const value of body) {
    if (signal?.aborted) return;
    buffer += decoder.decode(value, { stream: true });
    let newline = buffer.indexOf("\n");
    while (newline !== -1) {
      const line = buffer.slice(0, newline).replace(/\r$/, "");
      buffer = buffer.slice(newline + 1);
      if (line === "") {
        if (data.length > 0) yield { data: data.join("\n") };
        data = [];
      } else if (line.startsWith(":")) {
        yield { comment: line.slice(1).trim() };
      } else if (line.startsWith("data:")) {
        data.push(line.slice(5).replace(/^ /, ""));
      }
      newline = buffer.indexOf("\n");
    }
  }
  if (data.length > 0) yield { data: data.join("\n") };
}
