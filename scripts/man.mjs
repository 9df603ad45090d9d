// Makes the man pages from the docs at build time, so they cannot drift from them: mta(8) from
// `mta --help`, the README's opening and docs/operations.md; mta.conf(5) from docs/configuration.md
// (kept in step with the config schema by its unit test); sendmail(8) from docs/sendmail.md.
// A small Markdown-to-roff converter for the Markdown those files use: headings, paragraphs,
// fenced blocks, bullet lists, tables (as tagged paragraphs), `code`, **bold**, *emphasis*, links.
// Usage: node scripts/man.mjs OUTDIR   (needs dist/mta.cjs; writes mta.8 mta.conf.5 sendmail.8)
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const read = (file) => readFileSync(path.join(ROOT, file), 'utf8');

// Characters the docs use beyond ASCII; anything else becomes groff's \[uXXXX].
const GLYPHS = { '—': '\\(em', '–': '\\(en', '×': '\\(mu', '→': '\\(->', '├': '|', '└': '`', '─': '-', '│': '|', '’': "'", '“': '"', '”': '"' };

/** Escapes text for roff: backslashes, and characters beyond ASCII. */
function escape(text) {
  return text.replace(/\\/g, '\\e').replace(/[\u0080-\u{10FFFF}]/gu, (ch) => GLYPHS[ch] ?? `\\[u${ch.codePointAt(0).toString(16).toUpperCase().padStart(4, '0')}]`);
}

/** Converts inline Markdown: code spans bold (with real minus signs), **bold**, *emphasis*, links as their text. */
function inline(text) {
  const parts = text.split(/(`[^`]*`)/);
  return parts
    .map((part, i) => {
      if (i % 2 === 1) return `\\fB${escape(part.slice(1, -1)).replace(/-/g, '\\-')}\\fR`;
      return escape(part)
        .replace(/\[([^\]]+)\]\([^)]+\)/g, '$1')
        .replace(/\*\*([^*]+)\*\*/g, '\\fB$1\\fR')
        .replace(/(^|[\s(])\*([^*\s][^*]*)\*/g, '$1\\fI$2\\fR');
    })
    .join('');
}

/** Keeps a line from starting with a roff control character. */
const line = (text) => (/^[.']/.test(text) ? `\\&${text}` : text);

/** Renders a fenced block as no-fill text. */
const preformatted = (lines) => ['.PP', '.RS 2', '.nf', ...lines.map((l) => line(escape(l))), '.fi', '.RE'];

/** Splits a table row into its cells. */
const cells = (row) => row.trim().replace(/^\||\|$/g, '').split('|').map((c) => c.trim());

/** Renders a table as tagged paragraphs: the first cell as the tag, the others labelled by their column. */
function table(rows) {
  const [head, , ...body] = rows.map(cells);
  const out = [];
  for (const row of body) {
    out.push('.TP', line(inline(row[0] ?? '')));
    const rest = row.slice(1).map((cell, i) => (cell === '' ? '' : `${head[i + 1]}: ${cell}`)).filter((c) => c !== '');
    out.push(line(inline(rest.join('; '))));
  }
  return out;
}

/** Converts Markdown to roff body text. The first-level heading is dropped: .TH names the page. */
export function markdownToRoff(markdown) {
  const src = markdown.replace(/\r\n/g, '\n').split('\n');
  const out = [];
  for (let i = 0; i < src.length; ) {
    const text = src[i];
    if (text.startsWith('```')) {
      let end = src.findIndex((l, j) => j > i && l.startsWith('```'));
      if (end < 0) end = src.length;
      out.push(...preformatted(src.slice(i + 1, end)));
      i = end + 1;
    } else if (/^#{1,3} /.test(text)) {
      // Level 1 names the page (.TH does that); 2 is a section, 3 a subsection.
      const level = /^#+/.exec(text)[0].length;
      const title = text.slice(level + 1);
      if (level === 2) out.push(`.SH ${inline(title.toUpperCase())}`);
      if (level === 3) out.push(`.SS ${inline(title)}`);
      i++;
    } else if (text.startsWith('|')) {
      const rows = [];
      while (i < src.length && src[i].startsWith('|')) rows.push(src[i++]);
      out.push(...table(rows));
    } else if (/^- /.test(text)) {
      const item = [text.slice(2)];
      for (i++; i < src.length && /^ {2}\S/.test(src[i]); i++) item.push(src[i].trim());
      out.push('.IP \\(bu 2', line(inline(item.join(' '))));
    } else if (/^\d+\. /.test(text)) {
      const [, n, first] = /^(\d+)\. (.*)$/.exec(text);
      const item = [first];
      for (i++; i < src.length && /^ {3}\S/.test(src[i]); i++) item.push(src[i].trim());
      out.push(`.IP ${n}. 4`, line(inline(item.join(' '))));
    } else if (text.trim() === '') i++;
    else {
      const para = [];
      while (i < src.length && src[i].trim() !== '' && !/^(#|```|\||- |\d+\. )/.test(src[i])) para.push(src[i++].trim());
      out.push('.PP', line(inline(para.join(' '))));
    }
  }
  return out.join('\n');
}

/** The date of the newest entry of the Debian changelog: the pages change with the package. */
function packageDate() {
  const stamp = /^ -- .*> {2}(.*)$/m.exec(read('packaging/deb/changelog'))?.[1];
  return new Date(stamp ?? 0).toISOString().slice(0, 10);
}

function page({ name, section, summary, body }) {
  const version = JSON.parse(read('package.json')).version;
  const title = name.toUpperCase();
  const head = [`.TH ${title} ${section} "${packageDate()}" "mta ${version}" "${section === 5 ? 'File Formats' : "System Manager's Manual"}"`];
  // The NAME line is written as roff already (`name \\- summary`), for whatis.
  return [...head, '.SH NAME', summary, body, ''].join('\n');
}

/** Writes the three pages into `outDir`. */
export function writeManPages(outDir) {
  mkdirSync(outDir, { recursive: true });
  const help = execFileSync(process.execPath, [path.join(ROOT, 'dist/mta.cjs'), '--help'], { encoding: 'utf8' });
  const readmeIntro = read('README.md').split('\n## ')[0];
  const mta = [
    '.SH SYNOPSIS',
    ...preformatted(help.trimEnd().split('\n')),
    '.SH DESCRIPTION',
    markdownToRoff(readmeIntro),
    markdownToRoff(read('docs/operations.md')),
    '.SH SEE ALSO',
    'mta.conf(5), sendmail(8)',
  ].join('\n');
  const pages = {
    'mta.8': page({ name: 'mta', section: 8, summary: 'mta \\- mail transfer agent: SMTP in, Maildir and an on-disk queue, relay out', body: mta }),
    'mta.conf.5': page({
      name: 'mta.conf',
      section: 5,
      summary: 'mta.conf \\- configuration file of the mta mail server',
      body: `.SH DESCRIPTION\n${markdownToRoff(read('docs/configuration.md'))}\n.SH SEE ALSO\nmta(8), sendmail(8)`,
    }),
    'sendmail.8': page({
      name: 'sendmail',
      section: 8,
      summary: 'sendmail, mailq, newaliases \\- submit mail to mta, list its queue, check its aliases',
      body: `.SH SYNOPSIS\n${markdownToRoff(read('docs/sendmail.md'))}`,
    }),
  };
  for (const [file, text] of Object.entries(pages)) writeFileSync(path.join(outDir, file), text);
  return Object.keys(pages);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const outDir = process.argv[2];
  if (!outDir) throw new Error('usage: node scripts/man.mjs OUTDIR');
  writeManPages(outDir);
}
