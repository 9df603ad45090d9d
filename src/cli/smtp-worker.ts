// An SMTP worker process: serves the sockets the supervisor accepted and hands over, stores mail
// through the queue's intake, and tells the supervisor when a message was queued (so the relay
// workers wake) and when a connection closed (for the global connection limits).
// It never binds, never opens the log file and never runs as root: it is forked after the drop.
// The TLS keys come inside the config message (read as root by the supervisor); the user
// database is opened here, as the service user, at the first AUTH.
import type net from 'node:net';
import type { Config } from '../config/types.js';
import { flushLogger, type Logger, workerLogger } from '../log/logger.js';
import type { MessageSink } from '../server/message-sink.js';
import { SmtpServer, type SmtpServerOptions } from '../server/smtp-server.js';
import type { Inbox, StartMessage } from '../system/inbox.js';
import { tellSupervisor } from '../system/ipc.js';
import type { ServingConfig } from './serving-config.js';
import { buildAuthenticator, buildIntake, smtpServerOptions } from './wiring.js';

/** Runs the worker until the supervisor asks it to drain (or goes away); resolves with the exit code. */
export function smtpWorker({ config }: StartMessage<ServingConfig>, inbox: Inbox<ServingConfig>): Promise<number> {
  const logger = workerLogger(config.log.level, { role: 'smtp' });
  const server = new SmtpServer(serverOptions(config, logger), logger.child({ component: 'smtp' }));
  return new Promise((resolve) => {
    let draining = false;
    const drain = (deadlineMs: number, why: string) => {
      if (draining) return;
      draining = true;
      logger.info({ why, open: server.size }, 'worker draining');
      void server
        .drain(deadlineMs)
        .then(() => logger.info('worker stopped'))
        .then(() => flushLogger(logger))
        .then(() => resolve(0));
    };
    inbox.attach((message, handle) => {
      if (message.type === 'conn') void serve(server, handle as net.Socket, message.id, message.listener, draining);
      else if (message.type === 'config') reconfigure(server, logger, message.config);
      else if (message.type === 'drain') drain(message.deadlineMs, 'supervisor');
    });
    // Orphaned (supervisor killed): cut every session now; what is not committed gets no 250.
    process.once('disconnect', () => drain(0, 'supervisor gone'));
    process.on('SIGTERM', () => drain(config.shutdownTimeoutMs, 'SIGTERM'));
    logger.info('worker started');
    tellSupervisor({ type: 'ready' });
  });
}

async function serve(server: SmtpServer, socket: net.Socket | undefined, id: number, listener: number, draining: boolean): Promise<void> {
  if (!socket) return tellSupervisor({ type: 'closed', id });
  // A socket handed over while draining (messages cross) is closed; the supervisor stopped accepting.
  if (draining) socket.destroy();
  else await server.handle(socket, listener);
  tellSupervisor({ type: 'closed', id });
}

/** The intake, announcing each queued message to the supervisor, which wakes the relay workers. */
function buildSink(config: Config, logger: Logger): MessageSink {
  return buildIntake(config, logger.child({ component: 'queue' }), (queueId) => tellSupervisor({ type: 'wake', id: queueId }));
}

/** The server's options: the intake, the AUTH checker and the TLS contexts built from the shipped keys. */
function serverOptions(config: ServingConfig, logger: Logger): SmtpServerOptions {
  return smtpServerOptions(config, buildSink(config, logger), buildAuthenticator(config));
}

/** Applies a reloaded config: new sessions get the new limits, timeouts, domains and certificates. */
function reconfigure(server: SmtpServer, logger: Logger, config: ServingConfig): void {
  logger.level = config.log.level;
  server.reconfigure(serverOptions(config, logger));
  logger.info('worker reconfigured');
}
