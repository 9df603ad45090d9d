// Builds dist/mta_<version>_<arch>.deb with dpkg-deb (xz: lintian calls a zstd archive malformed)
// from the single executable (built first, by build-sea.mjs), etc/mta.conf as the conffile,
// packaging/deb/ (control, maintainer scripts, init script, unit, logrotate, copyright,
// changelog) and man pages made from the docs (man.mjs). The Debian version comes from the
// changelog, whose upstream part must equal package.json's version. Depends on the C libraries
// the Node binary links, as dpkg-shlibdeps reads them from the binary itself.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { writeManPages } from './man.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DEB = path.join(ROOT, 'packaging/deb');
const STAGE = path.join(ROOT, 'dist/deb-root');
const read = (file) => readFileSync(path.join(ROOT, file), 'utf8');
const sh = (file, args, options = {}) => execFileSync(file, args, { cwd: ROOT, encoding: 'utf8', ...options }).trim();

/** The Debian version from the changelog's first line, checked against package.json. */
function debianVersion() {
  const version = /^mta \(([^)]+)\)/.exec(read('packaging/deb/changelog'))?.[1];
  const upstream = JSON.parse(read('package.json')).version;
  if (!version || version.replace(/-[^-]+$/, '') !== upstream) {
    throw new Error(`packaging/deb/changelog names version ${version}; package.json has ${upstream}: add a changelog entry`);
  }
  return version;
}

/** Copies a file into the staging tree with a mode. */
function install(from, to, mode) {
  const target = path.join(STAGE, to);
  mkdirSync(path.dirname(target), { recursive: true });
  copyFileSync(from, target);
  chmodSync(target, mode);
}

/** Writes gzip -9n output (no name, no time stamp: reproducible) into the staging tree. */
function installGzip(text, to) {
  const target = path.join(STAGE, to);
  mkdirSync(path.dirname(target), { recursive: true });
  writeFileSync(target, gzipSync(text, { level: 9 }));
  chmodSync(target, 0o644);
}

function link(target, at) {
  mkdirSync(path.dirname(path.join(STAGE, at)), { recursive: true });
  symlinkSync(target, path.join(STAGE, at));
}

function stageFiles() {
  install(path.join(ROOT, 'dist/mta'), 'usr/sbin/mta', 0o755);
  link('mta', 'usr/sbin/sendmail');
  link('../sbin/mta', 'usr/bin/mailq');
  link('../sbin/mta', 'usr/bin/newaliases');
  install(path.join(ROOT, 'etc/mta.conf'), 'etc/mta.conf', 0o644);
  install(path.join(DEB, 'default'), 'etc/default/mta', 0o644);
  install(path.join(DEB, 'mta.init'), 'etc/init.d/mta', 0o755);
  install(path.join(DEB, 'logrotate'), 'etc/logrotate.d/mta', 0o644);
  install(path.join(DEB, 'mta.service'), 'lib/systemd/system/mta.service', 0o644);
  install(path.join(DEB, 'copyright'), 'usr/share/doc/mta/copyright', 0o644);
  install(path.join(DEB, 'lintian-overrides'), 'usr/share/lintian/overrides/mta', 0o644);
  installGzip(read('packaging/deb/changelog'), 'usr/share/doc/mta/changelog.Debian.gz');
  const manDir = path.join(ROOT, 'dist/man');
  rmSync(manDir, { recursive: true, force: true });
  for (const page of writeManPages(manDir)) {
    installGzip(readFileSync(path.join(manDir, page)), `usr/share/man/man${page.at(-1)}/${page}.gz`);
  }
  link('sendmail.8.gz', 'usr/share/man/man8/newaliases.8.gz');
  link('../man8/sendmail.8.gz', 'usr/share/man/man1/mailq.1.gz');
}

/** Lists the regular files of the staging tree (not DEBIAN/), relative to it. */
function files(dir = STAGE, prefix = '') {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const rel = path.join(prefix, entry.name);
    if (rel === 'DEBIAN') return [];
    if (entry.isDirectory()) return files(path.join(dir, entry.name), rel);
    return entry.isFile() ? [rel] : [];
  });
}

/** `libc6 (>= 2.34), ...` for the binary, from dpkg-shlibdeps (which wants a debian/control). */
function shlibDepends(binary) {
  const work = path.join(ROOT, 'dist/shlibdeps');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(path.join(work, 'debian'), { recursive: true });
  writeFileSync(path.join(work, 'debian/control'), 'Source: mta\n\nPackage: mta\nArchitecture: any\n');
  const out = sh('dpkg-shlibdeps', ['-O', '--warnings=0', binary], { cwd: work });
  rmSync(work, { recursive: true, force: true });
  return /^shlibs:Depends=(.*)$/m.exec(out)?.[1] ?? '';
}

function writeControl(version, arch) {
  const size = files().reduce((sum, f) => sum + Math.ceil(statSync(path.join(STAGE, f)).size / 1024), 0);
  const control = read('packaging/deb/control')
    .replace('@VERSION@', version)
    .replace('@ARCH@', arch)
    .replace('@INSTALLED_SIZE@', String(size))
    .replace('@SHLIBS@', shlibDepends(path.join(STAGE, 'usr/sbin/mta')));
  mkdirSync(path.join(STAGE, 'DEBIAN'), { recursive: true, mode: 0o755 });
  writeFileSync(path.join(STAGE, 'DEBIAN/control'), control);
  const conffiles = ['/etc/mta.conf', '/etc/default/mta', '/etc/init.d/mta', '/etc/logrotate.d/mta'];
  writeFileSync(path.join(STAGE, 'DEBIAN/conffiles'), `${conffiles.join('\n')}\n`);
  const sums = files().map((f) => `${createHash('md5').update(readFileSync(path.join(STAGE, f))).digest('hex')}  ${f}`);
  writeFileSync(path.join(STAGE, 'DEBIAN/md5sums'), `${sums.join('\n')}\n`);
  for (const script of ['postinst', 'prerm', 'postrm']) install(path.join(DEB, script), `DEBIAN/${script}`, 0o755);
  for (const name of ['control', 'conffiles', 'md5sums']) chmodSync(path.join(STAGE, 'DEBIAN', name), 0o644);
}

execFileSync(process.execPath, [path.join(ROOT, 'scripts/build-sea.mjs')], { stdio: 'inherit' });
const version = debianVersion();
const arch = sh('dpkg', ['--print-architecture']);
rmSync(STAGE, { recursive: true, force: true });
// Directories 0755 whatever the umask of the build.
const umask = process.umask(0o022);
stageFiles();
writeControl(version, arch);
process.umask(umask);
const deb = path.join(ROOT, `dist/mta_${version}_${arch}.deb`);
// xz at level 1: level 6 takes two minutes on the 100 MB binary for 15 % less size.
sh('dpkg-deb', ['--root-owner-group', '-Zxz', '-z1', '--build', STAGE, deb], { stdio: ['ignore', 'pipe', 'inherit'] });
process.stdout.write(`${path.relative(ROOT, deb)}\n`);
