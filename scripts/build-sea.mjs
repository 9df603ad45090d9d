// Wraps the bundle (dist/mta.cjs, built first) as a Node single executable application, dist/mta:
// the blob from `node --experimental-sea-config` (Node 24 has no --build-sea) is injected with
// postject into a copy of the Node 24 binary that runs this script, stripped BEFORE injection
// (strip afterwards drops the injected section and the binary no longer starts).
// packaging/sea/sea-config.json sets execArgvExtension "none": NODE_OPTIONS cannot change a root daemon.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// The sentinel Node's SEA loader looks for (doc/api/single-executable-applications.md).
const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
/** Runs a step quietly (strip warns about Node's many notes, postject cheers); its output only if it fails. */
function run(file, args) {
  try {
    execFileSync(file, args, { cwd: ROOT, stdio: 'pipe' });
  } catch (err) {
    process.stderr.write(`${err.stdout ?? ''}${err.stderr ?? ''}`);
    throw err;
  }
}

if (!process.version.startsWith('v24.')) throw new Error(`build-sea needs Node 24 (run it through npm): got ${process.version}`);
run(process.execPath, ['scripts/build.mjs']);
run(process.execPath, ['--experimental-sea-config', 'packaging/sea/sea-config.json']);
const work = path.join(ROOT, 'dist/mta.building');
rmSync(work, { force: true });
copyFileSync(process.execPath, work);
chmodSync(work, 0o755);
run('strip', ['--strip-all', '--remove-section=.comment', work]);
const postject = createRequire(import.meta.url).resolve('postject/dist/cli.js');
run(process.execPath, [postject, work, 'NODE_SEA_BLOB', 'dist/mta.blob', '--sentinel-fuse', FUSE]);
renameSync(work, path.join(ROOT, 'dist/mta'));
rmSync(path.join(ROOT, 'dist/mta.blob'));
process.stdout.write('dist/mta: single executable built\n');
