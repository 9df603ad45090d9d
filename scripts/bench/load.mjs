// The load the bench puts on a server: Postfix's smtp-source (bulk sending) and smtp-sink (the
// relay's MX), and a small SMTP client of our own for what those cannot measure: the time from
// the end of DATA to the 250 reply, and thousands of idle sessions. Every loop is bounded in
// count and in time; only loopback addresses are used.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { Buffer } from 'node:buffer';
import { performance } from 'node:perf_hooks';
import { clearTimeout, setTimeout } from 'node:timers';

export const SMTP_SOURCE = '/usr/sbin/smtp-source';
export const SMTP_SINK = '/usr/sbin/smtp-sink';

/** Runs a program to its end within `timeoutMs` (then kills it by pid); resolves with code and output. */
export function runBounded(file, args, timeoutMs) {
  return new Promise((resolve) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (out += b));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => (out += err.message));
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? signal, out });
    });
  });
}

/**
 * Sends `count` messages of `bytes` payload to `to` over `sessions` parallel sessions with
 * smtp-source; `reuse` keeps each session open for its next message (-d), otherwise every message
 * has its own connection. Throws when smtp-source fails or overruns `timeoutMs`.
 */
export async function smtpSource({ port, sessions, count, bytes, to, reuse, timeoutMs }) {
  const args = [...(reuse ? ['-d'] : []), '-s', String(sessions), '-m', String(count), '-l', String(bytes)];
  args.push('-f', 'sender@client.test', '-t', to, '-M', 'client.test', `127.0.0.1:${port}`);
  const r = await runBounded(SMTP_SOURCE, args, timeoutMs);
  if (r.code !== 0) throw new Error(`smtp-source ${args.join(' ')} exited ${r.code}: ${r.out.trim().slice(0, 500)}`);
}

/**
 * Starts smtp-sink on 127.0.0.1:`port` with running counters (-c), parsed as they come: `sessions`
 * ended, `messages` received, and the times of the first and the latest message.
 */
