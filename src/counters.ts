/**
 * What the addon is doing right now, per kind of native operation (like sharp's counters()):
 * for health checks and metrics of services that embed the library.
 */
export type NativeOperation = 'probe' | 'klv' | 'previews' | 'ingest';

export interface OperationCounts {
  /** Operations in flight now. */
  running: number;
  /** Operations started since the module loaded. */
  started: number;
  /** Operations that ended with an error (cancellations included). */
  failed: number;
}

const counts: Record<NativeOperation, OperationCounts> = {
  probe: { running: 0, started: 0, failed: 0 },
  klv: { running: 0, started: 0, failed: 0 },
  previews: { running: 0, started: 0, failed: 0 },
  ingest: { running: 0, started: 0, failed: 0 },
};

/** A snapshot of the counts of native operations in this thread (each worker thread has its own). */
export function counters(): Record<NativeOperation, OperationCounts> {
  return {
    probe: { ...counts.probe },
    klv: { ...counts.klv },
    previews: { ...counts.previews },
    ingest: { ...counts.ingest },
  };
}

/** Counts one operation from its start until the promise settles. */
export function track<T>(kind: NativeOperation, promise: Promise<T>): Promise<T> {
  const c = counts[kind];
  c.running++;
  c.started++;
  promise.then(
    () => void c.running--,
    () => {
      c.running--;
      c.failed++;
    },
  );
  return promise;
}
