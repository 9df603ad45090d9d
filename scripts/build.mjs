// Bundles the program into one CommonJS file, dist/mta.cjs, runnable with Node 24 and no node_modules.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

await build({
  entryPoints: ['src/cli/main.ts'],
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'cjs',
  outfile: 'dist/mta.cjs',
  banner: { js: '#!/usr/bin/env node' },
  define: { MTA_VERSION: JSON.stringify(pkg.version) },
  logLevel: 'warning',
});
