// The SMTP server session as a pure state machine (RFC 5321): events in, replies and actions out.
// It knows nothing of sockets, timers or files; the listener performs the actions and feeds the
// outcomes back. The message body never passes through here. Transaction verbs live in
// session-transaction.ts, STARTTLS and AUTH in session-auth.ts; this file holds the state, the
// dispatch, the connection-level verbs and the error count (which replies count:
// docs/configuration.md, server.max_errors).
import { checkCommandLine, parseCommand, type Verb } from '../smtp/command-line.js';
import { type Reply, replies } from '../smtp/reply.js';
import { type Authenticated, authVerbs, onAuthResponse, onCredentialsChecked, onTlsStarted, type SaslExchange, securityKeywords } from './session-auth.js';
import type { ClientInfo, ServiceMode, SessionAction, SessionEvent, SessionOutput, TlsInfo } from './session-types.js';
import { completions, type CompletionEvent, type Transaction, transactionVerbs } from './session-transaction.js';

/** What the session needs to know; the listener maps the config onto this. */
export interface SessionOptions {
  /** Our name in the greeting, replies and Received header. */
  readonly hostname: string;
  readonly maxMessageBytes: number;
  readonly maxRecipients: number;
  /** Client errors tolerated before 421 and close (Postfix's smtpd_hard_error_limit). */
  readonly maxErrors: number;
  /**
   * Client errors after which every reply waits ERROR_DELAY_MS (Postfix's smtpd_soft_error_limit);
   * a value of maxErrors or more never delays.
   * @default 10
   */
  readonly softErrorLimit?: number;
  /**
   * HELO, EHLO, RSET, NOOP, HELP, VRFY and EXPN commands allowed before each further one counts
   * as an error (Postfix's smtpd_junk_command_limit).
   * @default 100
   */
  readonly maxJunkCommands?: number;
  /**
   * How VRFY is answered: 'error' refuses it with 502 5.5.1, '252' answers RFC 5321 7.3's
   * 252 2.5.0 (neither says whether the user exists).
   * @default 'error'
   */
  readonly vrfy?: 'error' | '252';
  /** Tells whether a forward-path (bare `Postmaster` included) is delivered here (the queue's router). */
  readonly isLocal: (forwardPath: string) => boolean;
  /** A certificate is loaded: STARTTLS is offered until TLS is active. @default false */
  readonly isTlsAvailable?: boolean;
  /** An authenticator is configured: AUTH PLAIN and LOGIN are offered over TLS. @default false */
  readonly isAuthAvailable?: boolean;
  /** Offer AUTH without TLS to loopback clients on an MX ('smtp') port. @default false */
  readonly allowPlaintextAuthOnLoopback?: boolean;
}

/** Where the session stands; 'greeted' is before HELO/EHLO. */
export type Phase = 'new' | 'greeted' | 'ready' | 'closed';

/** What the session waits for from the listener, if anything. */
export type Awaiting = 'none' | 'recipient-check' | 'message-open' | 'data' | 'chunk' | 'tls' | 'credentials';

/** The mutable state handed to verb handlers. */
export interface SessionState {
  readonly options: SessionOptions;
  phase: Phase;
  awaiting: Awaiting;
  client: ClientInfo;
  /** The service of the port the client connected to. */
  mode: ServiceMode;
  /** The TLS session, once negotiated. */
  tls: TlsInfo | null;
  /** Who the client logged in as, once AUTH succeeded. */
  auth: Authenticated | undefined;
  /** The SASL exchange in progress, between a 334 and the client's answer. */
  sasl: SaslExchange | undefined;
  helo: string;
  isExtended: boolean;
  transaction: Transaction | undefined;
  /** Client errors since the session began or since the last message was stored. */
  errorCount: number;
  /** Junk commands (JUNK_VERBS) over the same span. */
  junkCount: number;
  isShuttingDown: boolean;
}

/**
 * A verb's answer: replies, actions, and whether it counts as a client error. Only the client's
 * own mistakes count (syntax, sequence, unknown commands and parameters); our policy refusing
 * something well-formed (relaying, unknown users, limits, VRFY) never does.
 */
export interface VerbResult {
  readonly replies: readonly Reply[];
  readonly actions?: readonly SessionAction[];
  readonly isError?: boolean;
  /** Milliseconds to hold the replies (failed AUTHs piling up); the error delay may add to it. */
  readonly delayMs?: number;
}

export type VerbHandler = (state: SessionState, args: string) => VerbResult;

