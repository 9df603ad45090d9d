// What the bench reads from /proc about a server's process tree: its pids, CPU time and memory,
// and the TCP connections on a port. Linux only; the bench runs as root, so every process of
// both servers is readable. Nothing here starts or signals a process.
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times (sysconf(_SC_CLK_TCK); 100 on Linux). */
const TICKS_PER_SECOND = 100;
const PAGE_BYTES = 4096;

/** Parses /proc/<pid>/stat, or returns undefined when the process is gone. */
function readStat(pid) {
  let text;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces: split after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); field N is fields[N - 3].
  return {
    ppid: Number(fields[1]),
    utime: Number(fields[11]),
    stime: Number(fields[12]),
    cutime: Number(fields[13]),
    cstime: Number(fields[14]),
    rssPages: Number(fields[21]),
  };
}

/** Returns `root` and every live process whose parent chain reaches it. */
export function treePids(root) {
  const children = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(name);
    if (stat === undefined) continue;
    const list = children.get(stat.ppid) ?? [];
    list.push(Number(name));
    children.set(stat.ppid, list);
  }
  const pids = [root];
  for (let i = 0; i < pids.length; i++) pids.push(...(children.get(pids[i]) ?? []));
  return pids;
}

/**
 * Returns the CPU milliseconds (user + system) used so far by the tree under `root`: each live
 * process's own time plus cutime/cstime, the time of its children that exited and were reaped.
 * Postfix's master reaps every daemon it starts (smtpd, cleanup, virtual...), so a daemon that
 * came and went between two readings is still counted, in the master's cutime; the difference of
 * two readings is the tree's CPU time in between.
 */
export function treeCpuMs(root) {
  let ticks = 0;
  for (const pid of treePids(root)) {
    const s = readStat(pid);
    if (s !== undefined) ticks += s.utime + s.stime + s.cutime + s.cstime;
  }
  return (ticks * 1000) / TICKS_PER_SECOND;
}

/** Counts the processes of the tree under `root` whose command name is `comm` (e.g. smtpd). */
export function countCommand(root, comm) {
  return treePids(root).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, 'latin1').trim() === comm;
    } catch {
      return false;
    }
  }).length;
}

/** Returns the summed resident set size in bytes of every process of the tree under `root`. */
export function treeRssBytes(root) {
  let pages = 0;
  for (const pid of treePids(root)) pages += readStat(pid)?.rssPages ?? 0;
  return pages * PAGE_BYTES;
}

/**
 * Returns the summed proportional set size in bytes (shared pages divided among the processes
 * that map them) of the tree under `root`: the fair sum for a tree of many processes (Postfix's
 * one smtpd per session), where RSS counts shared libraries once per process.
 */
export function treePssBytes(root) {
  let kib = 0;
  for (const pid of treePids(root)) {
    try {
      const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'latin1'));
      kib += Number(m?.[1] ?? 0);
    } catch {
      // gone meanwhile
    }
  }
  return kib * 1024;
}

/** Counts established TCP connections (IPv4) whose local port is `port`: the server side of each. */
export function establishedOnPort(port) {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  let count = 0;
  for (const line of readFileSync('/proc/net/tcp', 'latin1').split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length > 3 && cols[1].endsWith(`:${hex}`) && cols[3] === '01') count++;
  }
  return count;
}

/** Returns the soft limit on open files of this process. */
export function openFilesLimit() {
  const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'latin1'));
  return m?.[1] === 'unlimited' ? Infinity : Number(m?.[1] ?? 1024);
}

/** Describes this machine: cores, memory and kernel, for the report. */
export function machine() {
  const cpus = readFileSync('/proc/cpuinfo', 'latin1');
  const cores = (cpus.match(/^processor\s*:/gm) ?? []).length;
  const model = /^model name\s*:\s*(.+)$/m.exec(cpus)?.[1] ?? 'unknown CPU';
  const memKib = Number(/^MemTotal:\s+(\d+)/m.exec(readFileSync('/proc/meminfo', 'latin1'))?.[1] ?? 0);
  const kernel = readFileSync('/proc/sys/kernel/osrelease', 'latin1').trim();
  return { cores, model, memGib: memKib / 1024 / 1024, kernel };
}
