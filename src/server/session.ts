// The SMTP server session as a pure state machine (RFC 5321): events in, replies and actions out.
// It knows nothing of sockets, timers or files; the listener performs the actions and feeds the
// outcomes back. The message body never passes through here. Transaction verbs live in
// session-transaction.ts, STARTTLS and AUTH in session-auth.ts; this file holds the state, the dispatch, the connection-level verbs and
// the error count (which replies count: docs/configuration.md, server.max_errors).
import { checkCommandLine, parseCommand, type Verb } from '../smtp/command-line.js';
import { type Reply, replies } from '../smtp/reply.js';
import type { Awaiting, ClientInfo, Phase, SessionAction, SessionEvent, SessionOptions, SessionOutput, SessionState, VerbHandler, VerbResult } from './session-types.js';
import { authVerbs, onAuthResponse, onCredentialsChecked, onTlsStarted, securityKeywords } from './session-auth.js';
import { completions, type CompletionEvent, transactionVerbs } from './session-transaction.js';

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
        s.mode = event.listener?.mode ?? 'smtp';
        s.tls = event.listener?.tls ?? null;
        return this.connected(event.client, event.hasTalkedEarly === true);
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
        return this.closeWith(replies.timeout(s.options.hostname));
      case 'data-too-slow':
        return this.closeWith(replies.dataTooSlow(s.options.hostname));
      case 'shutdown':
        s.isShuttingDown = true;
        return { replies: [] };
      default:
        return this.completion(event);
    }
  }

  /**
   * Greets the client, or refuses one that talked first (RFC 5321 3.1 allows a 554 in place of
   * the 220, and a client that does not wait for its turn gets no further turns, as postscreen
   * does) or one refused at connect for who it is.
   */
  private connected(client: ClientInfo, hasTalkedEarly: boolean): VerbResult {
    const s = this.state;
    s.client = client;
    if (hasTalkedEarly) return this.closeWith(replies.talkedEarly(s.options.hostname));
    if (client.refusal && client.isRefusedAtConnect) {
      s.phase = 'closed';
      return { replies: [client.refusal], actions: [{ kind: 'close' }] };
    }
    s.phase = 'greeted';
    return say(replies.greeting(s.options.hostname));
  }

  /** Ends the session with a last reply, dropping any message in progress. */
  private closeWith(reply: Reply): VerbResult {
    this.state.phase = 'closed';
    return { replies: [reply], actions: [{ kind: 'abort-message' }, { kind: 'close' }] };
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
