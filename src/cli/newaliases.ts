// The aliases file named by maildir.aliases: read (at start and on SIGHUP by the supervisor, by
// `mta -t`) and checked in full, every problem as `FILE:LINE: message`; and `mta newaliases`, which
// only checks it, since there is no database to build (Debian runs `newaliases` after editing
// /etc/aliases). Handing the parsed entries to the workers is run.ts's and reload.ts's business.
import { readFileSync } from 'node:fs';
import { formatProblem } from '../config/index.js';
import type { Config } from '../config/types.js';
import { ioReason } from '../fsio/errno.js';
import { checkAliases } from '../queue/alias-table.js';
import { type AliasEntry, parseAliases } from '../queue/aliases.js';

/** The aliases file as read: its entries (none when no file is configured), or the lines that say what is wrong. */
export type AliasesRead = { readonly ok: true; readonly entries: readonly AliasEntry[] } | { readonly ok: false; readonly problems: readonly string[] };

/** Reads and checks the aliases file the config names: syntax, unsupported targets, names twice, loops. */
export function readAliases(config: Config): AliasesRead {
  const file = config.maildir.aliasesFile;
  if (file === '') return { ok: true, entries: [] };
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return { ok: false, problems: [`mta: cannot read aliases file ${file}: ${ioReason(err)}`] };
  }
  const parsed = parseAliases(text, file);
  const loops = checkAliases(parsed.entries, { localDomains: config.domains, recipientDelimiter: config.maildir.recipientDelimiter });
  const problems = [...parsed.problems, ...loops].sort((a, b) => a.line - b.line);
  return problems.length > 0 ? { ok: false, problems: problems.map(formatProblem) } : { ok: true, entries: parsed.entries };
}

/** `mta newaliases`: checks the aliases file; 0 when it is valid (or none is configured), 1 with its problems on stderr. */
export function newaliases(config: Config, configPath: string | null): number {
  const file = config.maildir.aliasesFile;
  if (file === '') {
    process.stdout.write(`mta: no aliases file is configured (maildir.aliases in ${configPath ?? '(embedded default)'})\n`);
    return 0;
  }
  const read = readAliases(config);
  if (!read.ok) {
    process.stderr.write(read.problems.map((line) => `${line}\n`).join(''));
    return 1;
  }
  const names = read.entries.length;
  process.stdout.write(`mta: aliases file ${file} is valid (${names} ${names === 1 ? 'alias' : 'aliases'}); send SIGHUP to a running mta to use it\n`);
  return 0;
}
