// The bench's scenarios. Each one runs once against a server (mta or Postfix, the same code for
// both) and returns its figures; bench.mjs interleaves the runs and takes medians. Every wait has
// a deadline: a run that does not complete throws and is reported as failed, never hangs.
import { countCommand, establishedOnPort, treeCpuMs, treePssBytes, treeRssBytes } from './proc.mjs';
import { openIdleSessions, smtpSource, startSink, timedSessions } from './load.mjs';
import { BENCH_DOMAIN, countFiles, newMailbox, RELAY_DOMAIN, removeMailbox, waitForGreeting, waitUntil } from './servers.mjs';
import { performance } from 'node:perf_hooks';
import { clearInterval, setInterval } from 'node:timers';

const KIB = 1024;
const MIB = 1024 * 1024;

/** Waits until `count` messages are files in the mailbox's new/ (the only count that matters). */
function waitForMaildir(server, box, count, deadlineMs) {
  return waitUntil(`${count} files in ${server.newDir(box)} (${server.name})`, () => countFiles(server.newDir(box)) >= count, deadlineMs, 10);
}

/** Waits until the server's queue holds nothing (Postfix's qmgr removes a queue file after delivery). */
function waitForEmptyQueue(server, deadlineMs = 60_000) {
  return waitUntil(`an empty queue (${server.name})`, () => server.pending() === 0, deadlineMs, 20);
}

/** Sends `count` messages with smtp-source and times them until they are all files in Maildir/new. */
async function localRun(server, { sessions, count, bytes, reuse }) {
  const box = newMailbox();
  const root = server.rootPid();
  const cpuBefore = treeCpuMs(root);
  const started = performance.now();
  const budgetMs = 60_000 + (count * bytes) / 1000; // at least 1 MB/s, and a minute of slack
  await smtpSource({ port: server.port, sessions, count, bytes, to: `${box}@${BENCH_DOMAIN}`, reuse, timeoutMs: budgetMs });
  await waitForMaildir(server, box, count, budgetMs);
  const seconds = (performance.now() - started) / 1000;
  // CPU is read once the queue is empty, so Postfix's trailing work (qmgr removing the queue file) counts.
  await waitForEmptyQueue(server);
  const cpuMs = treeCpuMs(root) - cpuBefore;
  removeMailbox(server, box);
  return { rate: count / seconds, cpu: cpuMs / count };
}

/** The row the profile runs: local delivery, 20 sessions, 1 KiB, a connection per message. */
export function localRunForProfile(server, count) {
  return localRun(server, { sessions: 20, count, bytes: KIB, reuse: false });
}

/**
 * Queues `count` messages for the relay while its MX (smtp-sink) is down, so they are all
 * deferred; then starts the sink and flushes the queue, and measures the steady rate at the sink
 * (between the first and the last message it received) and the connections used.
 */
