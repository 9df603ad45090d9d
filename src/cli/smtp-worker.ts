// An SMTP worker process: serves the sockets the supervisor accepted and hands over, stores mail
// through the Intake, and tells the supervisor when a message was queued (so the relay worker that
// owns it wakes) and when a connection closed (for the global connection limits).
// It never binds, never opens the log file and never runs as root: it is forked after the drop.
import type net from 'node:net';
import type { Config } from '../config/types.js';
import { flushLogger, type Logger, workerLogger } from '../log/logger.js';
import { Listener } from '../server/listener.js';
import type { MessageSink } from '../server/message-sink.js';
import { Intake } from './intake.js';
import { tellSupervisor } from './ipc.js';
import { listenerOptions } from './listener-options.js';
import { buildLocalMail, retryOptions } from './local-mail.js';
import type { Inbox } from './worker.js';

/** Runs the worker until the supervisor asks it to drain (or goes away); resolves with the exit code. */
export function smtpWorker(config: Config, inbox: Inbox): Promise<number> {
  const logger = workerLogger(config.log.level, { role: 'smtp' });
  const listener = new Listener(listenerOptions(config, buildSink(config, logger)), logger.child({ component: 'smtp' }));
  return new Promise((resolve) => {
    let draining = false;
    const drain = (deadlineMs: number, why: string) => {
      if (draining) return;
      draining = true;
      logger.info({ why, open: listener.size }, 'worker draining');
      void listener
        .drain(deadlineMs)
        .then(() => logger.info('worker stopped'))
        .then(() => flushLogger(logger))
        .then(() => resolve(0));
    };
    inbox.attach((message, handle) => {
      if (message.type === 'conn') void serve(listener, handle as net.Socket, message.id, draining);
      else if (message.type === 'config') reconfigure(listener, logger, message.config);
      else if (message.type === 'drain') drain(message.deadlineMs, 'supervisor');
    });
    // An orphaned worker (supervisor killed) finishes its sessions instead of serving forever.
    process.once('disconnect', () => drain(config.shutdownTimeoutMs, 'supervisor gone'));
    process.on('SIGTERM', () => drain(config.shutdownTimeoutMs, 'SIGTERM'));
    logger.info('worker started');
    tellSupervisor({ type: 'ready' });
  });
}

async function serve(listener: Listener, socket: net.Socket | undefined, id: number, draining: boolean): Promise<void> {
  if (!socket) return tellSupervisor({ type: 'closed', id });
  // A socket handed over while draining (messages cross) is closed; the supervisor stopped accepting.
  if (draining) socket.destroy();
  else await listener.handle(socket);
  tellSupervisor({ type: 'closed', id });
}

/** Builds the MessageSink: Maildir for local recipients, the queue for the rest. */
function buildSink(config: Config, logger: Logger): MessageSink {
  const mail = buildLocalMail(config, logger.child({ component: 'queue' }));
  // The queue runner lives in a relay worker; a queued message is announced to the supervisor.
  return new Intake({
    store: mail.store,
    maildir: mail.maildir,
    retry: retryOptions(config),
    logger: logger.child({ component: 'queue' }),
    onQueued: (queueId) => tellSupervisor({ type: 'queued', queueId }),
  });
}

/** Applies a reloaded config: new sessions get the new limits, timeouts and domains. */
function reconfigure(listener: Listener, logger: Logger, config: Config): void {
  logger.level = config.log.level;
  listener.reconfigure(listenerOptions(config, buildSink(config, logger)));
  logger.info('worker reconfigured');
}