export function startSink(port) {
  // smtp-sink refuses to run as root without -u.
  const asUser = process.getuid?.() === 0 ? ['-u', 'nobody'] : [];
  const child = spawn(SMTP_SINK, [...asUser, '-c', `127.0.0.1:${port}`, '256'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const state = { sessions: 0, messages: 0, firstAtMs: undefined, lastAtMs: undefined, child };
  let pending = '';
  child.stdout.on('data', (b) => {
    const now = performance.now();
    pending += b.toString('latin1');
    const parts = pending.split(/[\r\n]/);
    pending = parts.pop() ?? '';
    for (const part of parts) {
      const m = /sess=(\d+) quit=\d+ mesg=(\d+)/.exec(part);
      if (!m) continue;
      const messages = Number(m[2]);
      if (messages > state.messages) {
        state.firstAtMs ??= now;
        state.lastAtMs = now;
      }
      state.sessions = Number(m[1]);
      state.messages = messages;
    }
  });
  const exited = new Promise((resolve) => child.once('close', resolve));
  state.stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  return state;
}

/** Reads SMTP replies off a socket: `next()` resolves with the next complete reply (its code and text). */
function replyReader(socket) {
  let buffer = '';
  const waiting = [];
  const ready = [];
  socket.on('data', (b) => {
    buffer += b.toString('latin1');
    for (;;) {
      // A reply ends with a line "NNN text" (space, not hyphen, after the code).
      const m = /(?:^|\r\n)(\d{3}) [^\r\n]*\r\n/.exec(buffer);
      if (!m) break;
      const end = m.index + m[0].length;
      const reply = { code: Number(m[1]), text: buffer.slice(0, end), atMs: performance.now() };
      buffer = buffer.slice(end);
      const w = waiting.shift();
      if (w) w.resolve(reply);
      else ready.push(reply);
    }
  });
  const fail = (err) => {
    for (const w of waiting.splice(0)) w.reject(err);
  };
  socket.on('error', fail);
  socket.on('close', () => fail(new Error('connection closed')));
  return {
    next: () => (ready.length > 0 ? Promise.resolve(ready.shift()) : new Promise((resolve, reject) => waiting.push({ resolve, reject }))),
  };
}

function connect(port, localAddress, timeoutMs) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('connect timed out'));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

async function expect(reader, code, what) {
  const reply = await reader.next();
  if (reply.code !== code) throw new Error(`${what}: expected ${code}, got ${reply.text.trim()}`);
  return reply;
}

/** A message of about `bytes`: a Subject header and lines of 78 characters (no line starts with a dot). */
function messageText(bytes) {
  const lines = ['Subject: latency', ''];
  for (let size = 20; size < bytes; size += 80) lines.push('x'.repeat(78));
  return Buffer.from(`${lines.join('\r\n')}`, 'latin1');
}

/**
 * One SMTP session that sends `count` messages of `bytes` to `to` and returns, for each, the
 * milliseconds from writing the end of DATA (CRLF.CRLF) to reading the 250 reply. No pipelining,
 * one command at a time, as smtp-source does.
 */
async function timedSession(port, to, count, bytes, timeoutMs) {
  const socket = await connect(port, undefined, timeoutMs);
  socket.setNoDelay(true);
  const reader = replyReader(socket);
  const timer = setTimeout(() => socket.destroy(new Error('session timed out')), timeoutMs);
  const body = messageText(bytes);
  const samples = [];
  try {
    await expect(reader, 220, 'greeting');
    socket.write('EHLO client.test\r\n');
    await expect(reader, 250, 'EHLO');
    for (let i = 0; i < count; i++) {
      socket.write('MAIL FROM:<sender@client.test>\r\n');
      await expect(reader, 250, 'MAIL');
      socket.write(`RCPT TO:<${to}>\r\n`);
      await expect(reader, 250, 'RCPT');
      socket.write('DATA\r\n');
      await expect(reader, 354, 'DATA');
      socket.write(body);
      const sentAt = performance.now();
      socket.write('\r\n.\r\n');
      const reply = await expect(reader, 250, 'end of DATA');
      samples.push(reply.atMs - sentAt);
    }
    socket.write('QUIT\r\n');
    await expect(reader, 221, 'QUIT');
  } finally {
    clearTimeout(timer);
    socket.destroy();
  }
  return samples;
}

/** Runs `sessions` timed sessions at once, `perSession` messages each; resolves with every latency sample. */
export async function timedSessions({ port, sessions, perSession, bytes, to, timeoutMs }) {
  const all = await Promise.all(Array.from({ length: sessions }, () => timedSession(port, to, perSession, bytes, timeoutMs)));
  return all.flat();
}

/**
 * Opens `count` sessions from 127.0.0.2 .. 127.0.0.9 (in turn) and waits for each greeting, at
 * most `inFlight` connecting at once; resolves with a `close()` once all are greeted and idle.
 */
export async function openIdleSessions({ port, count, inFlight = 200, timeoutMs }) {
  const sockets = [];
  const until = Date.now() + timeoutMs;
  let started = 0;
  const closeAll = () => {
    for (const s of sockets) s.destroy();
  };
  const worker = async () => {
    while (started < count) {
      const i = started++;
      if (Date.now() > until) throw new Error(`only ${sockets.length} of ${count} idle sessions greeted in time`);
      const socket = await connect(port, `127.0.0.${2 + (i % 8)}`, 30_000);
      sockets.push(socket);
      const reader = replyReader(socket);
      let timer;
      const greeting = await Promise.race([
        reader.next(),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('no greeting in 60 s')), 60_000))),
      ]).finally(() => clearTimeout(timer));
      if (greeting.code !== 220) throw new Error(`idle session ${i}: greeted with ${greeting.text.trim()}`);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(inFlight, count) }, worker));
  } catch (err) {
    closeAll();
    throw err;
  }
  return { close: closeAll };
}
