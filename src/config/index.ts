// config/: libconfig tree -> frozen, typed Config. The public face of the folder for cli/.

export type * from './types.js';
export { ConfigError, formatProblem, type ConfigProblem } from './errors.js';
export { validateConfig } from './validate.js';
export { defaultConfig, loadConfig, parseConfig } from './load.js';
export { SCHEMA, schemaRows, type Schema, type Setting } from './schema.js';
