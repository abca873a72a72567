import { createHash } from "node:crypto";
import { readdir, stat } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { listenOnLoopback } from "../../../test/support/ports.js";

export interface RegistryServerModel {
  /** `namespace/model:tag`. */
  reference: string;
  bytes: Uint8Array;
  /** Serve other bytes than the manifest announces (a corrupt registry). */
  serveBytes?: Uint8Array;
}

/** Resolves once a pull's partial file under `dir` holds at least `bytes` (a download part-way). */
export async function partialHolds(dir: string, bytes: number): Promise<void> {
  for (;;) {
    for (const file of await readdir(dir, { recursive: true }).catch(() => [] as string[]))
      if (
        file.endsWith(".partial") &&
        ((await stat(join(dir, file)).catch(() => undefined))?.size ?? 0) >= bytes
      )
        return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const digestOf = (bytes: Uint8Array) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

/**
 * A small server speaking the Ollama registry protocol (GET /v2/<ns>/<model>/manifests/<tag>, then
 * GET /v2/<ns>/<model>/blobs/<digest> with Range support) and plain file URLs under /files/ (a test
 * may replace a file's bytes between two requests). Each body has a strong ETag (its digest), and a
 * Range request whose If-Range is not it gets the whole body, as a server does; `state.noValidators`
 * leaves both out.
 */
export async function startRegistryServer(
  models: RegistryServerModel[],
  files: Record<string, Uint8Array | string> = {},
) {
  const blobs = new Map<string, Uint8Array>();
  const manifests = new Map<string, unknown>();
  for (const model of models) {
    const digest = digestOf(model.bytes);
    blobs.set(digest, model.serveBytes ?? model.bytes);
    const [path, tag] = model.reference.split(":") as [string, string];
    const config = Buffer.from(JSON.stringify({ model_format: "gguf", model_family: "llama" }));
    blobs.set(digestOf(config), config);
    manifests.set(`/v2/${path}/manifests/${tag}`, {
      schemaVersion: 2,
      mediaType: "application/vnd.docker.distribution.manifest.v2+json",
      config: {
        mediaType: "application/vnd.docker.container.image.v1+json",
        digest: digestOf(config),
        size: config.length,
      },
      layers: [
        { mediaType: "application/vnd.ollama.image.model", digest, size: model.bytes.length },
        { mediaType: "application/vnd.ollama.image.license", digest: digestOf(config), size: config.length },
      ],
    });
  }
  const state = {
    ranges: [] as string[],
    ifRanges: [] as string[],
    cutNextBlobAt: undefined as number | undefined,
    /**
     * When the cut connection is dropped: once this resolves (the client has stored the bytes sent;
     * a busy client that had not read them would lose them with the connection), else 50 ms after.
     */
    cutWhen: undefined as (() => Promise<unknown>) | undefined,
    /** Where the next answers stop sending (relative to their first byte), keeping the connection open. */
    stallNextAt: [] as number[],
    /**
     * Where the next answers pause (relative to their first byte), each until its promise settles:
     * a slow download a test holds at a known point, then lets finish.
     */
    pauseNextAt: [] as Array<{ at: number; until: Promise<unknown> }>,
    /** The blob and file requests answered, by path (a download shared by two pulls is one). */
    requests: [] as string[],
    /** The blob and file answers whose client closed the connection before their last byte (a pull stopped), by path. */
    leftEarly: [] as string[],
    noValidators: false,
  };
  const server: Server = createServer((request, response) => {
    const url = request.url ?? "";
    const manifest = manifests.get(url);
    if (manifest) {
      response
        .writeHead(200, { "content-type": "application/vnd.docker.distribution.manifest.v2+json" })
        .end(JSON.stringify(manifest));
      return;
    }
    const blobMatch = /^\/v2\/.+\/blobs\/(sha256:[0-9a-f]{64})$/.exec(url);
    const fileMatch = /^\/files\/(.+)$/.exec(url);
    const body = blobMatch ? blobs.get(blobMatch[1]!) : fileMatch ? files[fileMatch[1]!] : undefined;
    if (body === undefined) {
      response
        .writeHead(404, { "content-type": "application/json" })
        .end(JSON.stringify({ errors: [{ code: "MANIFEST_UNKNOWN", message: "manifest unknown" }] }));
      return;
    }
    state.requests.push(url);
    response.once("close", () => {
      if (!response.writableFinished) state.leftEarly.push(url);
    });
    const bytes = typeof body === "string" ? Buffer.from(body) : Buffer.from(body);
    const etag = state.noValidators ? undefined : `"${digestOf(bytes).slice(7, 23)}"`;
    const ifRange = request.headers["if-range"] as string | undefined;
    if (request.headers.range) state.ranges.push(request.headers.range);
    if (ifRange) state.ifRanges.push(ifRange);
    const range =
      ifRange === undefined || ifRange === etag ? /^bytes=(\d+)-$/.exec(request.headers.range ?? "") : null;
    const start = range ? Number(range[1]) : 0;
    const slice = bytes.subarray(start);
    response.writeHead(range ? 206 : 200, {
      "content-type": "application/octet-stream",
      "content-length": String(slice.length),
      ...(etag ? { etag } : {}),
      ...(range ? { "content-range": `bytes ${start}-${bytes.length - 1}/${bytes.length}` } : {}),
    });
    const stallAt = state.stallNextAt.shift();
    if (stallAt !== undefined) {
      // Sends part of the body, then nothing, the connection left open (closed with the server).
      response.write(slice.subarray(0, stallAt));
      return;
    }
    const pause = state.pauseNextAt.shift();
    if (pause !== undefined) {
      response.write(slice.subarray(0, pause.at));
      void pause.until.then(() => response.end(slice.subarray(pause.at)));
      return;
    }
    if (state.cutNextBlobAt !== undefined) {
      // Simulate a dropped connection halfway through.
      const cut = state.cutNextBlobAt;
      const cutWhen = state.cutWhen ?? (() => new Promise((resolve) => setTimeout(resolve, 50)));
      state.cutNextBlobAt = undefined;
      state.cutWhen = undefined;
      response.write(slice.subarray(0, cut), () => void cutWhen().then(() => response.destroy()));
      return;
    }
    response.end(slice);
  });
  return { ...(await listenOnLoopback(server)), state, digestOf };
}
