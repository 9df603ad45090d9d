// `npm run bench -- --profile`: where mta spends its time on one bench row (local delivery, 20
// sessions, 1 KiB, a connection per message). Two passes: V8's CPU profiler in every mta process
// (dist/mta.cjs under NODE_OPTIONS=--cpu-prof: the SEA ignores NODE_OPTIONS by design, and the
// supervisor passes its environment on to the workers it spawns), summarised as self time per
// function and per source module; then `strace -c -f` attached to the running tree of each
// server (mta, then Postfix), summarised as system calls per message. Writes a Markdown section.
import { spawn } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { treePids } from './proc.mjs';
import { localRunForProfile } from './rows.mjs';
import { freePort, sleep, startMta, startPostfix, waitUntil } from './servers.mjs';

const START = '<!-- bench:profile:start -->';
const END = '<!-- bench:profile:end -->';
const INTERESTING = ['fsync', 'fdatasync', 'rename', 'renameat', 'renameat2', 'open', 'openat', 'close', 'write', 'writev', 'pwrite64', 'read', 'readv', 'pread64', 'mkdir', 'link', 'linkat', 'unlink', 'statx', 'newfstatat', 'fstat', 'epoll_wait', 'epoll_pwait', 'futex', 'accept4', 'sendmsg', 'recvmsg'];

/** Maps a line of dist/mta.cjs to its source module, from esbuild's `// src/...` markers. */
function bundleModules(bundle) {
  const marks = [];
  readFileSync(bundle, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      const m = /^\/\/ (src\/\S+|node_modules\/\S+)/.exec(line);
      if (m) marks.push({ line: i, module: m[1].replace(/^node_modules\/([^/]+).*/, '$1 (dependency)') });
    });
  return (line) => {
    let found = 'dist/mta.cjs';
    for (const mark of marks) {
      if (mark.line > line) break;
      found = mark.module;
    }
    return found;
  };
}