async function relayRun(server, { count }) {
  await smtpSource({ port: server.port, sessions: 20, count, bytes: KIB, to: `r@${RELAY_DOMAIN}`, reuse: true, timeoutMs: 120_000 });
  await waitUntil(`${count} deferred messages (${server.name})`, () => server.deferred() >= count, 120_000, 100);
  const sink = startSink(server.relayPort);
  try {
    await waitForGreeting(server.relayPort, 10_000);
    // Our readiness probe was a session of its own: wait for the sink to count it, then leave it out.
    await waitUntil('the sink to count the probe', () => sink.sessions >= 1, 10_000, 10);
    const probeSessions = sink.sessions;
    const root = server.rootPid();
    const cpuBefore = treeCpuMs(root);
    server.flush();
    let mostAtOnce = 0;
    await waitUntil(
      `${count} messages at smtp-sink (${server.name})`,
      () => {
        mostAtOnce = Math.max(mostAtOnce, establishedOnPort(server.relayPort));
        return sink.messages >= count;
      },
      180_000,
      20,
    );
    const connections = sink.sessions - probeSessions + establishedOnPort(server.relayPort);
    await waitForEmptyQueue(server);
    const cpuMs = treeCpuMs(root) - cpuBefore;
    const seconds = (sink.lastAtMs - sink.firstAtMs) / 1000;
    return { rate: (count - 1) / seconds, connections, mostAtOnce: Math.max(mostAtOnce, 1), cpu: cpuMs / count };
  } finally {
    await sink.stop();
  }
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

/** Times end of DATA to 250 with our own client, `sessions` at once; waits for the deliveries too. */
async function latencyRun(server, { sessions, perSession }) {
  const box = newMailbox();
  const samples = await timedSessions({ port: server.port, sessions, perSession, bytes: KIB, to: `${box}@${BENCH_DOMAIN}`, timeoutMs: 120_000 });
  await waitForMaildir(server, box, sessions * perSession, 60_000);
  await waitForEmptyQueue(server);
  removeMailbox(server, box);
  samples.sort((a, b) => a - b);
  return { median: percentile(samples, 0.5), p99: percentile(samples, 0.99) };
}

/** Opens `count` idle sessions and divides the tree's memory growth by them. */
async function idleRun(server, { count }) {
  await server.settleIdle?.();
  const root = server.rootPid();
  const rssBefore = treeRssBytes(root);
  const pssBefore = treePssBytes(root);
  const idle = await openIdleSessions({ port: server.port, count, timeoutMs: 180_000 });
  try {
    // Greeted is not yet idle for Postfix: every smtpd must be running (it greets, then waits).
    if (server.name === 'Postfix') await waitUntil('an smtpd per session', () => countCommand(root, 'smtpd') >= count, 60_000, 100);
    const rss = treeRssBytes(root) - rssBefore;
    const pss = treePssBytes(root) - pssBefore;
    return { rss: rss / count / KIB, pss: pss / count / KIB };
  } finally {
    idle.close();
    await waitUntil(`the idle sessions to close (${server.name})`, () => establishedOnPort(server.port) === 0, 60_000, 100);
  }
}

/** Sends one message of `bytes` and samples the tree's RSS every 50 ms; returns the peak growth. */
async function bigMessageRun(server, { bytes }) {
  const box = newMailbox();
  const root = server.rootPid();
  // Small messages first, through the same path, until every process that may take the big one
  // has served one: the growth measured is the big message's, not a first session's (code
  // compiled on first use, Postfix's daemons started). mta's SMTP workers take connections as the
  // kernel wakes them, so the small ones go over 4 sessions at once, in rounds (at most 5).
  let warm = 0;
  for (let round = 0; round < 5 && (warm === 0 || !(server.allWorkersServed?.() ?? true)); round++) {
    await smtpSource({ port: server.port, sessions: 4, count: 8, bytes: KIB, to: `${box}@${BENCH_DOMAIN}`, reuse: false, timeoutMs: 60_000 });
    warm += 8;
    await waitForMaildir(server, box, warm, 60_000);
  }
  if (!(server.allWorkersServed?.() ?? true)) throw new Error('an SMTP worker served none of the 40 small messages');
  const before = treeRssBytes(root);
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, treeRssBytes(root))), 50);
  try {
    await smtpSource({ port: server.port, sessions: 1, count: 1, bytes, to: `${box}@${BENCH_DOMAIN}`, reuse: false, timeoutMs: 300_000 });
    await waitForMaildir(server, box, warm + 1, 300_000);
  } finally {
    clearInterval(sampler);
  }
  peak = Math.max(peak, treeRssBytes(root));
  await waitForEmptyQueue(server);
  removeMailbox(server, box);
  return { growth: (peak - before) / MIB };
}

const rateMetric = (target) => ({ key: 'rate', unit: 'msgs/s', higherIsBetter: true, target });
const cpuMetric = (target) => ({ key: 'cpu', unit: 'CPU ms/msg', higherIsBetter: false, target });

