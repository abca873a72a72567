import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { listenOnLoopback } from "../../../test/support/ports.js";

interface Recording {
  status: number;
  type: string;
  body: string;
  /** A pause between pieces: a slow upstream, to hold a queue slot in tests. */
  delayMs?: number;
}

/**
 * Replays recorded upstream responses (test/fixtures/*.json) over real HTTP, so upstream runtimes are
 * tested against the exact bytes a real Ollama or vLLM sends. A route may be specific to the
 * request's model (`POST /api/chat#llama3.2:latest`); otherwise the plain route answers.
 */
export async function startReplayServer(
  fixture: string,
): Promise<{ url: string; requests: unknown[]; close(): Promise<void> }> {
  const recordings = JSON.parse(
    readFileSync(new URL(`./fixtures/${fixture}`, import.meta.url), "utf8"),
  ) as Record<string, Recording>;
  const requests: unknown[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const route = `${request.method} ${request.url?.split("?")[0]}`;
      let model: string | undefined;
      if (chunks.length > 0) {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { model?: string };
        requests.push(body);
        model = body.model;
      }
      const recording = (model ? recordings[`${route}#${model}`] : undefined) ?? recordings[route];
      if (!recording) {
        response.writeHead(404, { "content-type": "text/plain" }).end("404 page not found");
        return;
      }
      response.writeHead(recording.status, { "content-type": recording.type });
      // Send streamed bodies in small pieces, splitting lines and events across writes as networks do.
      const body = Buffer.from(recording.body);
      const pieces: Buffer[] = [];
      for (let offset = 0; offset < body.length; offset += 37)
        pieces.push(body.subarray(offset, offset + 37));
      const writeNext = () => {
        if (response.destroyed) return;
        const piece = pieces.shift();
        if (!piece) {
          response.end();
          return;
        }
        response.write(piece);
        if (recording.delayMs) setTimeout(writeNext, recording.delayMs);
        else writeNext();
      };
      writeNext();
    });
  });
  return { ...(await listenOnLoopback(server)), requests };
}
