// Several relay workers, one connection per destination: each destination (a domain's MX hosts,
// or a fixed next hop) belongs to one relay worker, chosen by a hash of its key, so that the
// sessions of one worker's pool are the only ones to that destination. The queue runner lives in
// relay worker 0 and hands each batch of recipients to the worker owning their destination, as
// Postfix's qmgr hands them to its smtp(8) agents. The other workers are reached through a
// question-and-answer channel given by the caller (the supervisor's IPC); its payloads are
// checked on arrival, since they cross a process boundary.
import * as v from 'valibot';
import { reply } from '../smtp/reply.js';
import { domainOf, type RelayMessage } from './relay.js';
import type { RecipientOutcome } from './transaction.js';

/** Delivers one message to a batch of recipients of one destination (a Relay, or a worker asked through IPC). */
export interface RecipientDeliverer {
  deliver(message: RelayMessage, recipients: readonly string[]): Promise<RecipientOutcome[]>;
  /** Forgets the hosts found unreachable (after `mta queue flush`). */
  forgetFailures?(): void;
}

/** The key of the destination mail for `domain` goes to (the same key ⇒ the same worker). */
export type DestinationKey = (domain: string) => string;

/** Sends each recipient to the deliverer owning its destination; one outcome per recipient, in order. */
export class DestinationSplit {
  constructor(
    private readonly workers: readonly RecipientDeliverer[],
    private readonly keyOf: DestinationKey,
  ) {}

  async deliver(message: RelayMessage, recipients: readonly string[]): Promise<RecipientOutcome[]> {
    const byWorker = new Map<number, number[]>();
    recipients.forEach((r, i) => {
      const owner = ownerOf(this.keyOf(domainOf(r)), this.workers.length);
      byWorker.set(owner, [...(byWorker.get(owner) ?? []), i]);
    });
    const outcomes: RecipientOutcome[] = [];
    await Promise.all(
      [...byWorker].map(async ([owner, indexes]) => {
        const batch = indexes.map((i) => recipients[i] as string);
        const results = await (this.workers[owner] as RecipientDeliverer).deliver(message, batch);
        indexes.forEach((at, k) => (outcomes[at] = results[k] as RecipientOutcome));
      }),
    );
    return outcomes;
  }

  forgetFailures(): void {
    for (const worker of this.workers) worker.forgetFailures?.();
  }
}

/** The worker of `count` that owns a destination key: a stable hash, the same in every process. */
export function ownerOf(key: string, count: number): number {
  let hash = 0;
  for (let i = 0; i < key.length; i++) hash = (hash * 31 + key.charCodeAt(i)) >>> 0;
  return hash % count;
}

const replySchema = v.object({ code: v.number(), enhancedCode: v.optional(v.string()), lines: v.array(v.string()) });
const outcomesSchema = v.array(v.object({ kind: v.picklist(['delivered', 'transient', 'permanent']), reply: replySchema, remoteMta: v.optional(v.string()) }));
const jobSchema = v.object({
  message: v.object({
    queueId: v.string(),
    reversePath: v.string(),
    dataPath: v.string(),
    bodyType: v.optional(v.picklist(['7bit', '8bitmime', 'smtputf8'])),
    sizeBytes: v.optional(v.number()),
  }),
  recipients: v.array(v.string()),
});

/** One batch for another relay worker, as it travels. */
export type RelayJob = v.InferOutput<typeof jobSchema>;

const requestSchema = v.union([jobSchema, v.object({ forgetFailures: v.literal(true) })]);

/** What worker 0 asks another relay worker: deliver a batch, or forget the hosts found unreachable. */
export type RelayRequest = v.InferOutput<typeof requestSchema>;

/** Reads a request that arrived from another worker; undefined when it is not one. */
export function parseRequest(payload: unknown): RelayRequest | undefined {
  const parsed = v.safeParse(requestSchema, payload);
  return parsed.success ? parsed.output : undefined;
}

/** A relay worker reached through `ask`: its answers are checked, and no answer defers the batch. */
export class RemoteWorker implements RecipientDeliverer {
  constructor(private readonly ask: (request: RelayRequest) => Promise<unknown>) {}

  forgetFailures(): void {
    void this.ask({ forgetFailures: true });
  }

  async deliver(message: RelayMessage, recipients: readonly string[]): Promise<RecipientOutcome[]> {
    const job: RelayJob = {
      message: { queueId: message.queueId, reversePath: message.reversePath, dataPath: message.dataPath, bodyType: message.bodyType, sizeBytes: message.sizeBytes },
      recipients: [...recipients],
    };
    const parsed = v.safeParse(outcomesSchema, await this.ask(job));
    if (parsed.success && parsed.output.length === recipients.length) return parsed.output;
    const deferred = reply(451, '4.3.0', 'The relay worker for this destination is not available; will retry');
    return recipients.map(() => ({ kind: 'transient', reply: deferred }));
  }
}
