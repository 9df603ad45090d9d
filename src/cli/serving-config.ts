// The config the supervisor serves with and hands to every worker: the validated Config plus the
// TLS keys, read as root before the privilege drop. Workers run unprivileged and cannot read a
// root-only key file, so the keys travel as PEM text inside the config message (JSON over the
// IPC pipe between processes of the same user). On SIGHUP the supervisor, no longer root, reads
// them again: a renewed key must then be readable by the service user (or its group), or the
// running keys stay.
import type { Config } from '../config/types.js';
import type { Logger } from '../log/logger.js';
import { loadServerKeys, type ServerKeys, TlsKeyError } from '../tls/server.js';

/** A config with the TLS keys it serves with. */
export interface ServingKeys {
  readonly config: Config;
  /** The certificates and keys; null when no certificate is configured. */
  readonly tlsKeys: ServerKeys | null;
}

/** Reads the configured certificates and keys; throws TlsKeyError naming the file. */
export function loadTlsKeys(config: Config): ServerKeys | null {
  const { certificate, key, sniCertificates } = config.tls;
  if (certificate === null || key === null) return null;
  return loadServerKeys({ certificate, key, sniCertificates });
}

/** Logs each certificate and warns of one that has expired or expires within two weeks. */
export function logCertificates(keys: ServerKeys | null, logger: Logger, nowMs = Date.now()): void {
  if (!keys) return;
  for (const pair of [keys.primary, ...keys.sni]) {
    const fields = { source: pair.source, names: pair.names, validTo: pair.validTo };
    const leftMs = Date.parse(pair.validTo) - nowMs;
    if (leftMs < 0) logger.error(fields, 'TLS certificate has expired');
    else if (leftMs < 14 * 86_400_000) logger.warn(fields, 'TLS certificate expires soon');
    else logger.info(fields, 'TLS certificate loaded');
  }
}

/**
 * Builds the serving config of a reloaded Config: the keys read again, or the running ones when
 * they cannot be read now (logged), so a reload never takes TLS away from a running listener.
 */
export function reloadTlsKeys(next: Config, running: ServingKeys, logger: Logger): ServingKeys {
  try {
    const tlsKeys = loadTlsKeys(next);
    if (tlsKeys === null && running.tlsKeys !== null && next.server.listen.some((a) => a.mode !== 'smtp')) {
      logger.warn('config reload: submission listeners need TLS; keeping the running certificates');
      return { config: next, tlsKeys: running.tlsKeys };
    }
    logCertificates(tlsKeys, logger);
    return { config: next, tlsKeys };
  } catch (err) {
    if (!(err instanceof TlsKeyError)) throw err;
    logger.error({ err: err.message }, 'config reload: cannot load TLS keys; keeping the running certificates');
    return { config: { ...next, tls: running.config.tls }, tlsKeys: running.tlsKeys };
  }
}
