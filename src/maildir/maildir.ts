// Local delivery into Maildir: checks recipients at RCPT time and delivers one spooled message
// to several mailboxes by writing it once and hard-linking it (tmp/, fsync, rename into new/,
// fsync new/). It never runs as root (STYLE 9) and reports every failure as a tagged result.
// It is handed only local addresses (the queue's router decides) and matches the queue's
// Deliverer by shape, without importing queue/.
import { access, constants, readdir, stat, unlink } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { basename, dirname, join } from 'node:path';
import { replies } from '../smtp/reply.js';
import type { Reply } from '../smtp/reply.js';
import { createMailbox, mailboxExists, resolveMailbox } from './mailbox.js';
import type { MailboxLayout } from './mailbox.js';
import { MaildirNamer } from './maildir-name.js';
import type { MaildirNamerOptions } from './maildir-name.js';
import { placeCopies } from './maildir-write.js';
import { deliveryHeaders } from './maildir-copy.js';
import { ReceivingCopy } from './maildir-receive.js';
import { createFile } from '../fsio/durable.js';
import type { Placement } from './maildir-write.js';
import { errnoCode } from '../fsio/errno.js';

/** Age after which a file in a mailbox's tmp/ is a leftover of a killed process (Dovecot's rule). */
const TMP_MAX_AGE_MS = 36 * 3600_000;
const SWEEP_EVERY_MS = 24 * 3600_000;

/** The logger delivery writes to: the subset of pino it uses. */
export interface DeliveryLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** The outcome of delivering to one recipient. */
export type DeliveryResult =
  | { readonly kind: 'delivered' }
  | { readonly kind: 'transient'; readonly reply: Reply }
  | { readonly kind: 'permanent'; readonly reply: Reply };

/**
 * A message written into its mailbox as it is received: `body` takes the data (CRLF line ends),
 * `commit` makes it durable and visible in new/ (the same result for every recipient), `discard`
 * drops it.
 */
export interface DirectDelivery {
  readonly body: Writable;
  commit(): Promise<DeliveryResult>;
  discard(): Promise<void>;
}

/** A spooled message to deliver: its data file (CRLF line ends) and reverse-path. */
export interface SpooledMessage {
  readonly dataPath: string;
  /** '' for the null sender. */
  readonly reversePath: string;
  /** For log lines. */
  readonly queueId?: string;
}

export interface MaildirOptions extends MailboxLayout, MaildirNamerOptions {
  /** Create the mailbox of an unknown local user on first delivery. @default false */
  readonly createMailboxes?: boolean;
  /**
   * Mailboxes (`user@domain`, lower case) created on first delivery even when createMailboxes is
   * off: the postmaster's, which RFC 5321 4.5.1 requires to exist. @default []
   */
  readonly createOnDemand?: readonly string[];
  /** Allows running as root; for tests only, the daemon never sets it. @default false */
  readonly allowRoot?: boolean;
  /** @default Date.now */
  readonly nowMs?: () => number;
  readonly logger: DeliveryLogger;
}

/** Thrown when delivery code is constructed in a process running as root. */
export class DeliveryAsRootError extends Error {
  readonly code = 'MTA_ERR_DELIVERY_AS_ROOT';
}

/** Delivers to local mailboxes under one maildir root. */
export class Maildir {
  private readonly namer: MaildirNamer;
  /** When each mailbox's tmp/ was last swept by this process. */
  private readonly sweptAtMs = new Map<string, number>();
  private readonly createMailboxes: boolean;
  private readonly createOnDemand: ReadonlySet<string>;

  constructor(private readonly options: MaildirOptions) {
    if (process.getuid?.() === 0 && options.allowRoot !== true) {
      throw new DeliveryAsRootError('Cannot deliver mail as root: drop privileges first');
    }
    this.namer = new MaildirNamer(options);
    this.createMailboxes = options.createMailboxes ?? false;
    this.createOnDemand = new Set((options.createOnDemand ?? []).map((a) => a.toLowerCase()));
  }

  /** Checks a local recipient at RCPT: undefined to accept, else the refusal. */
  async checkRecipient(address: string): Promise<Reply | undefined> {
    const target = resolveMailbox(address, this.options);
    if (target.kind === 'invalid') return target.reply;
    try {
      // An existing mailbox answers for its root; the root is examined only to tell a missing
      // user from a maildir root that is unusable.
      if (await mailboxExists(target.dir)) return undefined;
      await this.checkRoot();
    } catch (err) {
      this.options.logger.error({ root: this.options.root, err: errnoCode(err) }, 'maildir root unusable');
      return replies.insufficientStorage();
    }
    return this.mayCreate(target) ? undefined : replies.noSuchUser(address);
  }

  /**
   * Starts writing a message being received straight into its mailbox (maildir-receive.ts), when
   * every recipient maps to one mailbox that exists or may be created. Returns undefined
   * otherwise, or when the mailbox cannot take a file now: the caller then spools the message
   * and delivers it from there, which reports each recipient's problem.
   */
  async openCopy(message: Omit<SpooledMessage, 'dataPath'>, recipients: readonly string[]): Promise<DirectDelivery | undefined> {
    const dirs = new Set<string>();
    for (const rcpt of recipients) {
      const outcome = await this.prepare(rcpt);
      if (typeof outcome !== 'string') return undefined;
      dirs.add(outcome);
    }
    const [dir] = dirs;
    if (dir === undefined || dirs.size > 1) return undefined;
    const base = this.namer.next();
    const tmpPath = join(dir, 'tmp', base);
    let fd: number;
    try {
      fd = await createFile(tmpPath);
    } catch (err) {
      this.options.logger.warn({ queueId: message.queueId, mailbox: dir, err: errnoCode(err) }, 'cannot write into mailbox; spooling');
      return undefined;
    }
    const copy = new ReceivingCopy(fd, { dir, base, tmpPath }, deliveryHeaders(message.reversePath, recipients.length === 1 ? recipients[0] : undefined));
    return {
      body: copy.body,
      commit: async () => {
        const results = new Map<string, DeliveryResult>();
        this.record(message, await copy.publish(), [...recipients], results);
        await this.sweepTmp(dir);
        return results.get(recipients[0] ?? '') ?? { kind: 'transient', reply: replies.localError() };
      },
      discard: () => copy.discard(),
    };
  }

