/**
 * Live telemetry fan-out: every decoded KLV packet of a live run goes to each subscriber's own
 * bounded queue. A subscriber that falls behind loses its oldest packets (counted in `dropped`),
 * so a slow consumer never grows the process's memory, and never slows the run or the others.
 */
import type { KlvPacket } from '../klv/index.js';

/** A decoded packet with the wall-clock time (ms since 1970) at which it reached the JS thread. */
export interface TelemetryPacket {
  packet: KlvPacket;
  receivedAt: number;
}

export interface TelemetrySubscription extends AsyncIterableIterator<TelemetryPacket> {
  /** Packets this subscriber lost because its queue was full. */
  readonly dropped: number;
}

class Subscriber implements TelemetrySubscription {
  private readonly queue: TelemetryPacket[] = [];
  private waiting: ((r: IteratorResult<TelemetryPacket>) => void) | undefined;
  private closed = false;
  dropped = 0;

  constructor(
    private readonly limit: number,
    private readonly detach: (s: Subscriber) => void,
  ) {}

  push(item: TelemetryPacket): void {
    if (this.closed) return;
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = undefined;
      w({ value: item, done: false });
      return;
    }
    if (this.queue.length >= this.limit) {
      this.queue.shift();
      this.dropped++;
    }
    this.queue.push(item);
  }

  end(): void {
    this.closed = true;
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = undefined;
      w({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<TelemetryPacket>> {
    const item = this.queue.shift();
    if (item) return Promise.resolve({ value: item, done: false });
    if (this.closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  return(): Promise<IteratorResult<TelemetryPacket>> {
    this.queue.length = 0;
    this.end();
    this.detach(this);
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

export class TelemetryHub {
  private readonly subscribers = new Set<Subscriber>();
  private last: TelemetryPacket | null = null;
  private ended = false;
  private count = 0;

  publish(packet: KlvPacket, receivedAt: number): void {
    const item = { packet, receivedAt };
    this.last = item;
    this.count++;
    for (const s of this.subscribers) s.push(item);
  }

  /** A new subscription; it sees packets published from now on and ends when the run ends. */
  subscribe(queueLimit = 1024): TelemetrySubscription {
    const s = new Subscriber(queueLimit, (x) => this.subscribers.delete(x));
    if (this.ended) s.end();
    else this.subscribers.add(s);
    return s;
  }

  latest(): TelemetryPacket | null {
    return this.last;
  }

  get packets(): number {
    return this.count;
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  end(): void {
    this.ended = true;
    for (const s of this.subscribers) s.end();
    this.subscribers.clear();
  }
}
