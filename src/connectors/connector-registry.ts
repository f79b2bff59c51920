import { SALESFORCE } from './salesforce/salesforce.module.js';
import { SAP } from './sap/sap.module.js';
import { SERVICENOW } from './servicenow/servicenow.module.js';

/**
 * The systems of record, in precedence order (when two fill the same field, the earlier wins).
 * A new system is one folder (config, client, query, mapper, connector, module with its
 * registration) and one line here; its settings, limits, chart values and webhook path follow.
 */
export const CONNECTOR_REGISTRY = [SALESFORCE, SAP, SERVICENOW] as const;

/** The names of the registered systems (e.g. the webhook paths the service accepts). */
export function sourcesOf(registry: ReadonlyArray<{ readonly source: string }>): string[] {
  return registry.map((r) => r.source);
}
