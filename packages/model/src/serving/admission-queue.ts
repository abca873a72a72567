import { HearthError } from "@hearth/core";

/** How a request's time in the queue ended: given a slot, turned away after the maximum wait, or left by its client. */
export type QueueWaitOutcome = "admitted" | "timeout" | "cancelled";

export interface AdmissionOptions {
  /** Concurrent holders per key (model) when a request does not say. */
  defaultConcurrency: number;
  maxQueue: number;
  maxWaitMs: number;
  /**
   * Told how long each request that entered the queue waited and how its wait ended (0 ms for one
   * admitted at once); a request turned away because the queue is full never waited, and is not told.
   */
  onWaited?: (key: string, waitedMs: number, outcome: QueueWaitOutcome) => void;
  /** Told when a key forgotten while requests held its slots is dropped, its last holder gone. */
  onDropped?: (key: string) => void;
}

interface Waiter {
  user: string;
  enqueuedAt: number;
  grant: (release: () => void) => void;
  fail: (outcome: Exclude<QueueWaitOutcome, "admitted">, error: Error) => void;
  onPosition?: (position: number) => void;
  lastPosition?: number;
}

interface Lane {
  active: number;
  concurrency: number;
  /** Waiting requests per user, each FIFO. */
  users: Map<string, Waiter[]>;
  /** Users with waiting requests, in the order they are served (round robin). */
  rotation: string[];
  waiting: number;
  /** Waiting requests that want position updates (none: no need to recompute places). */
  listeners: number;
  /** Moving average of how long a slot is held, for Retry-After. */
  averageHoldMs: number;
  /** Its model was removed while requests were in it: dropped once the last one leaves. */
  forgotten: boolean;
}

export interface Admission {
  release: () => void;
  /** Where the request stood when it first had to wait (0: it did not wait). */
  initialPosition: number;
}

/**
 * Per-model admission: at most `concurrency` requests run at once; the rest wait, served round robin
 * across users so that one user's burst cannot starve others. A full queue answers 429 with
 * Retry-After; a wait past `maxWaitMs` gives up; an aborted wait leaves the queue at once.
 */
export class AdmissionQueue {
  readonly #lanes = new Map<string, Lane>();
  readonly #options: AdmissionOptions;

  constructor(options: AdmissionOptions) {
    this.#options = options;
  }

