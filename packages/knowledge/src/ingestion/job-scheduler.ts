/**
 * Runs document tasks with bounded concurrency in two lanes, so one huge file never blocks other
 * users' small ones: large files (parsed in worker threads) take at most `largeSlots` at a time,
 * small files have their own slots. Within a lane, jobs take turns (round robin), so a job of a
 * thousand files does not starve a job of one.
 */
export interface ScheduledTask {
  jobId: string;
  large: boolean;
  run: () => Promise<void>;
}

export class JobScheduler {
  readonly #lanes: Record<
    "small" | "large",
    { slots: number; running: number; queues: Map<string, ScheduledTask[]> }
  >;
  #idleWaiters: Array<() => void> = [];

  constructor(options: { smallSlots: number; largeSlots: number }) {
    this.#lanes = {
      small: { slots: Math.max(1, options.smallSlots), running: 0, queues: new Map() },
      large: { slots: Math.max(1, options.largeSlots), running: 0, queues: new Map() },
    };
  }

  add(task: ScheduledTask): void {
    const lane = this.#lanes[task.large ? "large" : "small"];
    const queue = lane.queues.get(task.jobId) ?? [];
    queue.push(task);
    lane.queues.set(task.jobId, queue);
    this.#pump();
  }

  /** Drops the queued (not yet started) tasks of a job; returns how many. */
  drop(jobId: string): number {
    let dropped = 0;
    for (const lane of Object.values(this.#lanes)) {
      dropped += lane.queues.get(jobId)?.length ?? 0;
      lane.queues.delete(jobId);
    }
    return dropped;
  }

  get busy(): boolean {
    return Object.values(this.#lanes).some((lane) => lane.running > 0 || lane.queues.size > 0);
  }

  /** Resolves when nothing is queued or running (tests, shutdown). */
  idle(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #pump(): void {
    for (const lane of Object.values(this.#lanes)) {
      while (lane.running < lane.slots && lane.queues.size > 0) {
        // Round robin: the first job in the map runs one task, then goes to the back.
        const [jobId, queue] = lane.queues.entries().next().value as [string, ScheduledTask[]];
        const task = queue.shift()!;
        lane.queues.delete(jobId);
        if (queue.length > 0) lane.queues.set(jobId, queue);
        lane.running++;
        void task
          .run()
          .catch(() => {})
          .finally(() => {
            lane.running--;
            this.#pump();
          });
      }
    }
    if (!this.busy) for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }
}