/** How long the listener holds each reply once softErrorLimit errors are made (Postfix's smtpd_error_sleep_time). */
export const ERROR_DELAY_MS = 1000;

const DEFAULT_SOFT_ERROR_LIMIT = 10;
const DEFAULT_MAX_JUNK_COMMANDS = 100;

/** Commands that cost us a reply but move no mail (Postfix adds ETRN; it has no HELP or EXPN). */
const JUNK_VERBS: ReadonlySet<Verb> = new Set<Verb>(['HELO', 'EHLO', 'RSET', 'NOOP', 'HELP', 'VRFY', 'EXPN']);

const say = (r: Reply, isError = false): VerbResult => ({ replies: [r], isError });

const EHLO_KEYWORDS = (maxBytes: number) => [
  'PIPELINING',
  `SIZE ${maxBytes}`,
  '8BITMIME',
  'ENHANCEDSTATUSCODES',
  'SMTPUTF8',
  'CHUNKING',
];

function greet(state: SessionState, args: string, isExtended: boolean): VerbResult {
  const name = args.trim();
  if (name === '' || /\s/.test(name)) {
    return say(replies.syntax(isExtended ? 'EHLO hostname' : 'HELO hostname'), true);
  }
  state.phase = 'ready';
  state.helo = name;
  state.isExtended = isExtended;
  const actions = dropTransaction(state);
  const host = state.options.hostname;
  const client = state.client.ptr ?? `[${state.client.address}]`;
  const keywords = [...EHLO_KEYWORDS(state.options.maxMessageBytes), ...securityKeywords(state)];
  const reply = isExtended ? replies.ehlo(host, client, keywords) : replies.helo(host, client);
  return { replies: [reply], actions };
}

/**
 * Forgets the transaction (RSET, HELO/EHLO: RFC 5321 4.1.4). Between BDAT chunks its message is
 * already open, so the listener must throw it away too, or the next message would inherit it.
 */
function dropTransaction(state: SessionState): SessionAction[] {
  const isOpen = state.transaction?.chunking?.isOpen === true;
  state.transaction = undefined;
  return isOpen ? [{ kind: 'abort-message' }] : [];
}

const connectionVerbs: Partial<Record<Verb, VerbHandler>> = {
  HELO: (s, a) => greet(s, a, false),
  EHLO: (s, a) => greet(s, a, true),
  RSET: (s, a) => {
    if (a.trim() !== '') return say(replies.syntax('RSET takes no arguments'), true);
    return { replies: [replies.resetOk()], actions: dropTransaction(s) };
  },
  NOOP: () => say(replies.noopOk()),
  HELP: () => say(replies.help()),
  QUIT: (s) => {
    const actions = dropTransaction(s);
    s.phase = 'closed';
    return { replies: [replies.quit(s.options.hostname)], actions: [...actions, { kind: 'close' }] };
  },
  // RFC 5321 7.3: VRFY and EXPN leak who exists; we never say. Refusing them is our policy,
  // not the client's mistake, so the 502 is no error; VRFY may instead get 252 (3.5.3).
  VRFY: (s, a) => {
    if (s.options.vrfy !== '252') return say(replies.notImplemented('VRFY'));
    return a.trim() === '' ? say(replies.syntax('VRFY address'), true) : say(replies.cannotVerify());
  },
  EXPN: () => say(replies.notImplemented('EXPN')),
};

const verbs: Partial<Record<Verb, VerbHandler>> = { ...connectionVerbs, ...transactionVerbs, ...authVerbs };

/** Runs one SMTP server session: feed it events, send what it answers, do what it asks. */
export class Session {
  private readonly state: SessionState;

  constructor(options: SessionOptions) {
    this.state = {
      options,
      phase: 'new',
      awaiting: 'none',
      client: { address: '', ptr: null, mayRelay: false },
      mode: 'smtp',
      tls: null,
      auth: undefined,
      sasl: undefined,
      helo: '',
      isExtended: false,
      transaction: undefined,
      errorCount: 0,
      junkCount: 0,
      isShuttingDown: false,
    };
  }

  /** The current phase, for the listener's timers and logs. */
  get phase(): Phase {
    return this.state.phase;
  }

  /** Whether a SASL exchange is open: the next line is an `auth-response`, and must not be logged. */
  get isSaslOpen(): boolean {
    return this.state.sasl !== undefined;
  }