  /** Tells whether a missing mailbox is made on first delivery. */
  private mayCreate(target: { domain: string; user: string }): boolean {
    return this.createMailboxes || this.createOnDemand.has(`${target.user}@${target.domain}`);
  }

  /**
   * Delivers one message to local addresses; returns a result for each one, in order (the queue's
   * Deliverer). `onIntent` hears each recipient's final file path (undefined for those not being
   * written) before any file becomes visible; see placeCopies.
   */
  async deliver(
    message: SpooledMessage,
    recipients: readonly string[],
    onIntent?: (files: readonly (string | undefined)[]) => Promise<void>,
  ): Promise<DeliveryResult[]> {
    const results = new Map<string, DeliveryResult>();
    const byDir = new Map<string, string[]>();
    for (const rcpt of recipients) {
      const outcome = await this.prepare(rcpt);
      if (typeof outcome !== 'string') results.set(rcpt, outcome);
      else byDir.set(outcome, [...(byDir.get(outcome) ?? []), rcpt]);
    }
    // Delivered-To names the recipient only when the one file belongs to one recipient alone.
    const groups = [...byDir.values()];
    const only = groups.length === 1 && groups[0]?.length === 1 ? groups[0][0] : undefined;
    const dirOf = new Map([...byDir].flatMap(([dir, rcpts]) => rcpts.map((r): [string, string] => [r, dir])));
    const intent = onIntent && ((files: ReadonlyMap<string, string>) => onIntent(recipients.map((r) => files.get(dirOf.get(r) ?? ''))));
    const placements = await placeCopies(message, [...byDir.keys()], only, this.namer, intent);
    for (const placement of placements) this.record(message, placement, byDir.get(placement.dir) ?? [], results);
    for (const dir of byDir.keys()) await this.sweepTmp(dir);
    return recipients.map((r) => results.get(r) ?? { kind: 'transient', reply: replies.localError() });
  }

  /**
   * Removes files a killed process left in a mailbox's tmp/ more than 36 hours ago, as Dovecot
   * does; at most once a day per mailbox and process, at delivery. Never fails a delivery.
   */
  private async sweepTmp(dir: string): Promise<void> {
    const now = (this.options.nowMs ?? Date.now)();
    if (now - (this.sweptAtMs.get(dir) ?? -Infinity) < SWEEP_EVERY_MS) return;
    this.sweptAtMs.set(dir, now);
    const tmp = join(dir, 'tmp');
    for (const name of await readdir(tmp).catch(() => [])) {
      const file = join(tmp, name);
      const info = await stat(file).catch(() => undefined);
      if (info?.isFile() && now - info.mtimeMs > TMP_MAX_AGE_MS) await unlink(file).catch(() => undefined);
    }
  }

  /** Tells whether a file announced by onIntent reached the mailbox (in new/, or moved on to cur/ by a reader). */
  async isPlaced(file: string): Promise<boolean> {
    if (await exists(file)) return true;
    const base = basename(file);
    const cur = join(dirname(dirname(file)), 'cur');
    return (await readdir(cur).catch(() => [])).some((name) => name.startsWith(base));
  }

  /** Resolves and if need be creates a recipient's mailbox: its directory, or a final result. */
  private async prepare(rcpt: string): Promise<string | DeliveryResult> {
    const target = resolveMailbox(rcpt, this.options);
    if (target.kind === 'invalid') return { kind: 'permanent', reply: target.reply };
    try {
      if (await mailboxExists(target.dir)) return target.dir;
      if (!this.mayCreate(target)) return { kind: 'permanent', reply: replies.noSuchUser(rcpt) };
      if (await createMailbox(this.options.root, target.domain, target.user)) this.options.logger.info({ mailbox: target.dir }, 'mailbox created');
      return target.dir;
    } catch (err) {
      this.options.logger.warn({ rcpt, mailbox: target.dir, err: errnoCode(err) }, 'mailbox unavailable');
      return { kind: 'transient', reply: replies.insufficientStorage() };
    }
  }

  private record(message: { readonly queueId?: string }, placement: Placement, rcpts: string[], out: Map<string, DeliveryResult>): void {
    const log = this.options.logger;
    for (const rcpt of rcpts) {
      if (placement.ok) {
        log.info({ queueId: message.queueId, rcpt, file: placement.path }, 'delivered to maildir');
        out.set(rcpt, { kind: 'delivered' });
      } else {
        log.warn({ queueId: message.queueId, rcpt, mailbox: placement.dir, err: placement.error }, 'maildir delivery deferred');
        out.set(rcpt, { kind: 'transient', reply: replies.insufficientStorage() });
      }
    }
  }

  private async checkRoot(): Promise<void> {
    const info = await stat(this.options.root);
    if (!info.isDirectory()) throw Object.assign(new Error('Maildir root is not a directory'), { code: 'ENOTDIR' });
    await access(this.options.root, constants.W_OK | constants.X_OK);
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