function frameName(frame, moduleOf) {
  const name = frame.functionName || '(anonymous)';
  if (frame.url.endsWith('mta.cjs')) return { fn: `${name} (${moduleOf(frame.lineNumber)})`, module: moduleOf(frame.lineNumber) };
  if (frame.url === '') return { fn: name, module: name.startsWith('(') ? name : '(native)' };
  const where = frame.url.replace(/^node:/, 'node:').replace(/^file:\/\/.*\//, '');
  return { fn: `${name} (${where}:${frame.lineNumber + 1})`, module: frame.url.startsWith('node:') ? 'node: internals' : where };
}

/**
 * Sums self time per function, per module, and per nearest function of our bundle (the caller
 * that a native or node: internal frame, such as a file write, was working for), over the
 * samples taken between `fromUs` and `toUs` (the load, not the start-up or the drain).
 */
function summariseProfiles(files, moduleOf, fromUs, toUs) {
  const byFn = new Map();
  const byModule = new Map();
  const byOurs = new Map();
  const add = (map, key, ms) => map.set(key, (map.get(key) ?? 0) + ms);
  let busyMs = 0;
  let idleMs = 0;
  for (const file of files) {
    const p = JSON.parse(readFileSync(file, 'utf8'));
    const nodes = new Map(p.nodes.map((n) => [n.id, n]));
    const parent = new Map();
    for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const ours = new Map();
    const oursOf = (id) => {
      if (!ours.has(id)) {
        let at = id;
        while (at !== undefined && !nodes.get(at).callFrame.url.endsWith('mta.cjs')) at = parent.get(at);
        ours.set(id, at === undefined ? '(no frame of ours: node internals, GC, idle)' : frameName(nodes.get(at).callFrame, moduleOf).fn);
      }
      return ours.get(id);
    };
    let t = p.startTime;
    for (let i = 0; i < p.samples.length; i++) {
      t += p.timeDeltas[i];
      if (t < fromUs || t > toUs) continue;
      const ms = (p.timeDeltas[i + 1] ?? p.timeDeltas[i]) / 1000;
      const node = nodes.get(p.samples[i]);
      if (node.callFrame.functionName === '(idle)') {
        idleMs += ms;
        continue;
      }
      busyMs += ms;
      const { fn, module } = frameName(node.callFrame, moduleOf);
      add(byFn, fn, ms);
      add(byModule, module, ms);
      add(byOurs, oursOf(node.id), ms);
    }
  }
  const top = (map, n) => [...map].sort((a, b) => b[1] - a[1]).slice(0, n);
  return { busyMs, idleMs, functions: top(byFn, 15), modules: top(byModule, 12), ours: top(byOurs, 15) };
}

function roleOf(pid) {
  try {
    const env = readFileSync(`/proc/${pid}/environ`, 'latin1');
    return /(?:^|\0)MTA_ROLE=([^\0]*)/.exec(env)?.[1] ?? 'supervisor';
  } catch {
    return 'unknown';
  }
}

async function cpuProfile({ work, root, log, count }) {
  const dir = path.join(work, 'cpu-prof');
  mkdirSync(dir, { recursive: true });
  chownSync(dir, 65534, 65534); // the workers run as nobody after the drop
  const mta = await startMta({
    bin: process.execPath,
    binArgs: [path.join(root, 'dist/mta.cjs')],
    dir: path.join(work, 'mta-cpu'),
    relayPort: await freePort(),
    env: { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${dir}` },
  });
  const roles = new Map(treePids(mta.rootPid()).map((pid) => [pid, roleOf(pid)]));
  log(`cpu profile: mta processes ${JSON.stringify(Object.fromEntries(roles))}`);
  let result;
  // V8 stamps samples with the monotonic clock in microseconds, as process.hrtime does.
  const fromUs = Number(process.hrtime.bigint() / 1000n);
  let toUs;
  try {
    result = await localRunForProfile(mta, count);
    toUs = Number(process.hrtime.bigint() / 1000n);
  } finally {
    log(`cpu profile: mta stopped: ${await mta.stop()}`);
  }
  await waitUntil('the CPU profiles', () => readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).length >= roles.size, 30_000, 100);
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  const pidOf = (f) => Number(/^CPU\.\d+\.\d+\.(\d+)\./.exec(f)?.[1]);
  const smtp = files.filter((f) => roles.get(pidOf(f)) === 'smtp').map((f) => path.join(dir, f));
  const moduleOf = bundleModules(path.join(root, 'dist/mta.cjs'));
  const perRole = {};
  for (const f of files) {
    const role = roles.get(pidOf(f)) ?? 'unknown';
    const s = summariseProfiles([path.join(dir, f)], moduleOf, fromUs, toUs);
    perRole[role] = (perRole[role] ?? 0) + s.busyMs;
  }
  return { result, smtp: summariseProfiles(smtp, moduleOf, fromUs, toUs), perRole, dir, seconds: (toUs - fromUs) / 1e6 };
}

function parseStraceSummary(text) {
  const calls = new Map();
  for (const line of text.split('\n')) {
    const m = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:(\d+)\s+)?(\w+)\s*$/.exec(line);
    if (m) calls.set(m[3], { calls: Number(m[1]), errors: Number(m[2] ?? 0) });
  }
  return calls;
}

/** Attaches `strace -c -f` to every process of the server's tree, runs the row, detaches. */
async function straceRun(server, count, work, log) {
  const out = path.join(work, `strace-${server.name}.txt`);
  const pids = treePids(server.rootPid());
  const child = spawn('strace', ['-c', '-f', '-o', out, ...pids.flatMap((p) => ['-p', String(p)])], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (b) => (err += b));
  const exited = new Promise((resolve) => child.once('close', resolve));
  const traced = (pid) => /^TracerPid:\s+[1-9]/m.test(readFileSync(`/proc/${pid}/status`, 'latin1'));
  await waitUntil(`strace to attach to ${server.name}`, () => pids.every((p) => !existsSync(`/proc/${p}`) || traced(p)), 30_000, 50);
  let result;
  try {
    result = await localRunForProfile(server, count);
  } finally {
    child.kill('SIGINT');
    await Promise.race([exited, sleep(30_000)]);
  }
  log(`strace ${server.name}: ${JSON.stringify(result)}${err.includes('Operation not permitted') ? ` (${err.trim()})` : ''}`);
  return { calls: parseStraceSummary(readFileSync(out, 'utf8')), result, file: out };
}

function pct(part, whole) {
  return `${((100 * part) / whole).toFixed(1)}%`;
}

function markdown({ cpu, mtaCalls, postfixCalls, count }) {
  const lines = [];
  const s = cpu.smtp;
  lines.push(`Row: local delivery, 20 sessions, 1 KiB, a connection per message, ${count} messages (\`npm run bench -- --profile\`).`);
  lines.push('');
  lines.push(
    `CPU profile (dist/mta.cjs, NODE_OPTIONS=--cpu-prof in every process, samples during the ${cpu.seconds.toFixed(1)} s of load only): ` +
      `busy CPU by role ${Object.entries(cpu.perRole)
        .map(([r, ms]) => `${r} ${Math.round(ms)} ms`)
        .join(', ')}; the SMTP workers were busy ${Math.round(s.busyMs)} ms (${pct(s.busyMs, s.busyMs + s.idleMs)} of their time), ` +
      `${(s.busyMs / count).toFixed(2)} ms per message.`,
  );
  lines.push('');
  lines.push('Top functions by self time in the SMTP workers (% of their busy time):');
  lines.push('');
  lines.push('| # | Function (module) | Self ms | % |');
  lines.push('|--:|---|--:|--:|');
  s.functions.forEach(([fn, ms], i) => lines.push(`| ${i + 1} | \`${fn}\` | ${ms.toFixed(0)} | ${pct(ms, s.busyMs)} |`));
  lines.push('');
  lines.push('The same self time, charged to the nearest function of ours on the stack (who asked for the native or node: work):');
  lines.push('');
  lines.push('| # | Our function (module) | ms | % |');
  lines.push('|--:|---|--:|--:|');
  s.ours.forEach(([fn, ms], i) => lines.push(`| ${i + 1} | \`${fn}\` | ${ms.toFixed(0)} | ${pct(ms, s.busyMs)} |`));
  lines.push('');
  lines.push('Self time by module in the SMTP workers:');
  lines.push('');
  lines.push('| Module | Self ms | % |');
  lines.push('|---|--:|--:|');
  for (const [module, ms] of s.modules) lines.push(`| ${module} | ${ms.toFixed(0)} | ${pct(ms, s.busyMs)} |`);
  lines.push('');
  lines.push(`System calls per message (\`strace -c -f\` attached to each server's running process tree for the same row, ${count} messages; counts divided by the messages):`);
  lines.push('');
  lines.push('| Syscall | mta | Postfix |');
  lines.push('|---|--:|--:|');
  const names = new Set([...INTERESTING.filter((n) => mtaCalls.has(n) || postfixCalls.has(n))]);
  const topOf = (calls) => [...calls].filter(([n]) => n !== 'total').sort((a, b) => b[1].calls - a[1].calls).slice(0, 8).map(([n]) => n);
  for (const n of [...topOf(mtaCalls), ...topOf(postfixCalls)]) names.add(n);
  const per = (calls, n) => {
    const c = calls.get(n);
    if (c === undefined) return '0';
    return c.errors > 0 ? `${(c.calls / count).toFixed(2)} (${(c.errors / count).toFixed(2)} failed)` : (c.calls / count).toFixed(2);
  };
  const callsOf = (calls, n) => calls.get(n)?.calls ?? 0;
  for (const n of [...names].sort((a, b) => callsOf(mtaCalls, b) - callsOf(mtaCalls, a))) lines.push(`| ${n} | ${per(mtaCalls, n)} | ${per(postfixCalls, n)} |`);
  lines.push(`| **all** | ${per(mtaCalls, 'total')} | ${per(postfixCalls, 'total')} |`);
  return lines.join('\n');
}

/** Runs the profile passes and prints (and, with `write`, stores in BENCHMARKS.md) the section. */
export async function profile({ work, bin, root, log, write, quick }) {
  const count = quick ? 300 : 2000;
  const cpu = await cpuProfile({ work, root, log, count });
  log(`cpu profile: ${JSON.stringify(cpu.result)}; profiles in ${cpu.dir}`);
  const mta = await startMta({ bin, dir: path.join(work, 'mta-strace'), relayPort: await freePort() });
  let mtaTrace;
  try {
    mtaTrace = await straceRun(mta, count, work, log);
  } finally {
    await mta.stop();
  }
  const postfix = await startPostfix({ dir: path.join(work, 'postfix-strace'), relayPort: await freePort() });
  let postfixTrace;
  try {
    postfixTrace = await straceRun(postfix, count, work, log);
  } finally {
    await postfix.stop();
  }
  const text = markdown({ cpu, mtaCalls: mtaTrace.calls, postfixCalls: postfixTrace.calls, count });
  process.stdout.write(`\n${text}\n`);
  if (!write) return;
  const report = path.join(root, 'BENCHMARKS.md');
  const old = existsSync(report) ? readFileSync(report, 'utf8') : '# Benchmarks\n\n';
  const section = `${START}\n${text}\n${END}`;
  const next = old.includes(START) ? old.slice(0, old.indexOf(START)) + section + old.slice(old.indexOf(END) + END.length) : `${old.trimEnd()}\n\n## Profile\n\n${section}\n`;
  writeFileSync(report, next);
  log('profile written to BENCHMARKS.md');
}
