// Node reads each socket into a fresh buffer of up to 64 KiB. A spent one is freed only when V8
// collects the young generation. Usually the sessions' other garbage makes that happen often
// enough; but a session streaming a large message makes almost none, and V8 then lets tens of
// megabytes of spent read buffers pile up (a worker receiving a 200 MB message grew by 20 to 28
// MiB). So after every 2 MiB read, if the young generation has not been collected since the last
// look (its used size only grew), one collection is forced here. Forcing one every 2 MiB
// regardless cost 5 to 10% of the throughput of 100 KiB messages. The collector is there when the
// worker runs with --expose-gc (WORKER_V8_FLAGS); without it nothing happens.
import { getHeapSpaceStatistics } from 'node:v8';

const CHECK_EVERY_BYTES = 2 * 1024 * 1024;

type Collect = (options: { type: 'minor' | 'major'; execution: 'sync' | 'async' }) => void;

/** The bytes in use in V8's young generation. */
function youngUsed(): number {
  return getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_used_size ?? 0;
}

/** Forces a young-generation collection every 2 MiB read, unless one happened since the last look. */
export class ReadBufferCollector {
  private sinceCheck = 0;
  private youngUsedBefore = 0;

  constructor(
    private readonly collect: Collect | undefined,
    private readonly readYoungUsed: () => number = youngUsed,
  ) {}

  countRead(bytes: number): void {
    this.sinceCheck += bytes;
    if (this.sinceCheck < CHECK_EVERY_BYTES || this.collect === undefined) return;
    this.sinceCheck = 0;
    // Between collections the young generation only grows: if it shrank, one ran.
    if (this.readYoungUsed() >= this.youngUsedBefore) this.collect({ type: 'minor', execution: 'sync' });
    this.youngUsedBefore = this.readYoungUsed();
  }
}

const collector = new ReadBufferCollector((globalThis as { gc?: Collect }).gc);

/** Counts bytes read from any socket of this process; collects the spent read buffers when nothing else has. */
export function countRead(bytes: number): void {
  collector.countRead(bytes);
}
