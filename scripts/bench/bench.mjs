// `npm run bench`: builds mta, starts it and a Postfix instance of its own on loopback, measures
// both in the same run (interleaved: mta, Postfix, mta, Postfix...), prints one table of medians
// and writes it into BENCHMARKS.md. Options: --quick (1 run, small counts), --only GROUP,...,
// --runs N, --write (also write a quick or partial run), --profile (see profile.mjs).
// Not part of npm test or CI. Runs as root (Postfix's master must); only loopback is used.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SMTP_SINK, SMTP_SOURCE } from './load.mjs';
import { machine } from './proc.mjs';
import { GROUPS, scenarios } from './rows.mjs';
import { freePort, postfixVersion, startMta, startPostfix } from './servers.mjs';
import { profile } from './profile.mjs';
import { formatTable, summarise } from './report.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'dist/mta');
const REPORT = path.join(ROOT, 'BENCHMARKS.md');
const START = '<!-- bench:results:start -->';
const END = '<!-- bench:results:end -->';

const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    runs: { type: 'string' },
    write: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});

const log = (text) => process.stderr.write(`bench: ${text}\n`);
const fail = (text) => {
  process.stderr.write(`bench: ${text}\n`);
  process.exit(1);
};

/** Checks root and the peers, installing them with scripts/install-peers.sh when we are root. */
function checkPrerequisites() {
  if (process.getuid?.() !== 0) {
    fail('npm run bench must run as root: it starts a Postfix instance of its own (postfix start runs its master as root) and mta drops to nobody');
  }
  const missing = ['/usr/sbin/postfix', SMTP_SOURCE, SMTP_SINK].filter((p) => !existsSync(p));
  if (missing.length > 0) {
    log(`missing ${missing.join(', ')}: running bash scripts/install-peers.sh as root (Debian packages, postfix among them)`);
    execFileSync('bash', [path.join(ROOT, 'scripts/install-peers.sh')], { stdio: 'inherit' });
    const still = missing.filter((p) => !existsSync(p));
    if (still.length > 0) fail(`still missing after scripts/install-peers.sh: ${still.join(', ')} (Debian package postfix)`);
  }
  if (!existsSync(path.join(ROOT, 'node_modules/esbuild'))) fail('node_modules is missing: run npm ci first, then npm run bench');
}

/** Builds dist/mta.cjs and the single executable dist/mta, as npm run build:sea does. */
function build() {
  log('building dist/mta.cjs and dist/mta (scripts/build-sea.mjs)');
  execFileSync(process.execPath, [path.join(ROOT, 'scripts/build-sea.mjs')], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
}

function versions() {
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['-C', ROOT, 'rev-parse', '--short=12', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['-C', ROOT, 'status', '--porcelain', '--', 'src'], { encoding: 'utf8' }).trim();
    if (dirty) commit += ' (src/ modified)';
  } catch {
    // not a git checkout
  }
  return { node: process.version, commit, postfix: postfixVersion() };
}

function commandLine() {
  const args = process.argv.slice(2).join(' ');
  if (process.env['npm_lifecycle_event'] === 'bench') return `npm run bench${args ? ` -- ${args}` : ''}`;
  return `node scripts/bench/bench.mjs${args ? ` ${args}` : ''}`;
}

/** Servers and temp dirs to clean up, also when the bench is interrupted. */
const cleanups = [];
async function cleanUp() {
  for (const c of cleanups.splice(0).reverse()) {
    try {
      await c();
    } catch (err) {
      log(`cleanup: ${err.message}`);
    }
  }
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    log(`${signal}: stopping the servers`);
    void cleanUp().then(() => process.exit(130));
  });
}

/** The servers running now, by name; a fresh start replaces one (see `fresh` below). */
const live = new Map();
let starts = 0;

/** Starts mta or Postfix in a directory of its own under `work` and records it as live. */
async function startServer(work, name) {
  const dir = path.join(work, `${name.toLowerCase()}-${++starts}`);
  const server = name === 'mta' ? await startMta({ bin: BIN, dir, relayPort: await freePort() }) : await startPostfix({ dir, relayPort: await freePort() });
  live.set(name, server);
  return server;
}

async function stopServer(server) {
  live.delete(server.name);
  log(`${server.name} stopped: ${await server.stop()}`);
}

async function startServers(work) {
  cleanups.push(async () => {
    for (const server of [...live.values()]) await stopServer(server);
  });
  return [await startServer(work, 'mta'), await startServer(work, 'Postfix')];
}

