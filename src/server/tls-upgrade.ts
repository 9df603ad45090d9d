// The server side of a TLS handshake on an accepted TCP socket: after STARTTLS (RFC 3207) or at
// once on an implicit TLS port (RFC 8314). Wraps the socket in a TLSSocket, waits for the
// handshake under its own deadline, and reports the outcome as a value: a failed handshake is a
// log line for the caller, never an exception. Where the keys come from is cli/'s business.
import type { Socket } from 'node:net';
import tls from 'node:tls';
import type { TlsInfo } from './session-types.js';

/** The contexts a server-side handshake needs (tls/server.ts builds them). */
export interface ServerTlsOptions {
  readonly secureContext: tls.SecureContext;
  readonly SNICallback?: (servername: string, callback: (err: Error | null, ctx?: tls.SecureContext) => void) => void;
}

/** A socket now speaking TLS and what was negotiated, or why the handshake failed. */
export type UpgradeResult =
  | { readonly ok: true; readonly socket: tls.TLSSocket; readonly info: TlsInfo }
  | { readonly ok: false; readonly reason: string };

/**
 * Runs the handshake on `socket`, which must no longer be read by anyone else. Whatever the
 * client sent before the handshake is fed to TLS, not to SMTP. On failure the socket is destroyed.
 */
export function upgradeToTls(socket: Socket, options: ServerTlsOptions, timeoutMs: number): Promise<UpgradeResult> {
  return new Promise((resolve) => {
    const secure = new tls.TLSSocket(socket, { isServer: true, secureContext: options.secureContext, SNICallback: options.SNICallback });
    let isDone = false;
    const finish = (result: UpgradeResult) => {
      if (isDone) return;
      isDone = true;
      clearTimeout(timer);
      if (!result.ok) secure.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => finish({ ok: false, reason: `no handshake within ${timeoutMs / 1000} s` }), timeoutMs);
    secure.once('secure', () => {
      // A client-initiated renegotiation (TLS 1.2) costs us a handshake each time: refuse it.
      secure.disableRenegotiation();
      const info = { protocol: secure.getProtocol() ?? 'unknown', cipher: secure.getCipher()?.name ?? 'unknown' };
      finish({ ok: true, socket: secure, info });
    });
    // Stays attached: an error after the handshake must not become an uncaught exception.
    secure.on('error', (err: NodeJS.ErrnoException) => finish({ ok: false, reason: err.code ?? err.message }));
    secure.once('close', () => finish({ ok: false, reason: 'connection closed during the handshake' }));
  });
}
