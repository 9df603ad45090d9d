// An SMTP worker process: accepts on the listening sockets it inherits, and serves each connection
// once the supervisor admits it (the connection limits hold across all workers), as well as the
// sockets the supervisor accepted during start-up and hands over. It stores mail through the
// queue's intake, tells the supervisor when a message was queued (so the relay workers wake) and
// when a connection closed, and asks it to count each MAIL (max_message_rate holds across all
// workers). It never binds and never runs as root: it is forked after the drop.
// The TLS keys come inside the config message (read as root by the supervisor); the user
// database is opened here, as the service user, at the first AUTH.
import type net from 'node:net';
import { flushLogger, type Logger, WorkerLog, workerLogger } from '../log/logger.js';
import { SmtpServer, type SmtpServerOptions } from '../server/smtp-server.js';
import type { Inbox, StartMessage } from '../system/inbox.js';
import { Admissions, MessageCounter, tellSupervisor } from '../system/ipc.js';
import { handleOf, listenInherited } from '../system/listen.js';
import { buildAuthenticator, buildIntake, buildRouter, type Running, smtpServerOptions } from './wiring.js';

/** Runs the worker until the supervisor asks it to drain (or goes away); resolves with the exit code. */
export function smtpWorker({ config: running, listeners }: StartMessage<Running>, inbox: Inbox<Running>): Promise<number> {
  const { config } = running;
  const log = new WorkerLog(config.log.file);
  const logger = workerLogger(log, config.log.level, { role: 'smtp' });
  // max_message_rate is counted by the supervisor, so that it holds across every worker.
  const counter = new MessageCounter();
  const options = (r: Running) => serverOptions(r, logger, (address) => counter.count(address));
  const server = new SmtpServer(options(running), logger.child({ component: 'smtp' }));
  const admissions = new Admissions();
  const accepting: net.Server[] = [];
  return new Promise((resolve) => {
    let draining = false;
    const drain = (deadlineMs: number, why: string) => {
      if (draining) return;
      draining = true;
      for (const listening of accepting) listening.close();
      logger.info({ why, open: server.size }, 'worker draining');
      void server
        .drain(deadlineMs)
        .then(() => logger.info('worker stopped'))
        .then(() => flushLogger(logger))
        .then(() => resolve(0));
    };
    inbox.attach((message, handle) => {
      if (message.type === 'conn') void serve(server, admissions, handle as net.Socket, message.id, message.listener, draining);
      else if (message.type === 'admitted') admissions.answer(message.request, message);
      else if (message.type === 'message-counted') counter.answer(message.request, message.isWithinRate);
      else if (message.type === 'config') reconfigure(server, logger, message.config, options);
      else if (message.type === 'drain') drain(message.deadlineMs, 'supervisor');
      else if (message.type === 'reopen-log') log.reopen();
      else if (message.type === 'report-closed') admissions.reportNow();
    });
    // Orphaned (supervisor killed): cut every session now; what is not committed gets no 250.
    process.once('disconnect', () => {
      counter.abandon();
      admissions.abandon();
      drain(0, 'supervisor gone');
    });
    process.on('SIGTERM', () => drain(config.shutdownTimeoutMs, 'SIGTERM'));
    const admitThenServe = async (socket: net.Socket, listener: number) => {
      socket.on('error', () => undefined); // a reset while waiting; the session has its own handler
      const { id, refusal } = await admissions.admit(socket.remoteAddress ?? '');
      if (id !== undefined) await serve(server, admissions, socket, id, listener, draining);
      else if (refusal !== undefined) socket.end(refusal);
      else socket.destroy();
    };
    void acceptOn(listeners, admitThenServe).then(
      (servers) => {
        accepting.push(...servers);
        if (draining) for (const listening of servers) listening.close();
        logger.info('worker started');
        tellSupervisor({ type: 'ready' });
      },
      (err: unknown) => {
        logger.error({ err: String(err) }, 'cannot accept on the inherited listening sockets');
        void flushLogger(logger).then(() => resolve(1));
      },
    );
  });
}

/** Accepts on each inherited listening socket, and lends the supervisor a handle of each (it keeps one). */
async function acceptOn(count: number, onConnection: (socket: net.Socket, listener: number) => Promise<void>): Promise<net.Server[]> {
  const servers: net.Server[] = [];
  for (let listener = 0; listener < count; listener++) {
    const server = await listenInherited(listener, (socket) => void onConnection(socket, listener));
    servers.push(server);
    tellSupervisor({ type: 'listening', listener }, handleOf(server));
  }
  return servers;
}

async function serve(server: SmtpServer, admissions: Admissions, socket: net.Socket | undefined, id: number, listener: number, draining: boolean): Promise<void> {
  if (!socket) return admissions.closed(id);
  // A socket handed over or admitted while draining (messages cross) is closed, and so is one
  // whose client went away while it waited: its close has been and gone.
  if (draining || socket.destroyed) socket.destroy();
  else await server.handle(socket, listener);
  admissions.closed(id);
}

/**
 * The server's options around one router (relay control in the session, routing and alias
 * expansion in the intake) and the intake, which announces each queued message to the
 * supervisor to wake the relay workers.
 */
function serverOptions(running: Running, logger: Logger, countMessage: (address: string) => Promise<boolean>): SmtpServerOptions {
  const { config, aliases } = running;
  const router = buildRouter(config, aliases);
  const onQueued = (queueId: string) => tellSupervisor({ type: 'wake', id: queueId });
  const sink = buildIntake(config, logger.child({ component: 'queue' }), onQueued, { aliases }, router);
  return smtpServerOptions(running, { sink, router, authenticator: buildAuthenticator(config), countMessage });
}

/** Applies a reloaded config: new sessions get the new limits, timeouts, domains and aliases. */
function reconfigure(server: SmtpServer, logger: Logger, running: Running, options: (r: Running) => SmtpServerOptions): void {
  logger.level = running.config.log.level;
  server.reconfigure(options(running));
  logger.info('worker reconfigured');
}
