// Node reads each socket into a fresh buffer of up to 64 KiB. A spent one is freed only when V8
// collects it, and a session streaming a large message makes almost no other garbage, so V8 lets
// tens of megabytes of spent read buffers pile up before it collects them (a worker receiving a
// 200 MB message grew by 20 to 28 MiB). A young-generation collection after every 2 MiB read,
// across the process's sessions, keeps that at 9 to 10 MiB; with 1 MiB semi-spaces it takes a
// fraction of a millisecond. The collector is there when the worker runs with --expose-gc
// (WORKER_V8_FLAGS); without it nothing happens.

const COLLECT_EVERY_BYTES = 2 * 1024 * 1024;

type Collect = (options: { type: 'minor' | 'major'; execution: 'sync' | 'async' }) => void;
const collect = (globalThis as { gc?: Collect }).gc;
let sinceCollect = 0;

/** Counts bytes read from any socket of this process; collects the spent read buffers now and then. */
export function countRead(bytes: number): void {
  sinceCollect += bytes;
  if (sinceCollect < COLLECT_EVERY_BYTES || collect === undefined) return;
  sinceCollect = 0;
  collect({ type: 'minor', execution: 'sync' });
}
