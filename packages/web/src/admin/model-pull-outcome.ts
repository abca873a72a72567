/** What a model pull came to, as its audit entry records it. */
export type PullOutcome =
  | { pulled: true; details: { name?: string; version?: string; digest?: string } }
  | { pulled: false; details: { code: string } | { cancelled: true } };

/**
 * The model service's NDJSON pull progress, passed on as it comes, and what the pull came to once
 * the stream ends (`onEnd`): pulled (its `success` event names the model, version and digest),
 * failed (its error event's code; UPSTREAM_UNAVAILABLE when the stream broke off without one), or
 * cancelled (`signal`: the administrator cancelled the pull or went away, which stops it).
 */
export async function* watchPull(
  body: AsyncIterable<Uint8Array>,
  signal: AbortSignal,
  onEnd: (outcome: PullOutcome) => Promise<void>,
): AsyncGenerator<Uint8Array> {
  let outcome: PullOutcome = { pulled: false, details: { code: "UPSTREAM_UNAVAILABLE" } };
  const read = (line: string) => {
    let event: Record<string, unknown>;
    try {
      event = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    const text = (field: string) => (typeof event[field] === "string" ? (event[field] as string) : undefined);
    if (event.error !== undefined)
      outcome = { pulled: false, details: { code: text("code") ?? "MODEL_PULL_FAILED" } };
    else if (event.status === "success")
      outcome = {
        pulled: true,
        details: { name: text("name"), version: text("version"), digest: text("digest") },
      };
  };
  const decoder = new TextDecoder();
  let pending = "";
  try {
    for await (const chunk of body) {
      pending += decoder.decode(chunk, { stream: true });
      const lines = pending.split("\n");
      pending = lines.pop()!;
      for (const line of lines) read(line);
      yield chunk;
    }
    read(pending + decoder.decode());
  } finally {
    await onEnd(
      !outcome.pulled && signal.aborted ? { pulled: false, details: { cancelled: true } } : outcome,
    );
  }
}