  /** Whether a message is being received, so shutdown should wait for it. */
  get isInTransaction(): boolean {
    return this.state.awaiting !== 'none' || this.state.transaction?.chunking !== undefined;
  }

  /** Handles one event and returns the replies and actions it leads to. */
  handle(event: SessionEvent): SessionOutput {
    if (this.state.phase === 'closed') return { replies: [], actions: [], delayMs: 0 };
    const result = this.dispatch(event);
    return this.afterReply(result);
  }

  private dispatch(event: SessionEvent): VerbResult {
    const s = this.state;
    switch (event.type) {
      case 'connected':
        s.client = event.client;
        s.mode = event.listener?.mode ?? 'smtp';
        s.tls = event.listener?.tls ?? null;
        s.phase = 'greeted';
        return say(replies.greeting(s.options.hostname));
      case 'line':
        // A line inside a SASL exchange is a credential, never a command.
        return s.sasl ? onAuthResponse(s, event.line) : this.command(event.line);
      case 'auth-response':
        return onAuthResponse(s, event.line);
      case 'line-too-long':
        s.sasl = undefined;
        return say(replies.lineTooLong(), true);
      case 'bare-linefeed':
        s.sasl = undefined;
        return say(replies.bareLineFeedInCommand(), true);
      case 'tls-started':
        this.endWait('tls', event.type);
        return onTlsStarted(s, event.tls);
      case 'credentials-checked':
        this.endWait('credentials', event.type);
        return onCredentialsChecked(s, event.verdict);
      case 'timeout':
        s.phase = 'closed';
        return { replies: [replies.timeout(s.options.hostname)], actions: [{ kind: 'abort-message' }, { kind: 'close' }] };
      case 'shutdown':
        s.isShuttingDown = true;
        return { replies: [] };
      default:
        return this.completion(event);
    }
  }

  private endWait(awaiting: Awaiting, type: string): void {
    if (this.state.awaiting !== awaiting) throw new Error(`${type} arrived while awaiting ${this.state.awaiting}`);
    this.state.awaiting = 'none';
  }

  /** Feeds the outcome of an action back into the verb that asked for it. */
  private completion(event: CompletionEvent): VerbResult {
    const expected: readonly Awaiting[] = completions.awaitedBy[event.type];
    if (!expected.includes(this.state.awaiting)) throw new Error(`${event.type} arrived while awaiting ${this.state.awaiting}`);
    this.state.awaiting = 'none';
    return completions.handle(this.state, event);
  }

  private command(line: string): VerbResult {
    const s = this.state;
    if (s.awaiting !== 'none') throw new Error(`command line fed while awaiting ${s.awaiting}`);
    const refusal = checkCommandLine(line);
    if (refusal) return say(refusal, true);
    const command = parseCommand(line);
    if (command.verb === 'UNKNOWN') return say(replies.unknownCommand(), true);
    const handler = verbs[command.verb];
    if (!handler) return say(replies.unknownCommand(), true);
    const result = handler(s, command.args);
    if (!JUNK_VERBS.has(command.verb)) return result;
    s.junkCount += 1;
    const maxJunk = s.options.maxJunkCommands ?? DEFAULT_MAX_JUNK_COMMANDS;
    return s.junkCount > maxJunk ? { ...result, isError: true } : result;
  }

  /** Counts the error, applies the delay, the error limit and a pending shutdown once a reply is settled. */
  private afterReply(result: VerbResult): SessionOutput {
    const s = this.state;
    // As Postfix, the delay starts with the first reply after softErrorLimit errors, whatever it is.
    const isSlow = result.replies.length > 0 && s.errorCount >= (s.options.softErrorLimit ?? DEFAULT_SOFT_ERROR_LIMIT);
    const delayMs = (isSlow ? ERROR_DELAY_MS : 0) + (result.delayMs ?? 0);
    const out = { replies: [...result.replies], actions: [...(result.actions ?? [])], delayMs };
    if (result.isError) s.errorCount += 1;
    if (s.phase === 'closed') return out;
    const isIdle = s.awaiting === 'none' && s.transaction?.chunking === undefined;
    if (s.errorCount >= s.options.maxErrors) {
      out.replies.push(replies.tooManyErrors(s.options.hostname));
    } else if (s.isShuttingDown && isIdle) {
      out.replies.push(replies.shuttingDown(s.options.hostname));
    } else {
      return out;
    }
    s.phase = 'closed';
    out.actions.push({ kind: 'abort-message' }, { kind: 'close' });
    return out;
  }
}
