// A programmable DNS server on loopback for tests (dns2, UDP and TCP on one port): a zone of
// records, plus failure modes per name (SERVFAIL, REFUSED, silence for a timeout). Names not in
// the zone answer NXDOMAIN; a name with records of other types answers NOERROR with no data.
import dns2 from 'dns2';
import { freePort } from './server.js';

// dns2's typings lack the RCODE table and index types; this is the part of Packet we use.
const Packet = dns2.Packet as unknown as {
  TYPE: Record<string, number>;
  CLASS: { IN: number };
  RCODE: { SERVFAIL: number; REFUSED: number; NXDOMAIN: number };
  createResponseFromRequest(request: DnsPacket): DnsPacket;
};

/** One record of the test zone; names are absolute, without the final dot. */
export type ZoneRecord =
  | { readonly name: string; readonly type: 'A' | 'AAAA'; readonly address: string; readonly ttl?: number }
  | { readonly name: string; readonly type: 'MX'; readonly exchange: string; readonly priority: number; readonly ttl?: number }
  | { readonly name: string; readonly type: 'TXT'; readonly data: string; readonly ttl?: number }
  | { readonly name: string; readonly type: 'PTR' | 'CNAME'; readonly domain: string; readonly ttl?: number };

/** How the server misbehaves for a name, whatever the type asked. */
export type Failure = 'servfail' | 'refused' | 'silent';

/** A running test DNS server; `server` is the `dns.servers` entry to configure. */
export interface TestDnsServer {
  readonly port: number;
  readonly server: string;
  /** Every question asked, as `TYPE name`. */
  readonly asked: string[];
  records: ZoneRecord[];
  failures: Map<string, Failure>;
  close(): Promise<void>;
}

const TYPE_NAMES = new Map(Object.entries(Packet.TYPE).map(([name, code]) => [code, name]));

/** Starts a server for `records` on 127.0.0.1 (UDP and TCP, same port). */
export async function startDnsServer(records: ZoneRecord[] = [], failures = new Map<string, Failure>()): Promise<TestDnsServer> {
  const port = await freePort();
  const state: TestDnsServer = {
    port,
    server: `127.0.0.1:${port}`,
    asked: [],
    records,
    failures,
    close: async () => undefined,
  };
  const server = dns2.createServer({
    udp: true,
    tcp: true,
    handle: (request, send) => answer(state, request as unknown as DnsPacket, (r) => void send(r as unknown as Parameters<typeof send>[0])),
  });
  await server.listen({ udp: { port, address: '127.0.0.1' }, tcp: { port, address: '127.0.0.1' } });
  return Object.assign(state, { close: () => server.close().then(() => undefined) });
}

interface DnsPacket {
  header: { rcode: number; aa?: number };
  questions: { name: string; type: number }[];
  answers: object[];
}

function answer(state: TestDnsServer, request: DnsPacket, send: (response: DnsPacket) => void): void {
  const response = Packet.createResponseFromRequest(request);
  const [question] = request.questions;
  if (!question) return send(response);
  const name = question.name.toLowerCase().replace(/\.$/, '');
  const type = TYPE_NAMES.get(question.type) ?? String(question.type);
  state.asked.push(`${type} ${name}`);
  const failure = state.failures.get(name);
  if (failure === 'silent') return;
  if (failure) {
    response.header.rcode = failure === 'servfail' ? Packet.RCODE.SERVFAIL : Packet.RCODE.REFUSED;
    return send(response);
  }
  const forName = state.records.filter((r) => r.name.toLowerCase() === name);
  if (forName.length === 0) response.header.rcode = Packet.RCODE.NXDOMAIN;
  for (const r of forName.filter((r) => r.type === type)) {
    const { name: _, type: __, ttl, ...data } = r;
    response.answers.push({ name: question.name, type: question.type, class: Packet.CLASS.IN, ttl: ttl ?? 300, ...data });
  }
  send(response);
}

/** The PTR name of an IPv4 address (`1.2.3.4` -> `4.3.2.1.in-addr.arpa`). */
export function reverseName(address: string): string {
  return `${address.split('.').reverse().join('.')}.in-addr.arpa`;
}
