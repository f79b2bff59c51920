import type { Environment } from './load-config.js';

/** The one place in the service that reads `process.env`. */
export function processEnv(): Environment {
  return process.env;
}