  #lane(key: string): Lane {
    let lane = this.#lanes.get(key);
    if (!lane) {
      lane = {
        active: 0,
        concurrency: this.#options.defaultConcurrency,
        users: new Map(),
        rotation: [],
        waiting: 0,
        listeners: 0,
        averageHoldMs: 1000,
        forgotten: false,
      };
      this.#lanes.set(key, lane);
    }
    return lane;
  }

  depth(key: string): { active: number; waiting: number } {
    const lane = this.#lanes.get(key);
    return { active: lane?.active ?? 0, waiting: lane?.waiting ?? 0 };
  }

  /** The most requests that may wait per model before new ones get 429 (the "queue full" alert). */
  get capacity(): number {
    return this.#options.maxQueue;
  }

  /** The keys with a queue, less those forgotten (their last requests are still in them). */
  keys(): string[] {
    return [...this.#lanes].filter(([, lane]) => !lane.forgotten).map(([key]) => key);
  }

  /**
   * Drops a key's queue (its model was removed), so that `keys` no longer lists it. One that requests
   * still hold or wait in is kept until the last of them leaves (then `onDropped`), so that a model
   * of that name added meanwhile shares its slots rather than running beside them.
   */
  forget(key: string): void {
    const lane = this.#lanes.get(key);
    if (!lane) return;
    if (lane.active === 0 && lane.waiting === 0) this.#lanes.delete(key);
    else lane.forgotten = true;
  }

  async acquire(
    key: string,
    user: string,
    options: { signal?: AbortSignal; onPosition?: (position: number) => void; concurrency?: number } = {},
  ): Promise<Admission> {
    const lane = this.#lane(key);
    // Asked for again: its model is served again under that name.
    lane.forgotten = false;
    if (options.concurrency !== undefined) lane.concurrency = options.concurrency;
    const started = performance.now();
    if (lane.active < lane.concurrency && lane.waiting === 0) {
      lane.active++;
      this.#options.onWaited?.(key, 0, "admitted");
      return { release: this.#releaser(key, lane), initialPosition: 0 };
    }
    if (lane.waiting >= this.#options.maxQueue) {
      const retryAfter = Math.max(
        1,
        Math.ceil(((lane.waiting / Math.max(1, lane.concurrency)) * lane.averageHoldMs) / 1000),
      );
      throw new HearthError(
        "MODEL_QUEUE_FULL",
        `"${key}" is busy: ${lane.waiting} requests are already waiting; retry in ${retryAfter} s`,
        {
          retryAfterSeconds: retryAfter,
          // A queue drains: waiting as told helps, however long (never x-should-retry: false).
          shouldRetry: true,
          details: { queueLength: lane.waiting },
        },
      );
    }
    options.signal?.throwIfAborted();
    return new Promise<Admission>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const cleanup = (outcome: QueueWaitOutcome) => {
        if (timer) clearTimeout(timer);
        options.signal?.removeEventListener("abort", onAbort);
        this.#options.onWaited?.(key, performance.now() - started, outcome);
      };
      const waiter: Waiter = {
        user,
        enqueuedAt: started,
        onPosition: options.onPosition,
        grant: (release) => {
          cleanup("admitted");
          resolve({ release, initialPosition: initial });
        },
        fail: (outcome, error) => {
          cleanup(outcome);
          reject(error);
        },
      };
      const onAbort = () => {
        this.#remove(key, lane, waiter);
        waiter.fail(
          "cancelled",
          options.signal?.reason instanceof Error ? options.signal.reason : new Error("aborted"),
        );
      };
      let queue = lane.users.get(user);
      if (!queue) {
        queue = [];
        lane.users.set(user, queue);
        lane.rotation.push(user);
      }
      queue.push(waiter);
      lane.waiting++;
      if (waiter.onPosition) lane.listeners++;
      const initial = this.#position(lane, waiter);
      options.signal?.addEventListener("abort", onAbort, { once: true });
      timer = setTimeout(() => {
        this.#remove(key, lane, waiter);
        waiter.fail(
          "timeout",
          new HearthError(
            "MODEL_QUEUE_TIMEOUT",
            `waited ${Math.round(this.#options.maxWaitMs / 1000)} s for "${key}" without getting a turn`,
            { retryAfterSeconds: Math.max(1, Math.ceil(lane.averageHoldMs / 1000)), shouldRetry: true },
          ),
        );
      }, this.#options.maxWaitMs);
      this.#notifyPositions(lane);
    });
  }

  /** 1-based place in the order requests will be served: round robin over users, FIFO per user. */
  #position(lane: Lane, target: Waiter): number {
    const index = lane.users.get(target.user)?.indexOf(target) ?? 0;
    let ahead = 0;
    const userRank = lane.rotation.indexOf(target.user);
    lane.rotation.forEach((user, rank) => {
      const count = lane.users.get(user)?.length ?? 0;
      // Users before this one in the rotation get index+1 turns first; those after get index turns.
      ahead += Math.min(count, rank < userRank ? index + 1 : rank === userRank ? index : index);
    });
    return ahead + 1;
  }

  #notifyPositions(lane: Lane): void {
    if (lane.listeners === 0) return;
    for (const queue of lane.users.values()) {
      for (const waiter of queue) {
        if (!waiter.onPosition) continue;
        const position = this.#position(lane, waiter);
        if (position !== waiter.lastPosition) {
          waiter.lastPosition = position;
          waiter.onPosition(position);
        }
      }
    }
  }

  #remove(_key: string, lane: Lane, waiter: Waiter): void {
    const queue = lane.users.get(waiter.user);
    const index = queue?.indexOf(waiter) ?? -1;
    if (!queue || index < 0) return;
    queue.splice(index, 1);
    lane.waiting--;
    if (waiter.onPosition) lane.listeners--;
    if (queue.length === 0) {
      lane.users.delete(waiter.user);
      lane.rotation = lane.rotation.filter((user) => user !== waiter.user);
    }
    this.#notifyPositions(lane);
  }

  #releaser(key: string, lane: Lane): () => void {
    const heldSince = performance.now();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      lane.averageHoldMs = lane.averageHoldMs * 0.8 + (performance.now() - heldSince) * 0.2;
      lane.active--;
      this.#dispatch(key, lane);
      if (lane.forgotten && lane.active === 0 && lane.waiting === 0) {
        this.#lanes.delete(key);
        this.#options.onDropped?.(key);
      }
    };
  }

  #dispatch(key: string, lane: Lane): void {
    while (lane.active < lane.concurrency && lane.rotation.length > 0) {
      const user = lane.rotation.shift()!;
      const queue = lane.users.get(user)!;
      const waiter = queue.shift()!;
      lane.waiting--;
      if (waiter.onPosition) lane.listeners--;
      if (queue.length > 0) lane.rotation.push(user);
      else lane.users.delete(user);
      lane.active++;
      waiter.grant(this.#releaser(key, lane));
    }
    this.#notifyPositions(lane);
  }
}
