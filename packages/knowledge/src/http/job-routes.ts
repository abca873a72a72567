import type { JobEvent } from "@hearth/contracts";
import { abortOnShutdown, ReplyStream } from "@hearth/core";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { IngestionService } from "../ingestion/ingestion-service.js";
import type { KnowledgeStore } from "../store/knowledge-store.js";

const jobParams = z.object({ jobId: z.string().min(1) });
const FINISHED = new Set(["completed", "failed", "cancelled"]);

/** Ingestion jobs: state, progress over Server-Sent Events, and cancel. */
export function registerJobRoutes(
  app: FastifyInstance,
  dependencies: { store: KnowledgeStore; ingestion: IngestionService; shutdownSignal: AbortSignal },
): void {
  const { store, ingestion } = dependencies;

  app.get("/v1/jobs/:jobId", async (request) => store.getJob(jobParams.parse(request.params).jobId));

  app.post("/v1/jobs/:jobId/cancel", async (request) =>
    ingestion.cancel(jobParams.parse(request.params).jobId),
  );

  /**
   * `event: job` first (the whole job), then `event: document` for each status change with the
   * job's counts, and a final `event: job` when it finishes; then the stream ends.
   */
  app.get("/v1/jobs/:jobId/events", async (request, reply) => {
    const { jobId } = jobParams.parse(request.params);
    const job = store.getJob(jobId);
    const stream = new ReplyStream(reply, "sse");
    const queue: JobEvent[] = [];
    let wake: (() => void) | undefined;
    const unsubscribe = ingestion.subscribe(jobId, (event) => {
      queue.push(event);
      wake?.();
    });
    try {
      await stream.send({ type: "job", job } satisfies JobEvent, "job");
      let finished = FINISHED.has(job.status);
      const keepAlive = setInterval(() => void stream.comment("keep-alive"), 15_000);
      const onAbort = () => wake?.();
      stream.signal.addEventListener("abort", onAbort, { once: true });
      const forget = abortOnShutdown(dependencies.shutdownSignal, { abort: onAbort });
      try {
        while (!finished && !stream.ended && !dependencies.shutdownSignal.aborted) {
          if (queue.length === 0) {
            let timer: NodeJS.Timeout | undefined;
            await new Promise<void>((resolve) => {
              wake = resolve;
              timer = setTimeout(resolve, 1_000);
            });
            clearTimeout(timer);
            wake = undefined;
            // A finish between the snapshot and the subscription is caught by polling the store.
            if (queue.length === 0) {
              const current = store.findJob(jobId);
              if (!current || FINISHED.has(current.status)) {
                if (current) await stream.send({ type: "job", job: current } satisfies JobEvent, "job");
                finished = true;
              }
              continue;
            }
          }
          const event = queue.shift()!;
          await stream.send(event, event.type);
          if (event.type === "job" && FINISHED.has(event.job.status)) finished = true;
        }
      } finally {
        clearInterval(keepAlive);
        forget();
      }
    } finally {
      unsubscribe();
      stream.end();
    }
  });
}