/** Returns the scenarios, with counts for a full run or for `quick` (a check that the script works). */
export function scenarios(quick) {
  const q = (full, small) => (quick ? small : full);
  const list = [];
  for (const bytes of [KIB, 100 * KIB]) {
    for (const sessions of [1, 20, 100]) {
      for (const reuse of [false, true]) {
        const count = bytes === KIB ? q(sessions === 1 ? 300 : 1000, sessions === 1 ? 60 : 200) : q(sessions === 1 ? 150 : 1000, sessions === 1 ? 30 : 100);
        const headline = sessions === 20;
        const rateTarget = headline && (bytes === KIB ? !reuse : true) ? { ratioAtLeast: 2 } : undefined;
        list.push({
          group: 'local',
          title: `Local, ${bytes / KIB} KiB, ${sessions} session${sessions > 1 ? 's' : ''}, ${reuse ? 'connections reused' : 'a connection per message'} (${count} msgs)`,
          metrics: [rateMetric(rateTarget), cpuMetric(headline && bytes === KIB && !reuse ? { mtaAtMost: 1.0 } : undefined)],
          run: (server) => localRun(server, { sessions, count, bytes, reuse }),
        });
      }
    }
  }
  for (const reuse of [false, true]) {
    const count = q(20, 5);
    list.push({
      group: 'large',
      title: `Local, 10 MiB, 5 sessions, ${reuse ? 'connections reused' : 'a connection per message'} (${count} msgs)`,
      metrics: [rateMetric(), cpuMetric()],
      run: (server) => localRun(server, { sessions: 5, count, bytes: 10 * MIB, reuse }),
    });
  }
  const relayCount = q(1000, 200);
  list.push({
    group: 'relay',
    title: `Relay from the queue to one smtp-sink MX, 1 KiB (${relayCount} msgs)`,
    metrics: [
      rateMetric({ ratioAtLeast: 1 }),
      { key: 'connections', unit: 'connections in all', higherIsBetter: false, target: { mtaAtMost: 1 } },
      { key: 'mostAtOnce', unit: 'connections at once (sampled)', higherIsBetter: false },
      cpuMetric(),
    ],
    run: (server) => relayRun(server, { count: relayCount }),
  });
  for (const sessions of [1, 20]) {
    const perSession = sessions === 1 ? q(300, 60) : q(25, 5);
    list.push({
      group: 'latency',
      title: `End of DATA to 250, 1 KiB, ${sessions} session${sessions > 1 ? 's' : ''} (${sessions * perSession} msgs)`,
      metrics: [
        { key: 'median', unit: 'ms, median', higherIsBetter: false },
        { key: 'p99', unit: 'ms, p99', higherIsBetter: false },
      ],
      run: (server) => latencyRun(server, { sessions, perSession }),
    });
  }
  const idleMta = q(10_000, 1000);
  const idlePostfix = q(500, 200); // each an smtpd process: 1,000 took Postfix 110 s to start on 2 busy cores
  list.push({
    group: 'idle',
    title: `Idle sessions (mta ${idleMta.toLocaleString('en')}, Postfix ${idlePostfix.toLocaleString('en')}: one smtpd process each)`,
    metrics: [
      { key: 'rss', unit: 'KiB RSS per session', higherIsBetter: false, target: { mtaAtMost: 64 } },
      { key: 'pss', unit: 'KiB PSS per session', higherIsBetter: false },
    ],
    run: (server) => idleRun(server, { count: server.name === 'mta' ? idleMta : idlePostfix }),
  });
  const big = q(200, 20);
  list.push({
    group: 'bigmsg',
    title: `One ${big} MB message (each run on a freshly started server, once every SMTP process has served a 1 KiB message)`,
    fresh: true,
    metrics: [{ key: 'growth', unit: 'MiB RSS growth (peak)', higherIsBetter: false, target: { mtaAtMost: 16 } }],
    run: (server) => bigMessageRun(server, { bytes: big * 1000 * 1000 }),
  });
  return list;
}

/** The row groups `--only` accepts. */
export const GROUPS = ['local', 'large', 'relay', 'latency', 'idle', 'bigmsg'];
