/**
 * A FIFO queue with a limit on how many ingests run at once. Each ingest keeps a native thread
 * (plus encoder threads) busy, so the default is about one per four cores, at least one.
 */
import { availableParallelism } from 'node:os';
import { checkInteger } from '../validate.js';

export function defaultConcurrency(): number {
  return Math.max(1, Math.floor(availableParallelism() / 4));
}

interface Entry {
  key: string;
  task: () => Promise<void>;
}

export class JobQueue {
  private limit: number;
  private readonly pending: Entry[] = [];
  private readonly active = new Set<string>();
  private idleWaiters: Array<() => void> = [];

  constructor(concurrency: number = defaultConcurrency()) {
    this.limit = checkInteger(concurrency, 'concurrency', 1, 1024);
  }

  /** How many tasks may run at once; raising it starts queued tasks at once. */
  get concurrency(): number {
    return this.limit;
  }

  set concurrency(n: number) {
    this.limit = checkInteger(n, 'concurrency', 1, 1024);
    this.pump();
  }

  get running(): number {
    return this.active.size;
  }

  get queued(): number {
    return this.pending.length;
  }

  /** Queues a task under a key (a job id); it starts when a slot is free. */
  add(key: string, task: () => Promise<void>): void {
    this.pending.push({ key, task });
    this.pump();
  }

  /** Takes a task that has not started out of the queue; false when it is running or unknown. */
  remove(key: string): boolean {
    const i = this.pending.findIndex((e) => e.key === key);
    if (i < 0) return false;
    this.pending.splice(i, 1);
    this.settleIdle();
    return true;
  }

  isQueued(key: string): boolean {
    return this.pending.some((e) => e.key === key);
  }

  /** Resolves when nothing is running or queued. */
  onIdle(): Promise<void> {
    if (this.active.size === 0 && this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (this.active.size < this.limit && this.pending.length > 0) {
      const entry = this.pending.shift()!;
      this.active.add(entry.key);
      // Tasks report their own failures; the queue only needs to know they ended.
      void Promise.resolve()
        .then(entry.task)
        .catch(() => undefined)
        .finally(() => {
          this.active.delete(entry.key);
          this.pump();
          this.settleIdle();
        });
    }
  }

  private settleIdle(): void {
    if (this.active.size > 0 || this.pending.length > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
