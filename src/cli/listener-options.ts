// Maps the config onto the SMTP listener's options: limits, timeouts, the relay networks and
// the PTR lookup. Only cli/ knows Config; the server gets plain values and functions.
import net from 'node:net';
import type { Config } from '../config/types.js';
import { DnsResolver } from '../dns/resolver.js';
import type { ListenerOptions } from '../server/listener.js';
import type { MessageSink } from '../server/message-sink.js';

/** Builds the listener's options from the config and the sink that stores mail. */
export function listenerOptions(config: Config, sink: MessageSink): ListenerOptions {
  const s = config.server;
  const resolver = s.reverseDns === 'off' ? undefined : new DnsResolver({ servers: config.dns.servers, timeoutMs: config.dns.timeoutMs });
  const relay = blockList(s.relayNetworks);
  const domains = new Set(config.domains);
  return {
    session: {
      hostname: config.hostname,
      maxMessageBytes: s.maxMessageBytes,
      maxRecipients: s.maxRecipients,
      maxErrors: s.maxErrors,
      isLocalDomain: (d) => domains.has(d),
    },
    sink,
    timeouts: s.timeouts,
    bareLinefeed: s.bareLinefeed,
    now: () => new Date(),
    lookupPtr: async (address) => {
      const result = await resolver?.ptr(address);
      return result?.kind === 'confirmed' ? result.name : null;
    },
    mayRelay: (address) => relay.check(address, net.isIPv6(address) ? 'ipv6' : 'ipv4'),
  };
}

/** Builds a BlockList from CIDR strings (validated by config/). */
function blockList(cidrs: readonly string[]): net.BlockList {
  const list = new net.BlockList();
  for (const cidr of cidrs) {
    const [address = '', bits = ''] = cidr.split('/');
    const type = net.isIPv6(address) ? 'ipv6' : 'ipv4';
    list.addSubnet(address, bits === '' ? (type === 'ipv6' ? 128 : 32) : Number(bits), type);
  }
  return list;
}
