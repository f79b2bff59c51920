import { loadConfig } from './load-config.js';
import type { AppConfig } from './app-config.js';

/** The one place in the service that reads `process.env`. */
export function loadConfigFromProcess(): AppConfig {
  return loadConfig(process.env);
}
