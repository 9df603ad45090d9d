// Names under which DNS keeps facts about an address: the PTR name (in-addr.arpa, ip6.arpa) and a
// blocklist entry both put the address backwards under a zone, IPv4 by octet, IPv6 by nibble.
import ipaddr from 'ipaddr.js';

/** Returns `address` reversed under `zone`; an IPv4-mapped IPv6 address counts as IPv4. */
export function reversedName(address: string, zone: string): string {
  const ip = ipaddr.process(address);
  if (ip.kind() === 'ipv4') return `${ip.toByteArray().reverse().join('.')}.${zone}`;
  const nibbles = ip
    .toByteArray()
    .flatMap((b) => [b >> 4, b & 15])
    .map((n) => n.toString(16));
  return `${nibbles.reverse().join('.')}.${zone}`;
}

/** Returns the PTR name of an address (RFC 1035 3.5, RFC 3596 2.5). */
export function ptrName(address: string): string {
  return reversedName(address, ipaddr.process(address).kind() === 'ipv4' ? 'in-addr.arpa' : 'ip6.arpa');
}