/** Runs every chosen scenario `runs` times per server, interleaved; returns the raw results. */
async function measure(work, servers, chosen, runs) {
  const results = [];
  for (const scenario of chosen) {
    const perServer = new Map(servers.map((s) => [s.name, { values: [], errors: [] }]));
    for (let run = 1; run <= runs; run++) {
      for (let i = 0; i < servers.length; i++) {
        // A scenario whose figure depends on the server's history (memory it grew and kept in an
        // earlier run) runs on a freshly started server each time.
        if (scenario.fresh) {
          await stopServer(servers[i]);
          servers[i] = await startServer(work, servers[i].name);
        }
        const server = servers[i];
        const started = Date.now();
        const slot = perServer.get(server.name);
        try {
          const value = await scenario.run(server);
          slot.values.push(value);
          log(`${scenario.title} | ${server.name} run ${run}: ${JSON.stringify(value, (_, v) => (typeof v === 'number' ? Number(v.toFixed(3)) : v))} (${Date.now() - started} ms)`);
        } catch (err) {
          slot.errors.push(err.message);
          log(`${scenario.title} | ${server.name} run ${run} FAILED: ${err.message}`);
        }
      }
    }
    results.push({ scenario, perServer });
  }
  return results;
}

function writeReport(markdown) {
  const section = `${START}\n${markdown}\n${END}`;
  const old = existsSync(REPORT) ? readFileSync(REPORT, 'utf8') : '# Benchmarks\n\n';
  const next = old.includes(START) && old.includes(END) ? old.slice(0, old.indexOf(START)) + section + old.slice(old.indexOf(END) + END.length) : `${old.trimEnd()}\n\n${section}\n`;
  writeFileSync(REPORT, next);
  log(`written to ${path.relative(process.cwd(), REPORT) || REPORT}`);
}

async function main() {
  checkPrerequisites();
  const only = opts.only ? opts.only.split(',').map((g) => g.trim()) : undefined;
  const unknown = (only ?? []).filter((g) => !GROUPS.includes(g));
  if (unknown.length > 0) fail(`unknown group in --only: ${unknown.join(', ')} (known: ${GROUPS.join(', ')})`);
  const runs = opts.runs ? Number(opts.runs) : opts.quick ? 1 : 3;
  if (!Number.isInteger(runs) || runs < 1 || runs > 20) fail(`--runs must be an integer from 1 to 20: got "${opts.runs}"`);
  build();
  const work = mkdtempSync(path.join(os.tmpdir(), 'mta-bench-'));
  chmodSync(work, 0o755);
  cleanups.push(() => (opts.keep ? log(`kept ${work}`) : rmSync(work, { recursive: true, force: true })));
  log(`work directory ${work}${opts.quick ? '; QUICK run: 1 run each, small counts (checks the script, not the figures)' : ''}`);
  if (opts.profile) {
    await profile({ work, bin: BIN, root: ROOT, log, write: !opts.quick || opts.write, quick: opts.quick });
    await cleanUp();
    return;
  }
  const chosen = scenarios(opts.quick).filter((s) => only === undefined || only.includes(s.group));
  const servers = await startServers(work);
  const startedAt = new Date();
  const results = await measure(work, servers, chosen, runs);
  const minutes = (Date.now() - startedAt.getTime()) / 60_000;
  await cleanUp();
  const m = machine();
  const v = versions();
  const header = [
    `Run ${startedAt.toISOString().replace(/\.\d+Z$/, 'Z')} (${minutes.toFixed(1)} minutes) with \`${commandLine()}\`${opts.quick ? ' — QUICK run: 1 run each, small counts; the figures only show that the script works' : ''}.`,
    `Machine: ${m.cores} cores (${m.model}), ${m.memGib.toFixed(1)} GiB RAM, Linux ${m.kernel}.`,
    `Versions: Node ${v.node}, mta ${v.commit} (dist/mta, single executable), Postfix ${v.postfix}.`,
    `Each figure is the median of ${runs} run${runs > 1 ? 's' : ''} per server, interleaved (mta, Postfix, mta, Postfix...).`,
  ];
  const markdown = `${header.join('\n')}\n\n${formatTable(summarise(results))}`;
  process.stdout.write(`\n${markdown}\n`);
  const failed = results.some((r) => [...r.perServer.values()].some((s) => s.errors.length > 0));
  if ((opts.quick || only) && !opts.write) log('not written to BENCHMARKS.md (a quick or partial run; add --write to write it)');
  else writeReport(markdown);
  if (failed) process.exitCode = 1;
}

main().catch(async (err) => {
  process.stderr.write(`bench: ${err.stack ?? err}\n`);
  await cleanUp();
  process.exit(1);
});
