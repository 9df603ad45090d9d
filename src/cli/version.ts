// The program's version: injected by the esbuild bundle, read from package.json otherwise (tests).
import { readFileSync } from 'node:fs';
import path from 'node:path';

declare const MTA_VERSION: string | undefined;

function fromPackage(): string {
  const pkg = JSON.parse(readFileSync(path.resolve(__dirname, '../../package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/** The version printed by `mta --version` and logged at start-up. */
export const VERSION: string = typeof MTA_VERSION === 'string' ? MTA_VERSION : fromPackage();
